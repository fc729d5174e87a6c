//! The API objects of the init phases after wait-control-plane: a snapshot of every `api/`
//! file for every valid fixture (with a fixed fake token), checks written from
//! kubeadm's API objects, and strict validation of every object against the
//! Kubernetes 1.31 schemas with `kubernetes-validate` (installed by `tests/setup.sh`; the
//! test fails, never skips, without it).

use base64::Engine;
use kbc::config::{Cluster, Source};
use kbc::netutil::join_host_port;
use kbc::render::addons;
use kbc::render::api::{self, ApiInput, Token};
use serde_json::Value;
use std::process::Command;

const FAKE_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBfakefakefakefakefakefakefakefakefakefakefakefakefakefakefake\n-----END CERTIFICATE-----\n";
const FAKE_ID: &str = "abcdef";
const FAKE_SECRET: &str = "0123456789abcdef";

use crate::fixtures;
use fixtures::{load as load_source, root, source};

fn fixture(name: &str) -> (Cluster, Source) {
    let src = source(&root().join("fixtures").join(name));
    (load_source(&src), src)
}

/// A v1beta4 config from an InitConfiguration body and a ClusterConfiguration body.
fn inline(init: &str, cluster: &str) -> Cluster {
    let text = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: node-1\n  criSocket: unix:///run/containerd/containerd.sock\nlocalAPIEndpoint:\n  advertiseAddress: 192.0.2.10\n{init}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\n{cluster}\n"
    );
    load_source(&Source {
        name: "inline.yaml".into(),
        text,
    })
}

/// The fixed fake tokens: `abcdef.0123456789abcdef` for the first entry, `abcde<i>` after.
fn fake_tokens(c: &Cluster) -> Vec<Token> {
    c.init
        .bootstrap_tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let id = if i == 0 {
                FAKE_ID.to_string()
            } else {
                format!("abcde{i}")
            };
            Token::from_config(t, &id, FAKE_SECRET)
        })
        .collect()
}

/// admin.conf's server: the control-plane endpoint, else the local endpoint.
fn server(c: &Cluster) -> String {
    let hostport = c
        .control_plane_endpoint
        .clone()
        .unwrap_or_else(|| join_host_port(&c.advertise_address.to_string(), c.bind_port));
    format!("https://{hostport}")
}

/// Everything `api_files` needs, owned.
struct Inputs {
    tokens: Vec<Token>,
    server: String,
    user_kubelet: bool,
    user_proxy: bool,
}

impl Inputs {
    fn new(c: &Cluster, text: &str) -> Inputs {
        Inputs {
            tokens: fake_tokens(c),
            server: server(c),
            user_kubelet: text.contains("kind: KubeletConfiguration"),
            user_proxy: text.contains("kind: KubeProxyConfiguration"),
        }
    }

    fn api<'a>(&'a self, c: &'a Cluster) -> ApiInput<'a> {
        ApiInput {
            cluster: c,
            tokens: &self.tokens,
            ca_cert_pem: FAKE_CA,
            server: &self.server,
            kubelet_user_supplied: self.user_kubelet,
            kube_proxy_user_supplied: self.user_proxy,
        }
    }
}

fn objects(c: &Cluster) -> Vec<api::PhaseObjects> {
    let inputs = Inputs::new(c, "");
    api::api_objects(&inputs.api(c))
}

/// The objects of the file whose name contains `stem`.
fn file_objects(c: &Cluster, stem: &str) -> Vec<Value> {
    objects(c)
        .into_iter()
        .find(|p| p.name.contains(stem))
        .unwrap_or_else(|| panic!("no file {stem}"))
        .objects
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn b64(s: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// `kind/namespace/name` of every object of a file, in order.
fn ids(objs: &[Value]) -> Vec<String> {
    objs.iter()
        .map(|o| {
            let m = &o["metadata"];
            match m["namespace"].as_str() {
                Some(ns) => format!(
                    "{}/{ns}/{}",
                    o["kind"].as_str().unwrap(),
                    m["name"].as_str().unwrap()
                ),
                None => format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    m["name"].as_str().unwrap()
                ),
            }
        })
        .collect()
}

#[test]
fn valid_fixtures_api_files() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let src = source(path);
        let c = load_source(&src);
        let inputs = Inputs::new(&c, &src.text);
        let files = api::api_files(&inputs.api(&c));
        for f in &files {
            assert_eq!(f.secret, f.name.contains("bootstrap-token"), "{}", f.name);
            if f.secret {
                // The snapshot holds the fake token only.
                assert!(f
                    .yaml
                    .contains(&base64::engine::general_purpose::STANDARD.encode(FAKE_SECRET)));
            }
            let stem = f.name.trim_start_matches("api/").trim_end_matches(".yaml");
            insta::with_settings!({ description => src.text.clone(), omit_expression => true }, {
                insta::assert_snapshot!(stem, f.yaml);
            });
        }
    });
}

#[test]
fn files_and_objects_in_kubeadm_order() {
    let c = inline("", "");
    let all = objects(&c);
    let names: Vec<(&str, &str)> = all.iter().map(|p| (p.name.as_str(), p.phase)).collect();
    assert_eq!(
        names,
        [
            ("api/00-cluster-admins.yaml", "cluster-admins"),
            ("api/10-upload-config-kubeadm.yaml", "upload-config/kubeadm"),
            ("api/20-upload-config-kubelet.yaml", "upload-config/kubelet"),
            ("api/40-bootstrap-token.yaml", "bootstrap-token"),
            ("api/50-cluster-info.yaml", "bootstrap-token"),
            ("api/70-addon-coredns.yaml", "addon/coredns"),
            ("api/80-addon-kube-proxy.yaml", "addon/kube-proxy"),
        ]
    );
    let got: Vec<Vec<String>> = all.iter().map(|p| ids(&p.objects)).collect();
    let want: [&[&str]; 7] = [
        &["ClusterRoleBinding/kubeadm:cluster-admins"],
        &[
            "ConfigMap/kube-system/kubeadm-config",
            "Role/kube-system/kubeadm:nodes-kubeadm-config",
            "RoleBinding/kube-system/kubeadm:nodes-kubeadm-config",
        ],
        &[
            "ConfigMap/kube-system/kubelet-config",
            "Role/kube-system/kubeadm:kubelet-config",
            "RoleBinding/kube-system/kubeadm:kubelet-config",
        ],
        &[
            "Secret/kube-system/bootstrap-token-abcdef",
            "ClusterRole/kubeadm:get-nodes",
            "ClusterRoleBinding/kubeadm:get-nodes",
            "ClusterRoleBinding/kubeadm:kubelet-bootstrap",
            "ClusterRoleBinding/kubeadm:node-autoapprove-bootstrap",
            "ClusterRoleBinding/kubeadm:node-autoapprove-certificate-rotation",
        ],
        &[
            "ConfigMap/kube-public/cluster-info",
            "Role/kube-public/kubeadm:bootstrap-signer-clusterinfo",
            "RoleBinding/kube-public/kubeadm:bootstrap-signer-clusterinfo",
        ],
        &[
            "ConfigMap/kube-system/coredns",
            "ClusterRole/system:coredns",
            "ClusterRoleBinding/system:coredns",
            "ServiceAccount/kube-system/coredns",
            "Deployment/kube-system/coredns",
            "Service/kube-system/kube-dns",
        ],
        &[
            "ConfigMap/kube-system/kube-proxy",
            "DaemonSet/kube-system/kube-proxy",
            "ServiceAccount/kube-system/kube-proxy",
            "ClusterRoleBinding/kubeadm:node-proxier",
            "Role/kube-system/kube-proxy",
            "RoleBinding/kube-system/kube-proxy",
        ],
    ];
    assert_eq!(
        got,
        want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    );
}

#[test]
fn yaml_files_are_the_objects_joined() {
    let (c, src) = fixture("component-configs.yaml");
    let inputs = Inputs::new(&c, &src.text);
    let input = inputs.api(&c);
    let files = api::api_files(&input);
    let objs = api::api_objects(&input);
    assert_eq!(files.len(), objs.len());
    for (f, o) in files.iter().zip(&objs) {
        let docs: Vec<Value> = f
            .yaml
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str(d).unwrap())
            .collect();
        assert_eq!(docs, o.objects, "{}", f.name);
        assert!(f.yaml.ends_with('\n') && !f.yaml.starts_with("---"));
    }
    // Deterministic.
    assert_eq!(files, api::api_files(&input));
}

#[test]
fn cluster_admins_binding() {
    let objs = file_objects(&inline("", ""), "cluster-admins");
    assert_eq!(
        objs[0],
        serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kubeadm:cluster-admins"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kubeadm:cluster-admins"}],
        })
    );
}

#[test]
fn kubeadm_config_holds_the_v1beta4_cluster_configuration() {
    let c = inline("", "");
    let objs = file_objects(&c, "upload-config-kubeadm");
    let cm = find(&objs, "ConfigMap", "kubeadm-config");
    let data = cm["data"].as_object().unwrap();
    assert_eq!(data.len(), 1);
    // The observed default form.
    assert_eq!(
        data["ClusterConfiguration"],
        "apiServer: {}\napiVersion: kubeadm.k8s.io/v1beta4\ncaCertificateValidityPeriod: 87600h0m0s\ncertificateValidityPeriod: 8760h0m0s\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrollerManager: {}\ndns: {}\nencryptionAlgorithm: RSA-2048\netcd:\n  local:\n    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\nnetworking:\n  dnsDomain: cluster.local\n  serviceSubnet: 10.96.0.0/12\nproxy: {}\nscheduler: {}\n"
    );
    assert!(cm["metadata"].get("annotations").is_none());
    // A v1beta3 file is stored as v1beta4.
    let (c, _) = fixture("v1beta3.yaml");
    let objs = file_objects(&c, "upload-config-kubeadm");
    let stored = find(&objs, "ConfigMap", "kubeadm-config")["data"]["ClusterConfiguration"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stored.contains("apiVersion: kubeadm.k8s.io/v1beta4\n"),
        "{stored}"
    );
    assert!(stored.contains("kubernetesVersion: v1.30.5\n"), "{stored}");
    assert!(!stored.contains("bootstrapTokens") && !stored.contains("nodeRegistration"));
    let rb = find(&objs, "RoleBinding", "kubeadm:nodes-kubeadm-config");
    let subjects: Vec<&str> = rb["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "system:bootstrappers:kubeadm:default-node-token",
            "system:nodes"
        ]
    );
}

#[test]
fn kubelet_config_map_key_content_and_hash() {
    let c = inline("", "");
    let objs = file_objects(&c, "upload-config-kubelet");
    let cm = find(&objs, "ConfigMap", "kubelet-config");
    let kubelet = cm["data"]["kubelet"].as_str().unwrap();
    assert_eq!(cm["data"].as_object().unwrap().len(), 1);
    assert_eq!(kubelet, kbc::yaml::ser::to_yaml(&c.kubelet));
    assert!(kubelet.starts_with("apiVersion: kubelet.config.k8s.io/v1beta1\n"));
    assert!(kubelet.contains("\nkind: KubeletConfiguration\n"));
    let hash = cm["metadata"]["annotations"]["kubeadm.kubernetes.io/component-config.hash"]
        .as_str()
        .unwrap();
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(kubelet.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha256sum runs");
    let want = String::from_utf8(out.stdout).unwrap();
    assert_eq!(hash, format!("sha256:{}", &want[..64]));
    let rb = find(&objs, "RoleBinding", "kubeadm:kubelet-config");
    let subjects: Vec<&str> = rb["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "system:nodes",
            "system:bootstrappers:kubeadm:default-node-token"
        ]
    );
}

#[test]
fn user_supplied_component_configs_are_not_signed() {
    let (c, src) = fixture("component-configs.yaml");
    let inputs = Inputs::new(&c, &src.text);
    assert!(inputs.user_kubelet && inputs.user_proxy);
    let objs = api::api_objects(&inputs.api(&c));
    for (stem, name) in [
        ("upload-config-kubelet", "kubelet-config"),
        ("addon-kube-proxy", "kube-proxy"),
    ] {
        let p = objs.iter().find(|p| p.name.contains(stem)).unwrap();
        let cm = find(&p.objects, "ConfigMap", name);
        assert!(cm["metadata"].get("annotations").is_none(), "{name}");
    }
}

#[test]
fn token_secret_has_no_ttl_expiration() {
    let c = inline("", "");
    let objs = file_objects(&c, "bootstrap-token");
    let s = find(&objs, "Secret", "bootstrap-token-abcdef");
    assert_eq!(s["type"], "bootstrap.kubernetes.io/token");
    assert_eq!(s["metadata"]["namespace"], "kube-system");
    let data = s["data"].as_object().unwrap();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "auth-extra-groups",
            "token-id",
            "token-secret",
            "usage-bootstrap-authentication",
            "usage-bootstrap-signing",
        ]
    );
    assert!(!data.contains_key("expiration"));
    assert_eq!(b64(&data["token-id"]), FAKE_ID);
    assert_eq!(b64(&data["token-secret"]), FAKE_SECRET);
    assert_eq!(b64(&data["usage-bootstrap-signing"]), "true");
    assert_eq!(
        b64(&data["auth-extra-groups"]),
        "system:bootstrappers:kubeadm:default-node-token"
    );
    // The default token's TTL is for the applier.
    let tokens = fake_tokens(&c);
    assert_eq!(
        tokens[0].ttl_at_apply(),
        Some(kbc::config::duration::Duration::from_hours(24))
    );
}

#[test]
fn token_secret_keeps_explicit_expires_and_description() {
    let c = inline(
        "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  description: a worker token\n  expires: \"2030-01-02T05:04:05+02:00\"\n  usages: [authentication]\n  groups: [system:bootstrappers:a, system:bootstrappers:b]\n- token: bbbbbb.0123456789abcdef\n  ttl: 0s",
        "",
    );
    let objs = file_objects(&c, "bootstrap-token");
    let first = find(&objs, "Secret", "bootstrap-token-abcdef")["data"].clone();
    assert_eq!(b64(&first["expiration"]), "2030-01-02T03:04:05Z");
    assert_eq!(b64(&first["description"]), "a worker token");
    assert_eq!(
        b64(&first["auth-extra-groups"]),
        "system:bootstrappers:a,system:bootstrappers:b"
    );
    assert!(first.get("usage-bootstrap-signing").is_none());
    // Both tokens, in config order, before the RBAC objects.
    let tokens = fake_tokens(&c);
    assert_eq!(tokens[0].ttl_at_apply(), None);
    assert_eq!(tokens[1].ttl_at_apply(), None);
    assert_eq!(objs[0]["metadata"]["name"], "bootstrap-token-abcdef");
    assert_eq!(objs[1]["metadata"]["name"], "bootstrap-token-abcde1");
    assert!(objs[1]["data"].get("expiration").is_none());
    assert_eq!(objs[2]["kind"], "ClusterRole");
}

#[test]
fn cluster_info_kubeconfig_has_server_and_ca() {
    let (c, _) = fixture("component-configs.yaml");
    let objs = file_objects(&c, "cluster-info");
    let cm = find(&objs, "ConfigMap", "cluster-info");
    assert_eq!(cm["metadata"]["namespace"], "kube-public");
    let data = cm["data"].as_object().unwrap();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(keys, ["kubeconfig"], "no jws-kubeconfig-* keys");
    let kubeconfig = data["kubeconfig"].as_str().unwrap();
    let ca = base64::engine::general_purpose::STANDARD.encode(FAKE_CA);
    assert_eq!(
        kubeconfig,
        format!("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: https://[fd00::10]:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {{}}\nusers: null\n")
    );
    let parsed: Value = serde_saphyr::from_str(kubeconfig).unwrap();
    assert_eq!(
        b64(&parsed["clusters"][0]["cluster"]["certificate-authority-data"]),
        FAKE_CA
    );
    // Without an endpoint: the local advertise address and port.
    let objs = file_objects(&inline("", ""), "cluster-info");
    let kc = find(&objs, "ConfigMap", "cluster-info")["data"]["kubeconfig"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(kc.contains("    server: https://192.0.2.10:6443\n"), "{kc}");
    let rb = find(&objs, "RoleBinding", "kubeadm:bootstrap-signer-clusterinfo");
    assert_eq!(
        rb["subjects"],
        serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}])
    );
    let role = find(&objs, "Role", "kubeadm:bootstrap-signer-clusterinfo");
    assert_eq!(
        role["rules"][0]["resourceNames"],
        serde_json::json!(["cluster-info"])
    );
}

fn kube_dns(c: &Cluster) -> Value {
    find(&file_objects(c, "coredns"), "Service", "kube-dns").clone()
}

#[test]
fn kube_dns_cluster_ip_is_the_tenth_address() {
    let svc = kube_dns(&inline("", ""));
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10");
    assert_eq!(svc["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    assert!(svc["metadata"].get("resourceVersion").is_none());
    let svc = kube_dns(&inline("", "networking:\n  serviceSubnet: 10.100.0.0/16"));
    assert_eq!(svc["spec"]["clusterIP"], "10.100.0.10");
    let svc = kube_dns(&inline(
        "",
        "networking:\n  serviceSubnet: fd00:10:96::/112",
    ));
    assert_eq!(svc["spec"]["clusterIP"], "fd00:10:96::a");
    assert_eq!(svc["spec"]["ipFamilies"], serde_json::json!(["IPv6"]));
    assert_eq!(svc["spec"]["ipFamilyPolicy"], "SingleStack");
}

#[test]
fn kube_dns_is_single_stack_on_dual_stack() {
    let (c, _) = fixture("dual-stack.yaml");
    let svc = kube_dns(&c);
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10");
    assert_eq!(svc["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(svc["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    // The same address the kubelet resolves through.
    assert_eq!(c.kubelet.cluster_dns, Some(vec!["10.96.0.10".to_string()]));
}

fn coredns_image(c: &Cluster) -> String {
    let d = find(&file_objects(c, "coredns"), "Deployment", "coredns").clone();
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn coredns_images() {
    assert_eq!(
        coredns_image(&inline("", "")),
        "registry.k8s.io/coredns/coredns:v1.11.3"
    );
    let (c, _) = fixture("custom-registry.yaml");
    assert_eq!(
        coredns_image(&c),
        "registry.internal:5000/dns/coredns:v1.11.3-patched"
    );
    // A custom imageRepository has no `coredns/` level.
    assert_eq!(
        coredns_image(&inline("", "imageRepository: mirror.example.com/k8s")),
        "mirror.example.com/k8s/coredns:v1.11.3"
    );
    // And the image is among `kbc config images list`.
    assert!(c.images().contains(&coredns_image(&c)));
}

#[test]
fn coredns_deployment_and_corefile_as_kubeadm() {
    let c = inline("", "networking:\n  dnsDomain: corp.example");
    let objs = file_objects(&c, "coredns");
    let d = find(&objs, "Deployment", "coredns");
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["dnsPolicy"], "Default");
    assert_eq!(pod["priorityClassName"], "system-cluster-critical");
    assert_eq!(
        pod["tolerations"][1],
        serde_json::json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    );
    let ctr = &pod["containers"][0];
    assert_eq!(
        ctr["args"],
        serde_json::json!(["-conf", "/etc/coredns/Corefile"])
    );
    assert_eq!(ctr["ports"].as_array().unwrap().len(), 3);
    assert_eq!(ctr["readinessProbe"]["httpGet"]["port"], 8181);
    let corefile = find(&objs, "ConfigMap", "coredns")["data"]["Corefile"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(corefile.starts_with(".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n"));
    assert!(corefile.contains("    kubernetes corp.example in-addr.arpa ip6.arpa {\n"));
    assert!(corefile.contains("    cache 30\n    loop\n"));
    assert!(corefile.ends_with("    loadbalance\n}\n"));
    let crb = find(&objs, "ClusterRoleBinding", "system:coredns");
    assert_eq!(
        crb["subjects"],
        serde_json::json!([{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}])
    );
}

#[test]
fn kube_proxy_config_map_as_kubeadm_template() {
    let (c, src) = fixture("component-configs.yaml");
    let inputs = Inputs::new(&c, &src.text);
    let input = inputs.api(&c);
    let objs = api::api_objects(&input)
        .into_iter()
        .find(|p| p.phase == "addon/kube-proxy")
        .unwrap()
        .objects;
    let cm = find(&objs, "ConfigMap", "kube-proxy");
    assert_eq!(
        cm["metadata"]["labels"],
        serde_json::json!({"app": "kube-proxy"})
    );
    let config = cm["data"]["config.conf"].as_str().unwrap();
    let want = addons::kube_proxy_config_yaml(input.cluster);
    assert_eq!(config, want.trim_end_matches('\n'));
    assert!(config.contains("\nmode: ipvs\n"));
    assert_eq!(
        cm["data"]["kubeconfig.conf"],
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://[fd00::10]:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    namespace: default\n    user: default\n  name: default\ncurrent-context: default\nusers:\n- name: default\n  user:\n    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token"
    );
    let ds = find(&objs, "DaemonSet", "kube-proxy");
    let ctr = &ds["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(ctr["image"], "registry.k8s.io/kube-proxy:v1.31.2");
    assert_eq!(
        ctr["command"],
        serde_json::json!([
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
            "--hostname-override=$(NODE_NAME)"
        ])
    );
    assert_eq!(
        ctr["env"].as_array().unwrap().len(),
        1,
        "no proxy variables"
    );
    // Signed when kubeadm generated the config: sha256(config.conf ‖ kubeconfig.conf).
    let c = inline("", "");
    let objs = file_objects(&c, "kube-proxy");
    let cm = find(&objs, "ConfigMap", "kube-proxy");
    assert!(
        cm["metadata"]["annotations"]["kubeadm.kubernetes.io/component-config.hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let crb = find(&objs, "ClusterRoleBinding", "kubeadm:node-proxier");
    assert_eq!(crb["roleRef"]["name"], "system:node-proxier");
    let rb = find(&objs, "RoleBinding", "kube-proxy");
    assert_eq!(
        rb["subjects"],
        serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}])
    );
}

#[test]
fn disabled_addons_and_skipped_phases_omit_files() {
    // feature-gates.yaml: dns.disabled, and addon/kube-proxy skipped.
    let (c, _) = fixture("feature-gates.yaml");
    let names: Vec<String> = objects(&c).into_iter().map(|p| p.name).collect();
    assert!(!names.iter().any(|n| n.contains("addon")), "{names:?}");
    assert_eq!(names.len(), 5);
    let c = inline("", "proxy:\n  disabled: true");
    let names: Vec<String> = objects(&c).into_iter().map(|p| p.name).collect();
    assert!(names.contains(&"api/70-addon-coredns.yaml".to_string()));
    assert!(!names.contains(&"api/80-addon-kube-proxy.yaml".to_string()));
    let c = inline(
        "skipPhases:\n- upload-config\n- addon/coredns\n- bootstrap-token",
        "",
    );
    let names: Vec<String> = objects(&c).into_iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        ["api/00-cluster-admins.yaml", "api/80-addon-kube-proxy.yaml"]
    );
}

#[test]
fn node_patch_labels_taints_and_cri_socket() {
    let p = api::node_patch(&inline("", ""));
    assert_eq!(
        p.labels.keys().collect::<Vec<_>>(),
        [
            "node-role.kubernetes.io/control-plane",
            "node.kubernetes.io/exclude-from-external-load-balancers"
        ]
    );
    assert!(p.labels.values().all(String::is_empty));
    assert_eq!(p.taints.len(), 1);
    assert_eq!(p.taints[0].key, "node-role.kubernetes.io/control-plane");
    assert_eq!(p.taints[0].effect, "NoSchedule");
    assert_eq!(
        p.annotations["kubeadm.alpha.kubernetes.io/cri-socket"],
        "unix:///run/containerd/containerd.sock"
    );
    // `taints: []` means none.
    let (c, _) = fixture("feature-gates.yaml");
    assert!(api::node_patch(&c).taints.is_empty());
    // A v1beta3 socket path is stored as a URL.
    let (c, _) = fixture("v1beta3.yaml");
    assert_eq!(
        api::node_patch(&c).annotations["kubeadm.alpha.kubernetes.io/cri-socket"],
        "unix:///run/containerd/containerd.sock"
    );
    let p = api::node_patch(&inline("skipPhases:\n- mark-control-plane", ""));
    assert!(p.labels.is_empty() && p.taints.is_empty());
    assert_eq!(p.annotations.len(), 1);
}

/// Runs `kubernetes-validate --strict -k 1.31.0` on every object of every valid fixture and of
/// a few inline variants. Fails if the tool is missing: `tests/setup.sh` installs it.
#[test]
fn every_object_validates_strictly_against_kubernetes_1_31() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let mut clusters: Vec<(String, Cluster, String)> = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        let src = source(&path);
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        clusters.push((stem, load_source(&src), src.text));
    }
    clusters.push((
        "ipv6-expires".into(),
        inline(
            "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  expires: \"2030-01-02T03:04:05Z\"\n  description: x",
            "networking:\n  serviceSubnet: fd00:10:96::/112",
        ),
        String::new(),
    ));
    for (stem, c, text) in &clusters {
        let inputs = Inputs::new(c, text);
        for p in api::api_objects(&inputs.api(c)) {
            for (i, o) in p.objects.iter().enumerate() {
                let file = p.name.trim_start_matches("api/").trim_end_matches(".yaml");
                let path = dir.path().join(format!("{stem}--{file}--{i}.yaml"));
                std::fs::write(&path, kbc::yaml::ser::value_to_yaml(o)).unwrap();
                paths.push(path);
            }
        }
    }
    assert!(paths.len() > 100, "{}", paths.len());
    crate::common::kubernetes_validate(&paths);
}

/// The validator the tests rely on refuses what kube-apiserver would: an unknown field under
/// strict validation (so a passing run above means something).
#[test]
#[should_panic(expected = "kubernetes-validate failed")]
fn the_validator_refuses_an_unknown_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nkubeadmWasHere: true\n",
    )
    .unwrap();
    crate::common::kubernetes_validate(&[bad]);
}
