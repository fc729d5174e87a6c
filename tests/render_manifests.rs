//! The control-plane static Pods: a snapshot of every manifest for every valid fixture, and
//! focused checks written from kubeadm's static Pod rules.

use kbc::config::{Cluster, Source};
use kbc::render::manifests::{self, Component, HostInputs};

use crate::fixtures;
use fixtures::{fixture, load as load_source, source};

/// A v1beta4 config from an InitConfiguration body and a ClusterConfiguration body (both
/// without apiVersion/kind).
fn inline(init: &str, cluster: &str) -> Cluster {
    let text = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: node-1\n  criSocket: unix:///run/containerd/containerd.sock\n{init}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\n{cluster}\n"
    );
    load_source(&Source {
        name: "inline.yaml".into(),
        text,
    })
}

fn simple(cluster: &str) -> Cluster {
    inline("localAPIEndpoint:\n  advertiseAddress: 192.0.2.10", cluster)
}

fn pod(c: &Cluster, component: Component) -> serde_json::Value {
    manifests::static_pod(c, &HostInputs::default(), component).expect("pod exists")
}

fn command(c: &Cluster, component: Component) -> Vec<String> {
    manifests::component_command(c, &HostInputs::default(), component)
}

fn flags<'a>(cmd: &'a [String], name: &str) -> Vec<&'a str> {
    let prefix = format!("--{name}=");
    cmd.iter().filter_map(|a| a.strip_prefix(&prefix)).collect()
}

fn container(p: &serde_json::Value) -> &serde_json::Value {
    &p["spec"]["containers"][0]
}

fn mount<'a>(p: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    container(p)["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)
}

fn volume<'a>(p: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    p["spec"]["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == name)
}

#[test]
fn valid_fixtures_manifests() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let src = source(path);
        let c = load_source(&src);
        let pods = manifests::static_pods(&c, &HostInputs::default());
        let names: Vec<&str> = pods.iter().map(|(n, _)| n.as_str()).collect();
        let mut want = vec![
            "kube-apiserver.yaml",
            "kube-controller-manager.yaml",
            "kube-scheduler.yaml",
        ];
        if c.local_etcd().is_some() {
            want.push("etcd.yaml");
        }
        assert_eq!(names, want, "{}", src.name);
        for (file, yaml) in &pods {
            let name = file.trim_end_matches(".yaml");
            insta::with_settings!({ description => src.text.clone(), omit_expression => true }, {
                insta::assert_snapshot!(name, yaml);
            });
        }
    });
}

#[test]
fn manifests_are_deterministic() {
    let c = fixture("component-configs.yaml");
    assert_eq!(
        manifests::static_pods(&c, &HostInputs::default()),
        manifests::static_pods(&c, &HostInputs::default())
    );
}

#[test]
fn default_apiserver_flags_in_kubeadm_order() {
    // The resulting order for a default config with local etcd.
    let cmd = command(&simple(""), Component::ApiServer);
    let names: Vec<&str> = cmd[1..]
        .iter()
        .map(|a| a.trim_start_matches("--").split('=').next().unwrap())
        .collect();
    assert_eq!(cmd[0], "kube-apiserver");
    assert_eq!(
        names,
        [
            "advertise-address",
            "allow-privileged",
            "authorization-mode",
            "client-ca-file",
            "enable-admission-plugins",
            "enable-bootstrap-token-auth",
            "etcd-cafile",
            "etcd-certfile",
            "etcd-keyfile",
            "etcd-servers",
            "kubelet-client-certificate",
            "kubelet-client-key",
            "kubelet-preferred-address-types",
            "proxy-client-cert-file",
            "proxy-client-key-file",
            "requestheader-allowed-names",
            "requestheader-client-ca-file",
            "requestheader-extra-headers-prefix",
            "requestheader-group-headers",
            "requestheader-username-headers",
            "secure-port",
            "service-account-issuer",
            "service-account-key-file",
            "service-account-signing-key-file",
            "service-cluster-ip-range",
            "tls-cert-file",
            "tls-private-key-file",
        ]
    );
    assert_eq!(flags(&cmd, "authorization-mode"), ["Node,RBAC"]);
    assert_eq!(flags(&cmd, "etcd-servers"), ["https://127.0.0.1:2379"]);
    assert_eq!(flags(&cmd, "enable-admission-plugins"), ["NodeRestriction"]);
    assert_eq!(
        flags(&cmd, "service-account-issuer"),
        ["https://kubernetes.default.svc.cluster.local"]
    );
}

#[test]
fn default_controller_manager_scheduler_and_etcd_flags() {
    let c = simple("networking:\n  podSubnet: 10.244.0.0/16");
    let cm = command(&c, Component::ControllerManager);
    assert_eq!(
        cm,
        [
            "kube-controller-manager",
            "--allocate-node-cidrs=true",
            "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--bind-address=127.0.0.1",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            "--cluster-cidr=10.244.0.0/16",
            "--cluster-name=kubernetes",
            "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
            "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
            "--controllers=*,bootstrapsigner,tokencleaner",
            "--kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--leader-elect=true",
            "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
            "--root-ca-file=/etc/kubernetes/pki/ca.crt",
            "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
            "--service-cluster-ip-range=10.96.0.0/12",
            "--use-service-account-credentials=true",
        ]
    );
    // Without a pod subnet none of the three CIDR flags appears.
    let cm = command(&simple(""), Component::ControllerManager);
    for name in [
        "allocate-node-cidrs",
        "cluster-cidr",
        "service-cluster-ip-range",
    ] {
        assert!(flags(&cm, name).is_empty(), "{name}: {cm:?}");
    }
    assert!(cm.iter().all(|a| !a.starts_with("--node-cidr-mask-size")));
    assert_eq!(
        command(&c, Component::Scheduler),
        [
            "kube-scheduler",
            "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
            "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
            "--bind-address=127.0.0.1",
            "--kubeconfig=/etc/kubernetes/scheduler.conf",
            "--leader-elect=true",
        ]
    );
    assert_eq!(
        command(&c, Component::Etcd),
        [
            "etcd",
            "--advertise-client-urls=https://192.0.2.10:2379",
            "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
            "--client-cert-auth=true",
            "--data-dir=/var/lib/etcd",
            "--experimental-initial-corrupt-check=true",
            "--experimental-watch-progress-notify-interval=5s",
            "--initial-advertise-peer-urls=https://192.0.2.10:2380",
            "--initial-cluster=node-1=https://192.0.2.10:2380",
            "--key-file=/etc/kubernetes/pki/etcd/server.key",
            "--listen-client-urls=https://127.0.0.1:2379,https://192.0.2.10:2379",
            "--listen-metrics-urls=http://127.0.0.1:2381",
            "--listen-peer-urls=https://192.0.2.10:2380",
            "--name=node-1",
            "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
            "--peer-client-cert-auth=true",
            "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
            "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
            "--snapshot-count=10000",
            "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        ]
    );
}

#[test]
fn user_flag_overrides_the_default_but_not_the_probe_port() {
    let c = simple(
        "apiServer:\n  extraArgs:\n  - name: secure-port\n    value: \"7443\"\n  - name: enable-admission-plugins\n    value: NodeRestriction,PodSecurity",
    );
    let cmd = command(&c, Component::ApiServer);
    assert_eq!(flags(&cmd, "secure-port"), ["7443"]);
    assert_eq!(
        flags(&cmd, "enable-admission-plugins"),
        ["NodeRestriction,PodSecurity"]
    );
    // The probe port is always the bindPort.
    let p = pod(&c, Component::ApiServer);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        assert_eq!(container(&p)[probe]["httpGet"]["port"], 6443, "{probe}");
    }
}

#[test]
fn repeated_user_flags_are_all_kept_and_sorted_by_value() {
    let c = simple(
        "apiServer:\n  extraArgs:\n  - name: service-account-issuer\n    value: https://b.example\n  - name: service-account-issuer\n    value: https://a.example\n  - name: audit-log-path\n    value: \"-\"",
    );
    let cmd = command(&c, Component::ApiServer);
    // The base issuer is gone; both user entries stay, ordered by value.
    assert_eq!(
        flags(&cmd, "service-account-issuer"),
        ["https://a.example", "https://b.example"]
    );
    let pos = |s: &str| cmd.iter().position(|a| a == s).unwrap();
    assert!(pos("--audit-log-path=-") < pos("--authorization-mode=Node,RBAC"));
    assert_eq!(
        pos("--service-account-issuer=https://a.example") + 1,
        pos("--service-account-issuer=https://b.example")
    );
}

#[test]
fn authorization_config_drops_authorization_mode() {
    let c = simple("apiServer:\n  extraArgs:\n  - name: authorization-config\n    value: /etc/kubernetes/authz.yaml");
    let cmd = command(&c, Component::ApiServer);
    assert!(flags(&cmd, "authorization-mode").is_empty(), "{cmd:?}");
    assert_eq!(
        flags(&cmd, "authorization-config"),
        ["/etc/kubernetes/authz.yaml"]
    );
    // A user authorization-mode appears verbatim.
    let c = simple(
        "apiServer:\n  extraArgs:\n  - name: authorization-mode\n    value: Node,Webhook,RBAC",
    );
    assert_eq!(
        flags(&command(&c, Component::ApiServer), "authorization-mode"),
        ["Node,Webhook,RBAC"]
    );
}

#[test]
fn dual_stack_subnets_are_passed_verbatim() {
    let c = fixture("dual-stack.yaml");
    let api = command(&c, Component::ApiServer);
    assert_eq!(
        flags(&api, "service-cluster-ip-range"),
        ["10.96.0.0/16,fd00:10:96::/112"]
    );
    let cm = command(&c, Component::ControllerManager);
    assert_eq!(
        flags(&cm, "service-cluster-ip-range"),
        ["10.96.0.0/16,fd00:10:96::/112"]
    );
    assert_eq!(
        flags(&cm, "cluster-cidr"),
        ["10.244.0.0/16,fd00:10:244::/56"]
    );
    assert_eq!(flags(&cm, "allocate-node-cidrs"), ["true"]);
    // Only the user's mask flag, none from kubeadm.
    assert_eq!(flags(&cm, "node-cidr-mask-size-ipv6"), ["64"]);
    assert!(flags(&cm, "node-cidr-mask-size").is_empty());
}

#[test]
fn external_etcd_flags_volumes_and_no_etcd_pod() {
    let c = fixture("external-etcd.yaml");
    let pods = manifests::static_pods(&c, &HostInputs::default());
    assert!(pods.iter().all(|(n, _)| n != "etcd.yaml"));
    assert_eq!(pods.len(), 3);
    assert!(manifests::static_pod(&c, &HostInputs::default(), Component::Etcd).is_none());
    assert!(command(&c, Component::Etcd).is_empty());
    let cmd = command(&c, Component::ApiServer);
    assert_eq!(
        flags(&cmd, "etcd-servers"),
        ["https://172.16.0.21:2379,https://172.16.0.22:2379,https://172.16.0.23:2379"]
    );
    assert_eq!(flags(&cmd, "etcd-cafile"), ["/etc/etcd/pki/ca.crt"]);
    assert_eq!(
        flags(&cmd, "etcd-certfile"),
        ["/etc/etcd/pki/apiserver-etcd-client.crt"]
    );
    assert_eq!(
        flags(&cmd, "etcd-keyfile"),
        ["/etc/etcd/pki/apiserver-etcd-client.key"]
    );
    // The certificate directory is mounted read-only as etcd-certs-0.
    let p = pod(&c, Component::ApiServer);
    assert_eq!(
        volume(&p, "etcd-certs-0").unwrap()["hostPath"]["path"],
        "/etc/etcd/pki"
    );
    let m = mount(&p, "etcd-certs-0").unwrap();
    assert_eq!(m["mountPath"], "/etc/etcd/pki");
    assert_eq!(m["readOnly"], true);
}

#[test]
fn external_etcd_without_files_sets_no_file_flags() {
    let c = simple(
        "etcd:\n  external:\n    endpoints: [\"https://10.0.0.5:2379\"]\n    caFile: \"\"\n    certFile: \"\"\n    keyFile: \"\"",
    );
    let cmd = command(&c, Component::ApiServer);
    assert_eq!(flags(&cmd, "etcd-servers"), ["https://10.0.0.5:2379"]);
    for name in ["etcd-cafile", "etcd-certfile", "etcd-keyfile"] {
        assert!(flags(&cmd, name).is_empty(), "{name}: {cmd:?}");
    }
}

#[test]
fn custom_registry_and_etcd_image() {
    let c = fixture("custom-registry.yaml");
    let image = |comp| {
        container(&pod(&c, comp))["image"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        image(Component::ApiServer),
        "registry.internal:5000/k8s/kube-apiserver:v1.31.2"
    );
    assert_eq!(
        image(Component::Scheduler),
        "registry.internal:5000/k8s/kube-scheduler:v1.31.2"
    );
    assert_eq!(
        image(Component::Etcd),
        "registry.internal:5000/etcd-mirror/etcd:3.5.15-0"
    );
    // imagePullPolicy of the node registration never reaches the manifests.
    assert_eq!(
        container(&pod(&c, Component::Etcd))["imagePullPolicy"],
        "IfNotPresent"
    );
    // Default etcd: the main repository and kubeadm's pin.
    let d = simple("");
    assert_eq!(
        container(&pod(&d, Component::Etcd))["image"],
        "registry.k8s.io/etcd:3.5.15-0"
    );
}

#[test]
fn extra_volumes_are_mounted_and_replace_defaults_by_name() {
    let c = fixture("component-configs.yaml");
    let p = pod(&c, Component::ApiServer);
    let audit = mount(&p, "audit").unwrap();
    assert_eq!(audit["mountPath"], "/var/log/kubernetes");
    assert!(
        audit.get("readOnly").is_none(),
        "readOnly: false is omitted"
    );
    assert_eq!(
        volume(&p, "audit").unwrap()["hostPath"],
        serde_json::json!({"path": "/var/log/kubernetes", "type": "DirectoryOrCreate"})
    );
    let policy = mount(&p, "audit-policy").unwrap();
    assert_eq!(policy["readOnly"], true);
    assert_eq!(
        volume(&p, "audit-policy").unwrap()["hostPath"]["type"],
        "File"
    );
    // Volumes and mounts are sorted by name.
    let names: Vec<&str> = p["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    // A user volume named like a default replaces it; no pathType gives `type: ""`.
    let c = simple(
        "scheduler:\n  extraVolumes:\n  - name: kubeconfig\n    hostPath: /srv/scheduler.conf\n    mountPath: /etc/kubernetes/scheduler.conf",
    );
    let p = pod(&c, Component::Scheduler);
    assert_eq!(p["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(
        volume(&p, "kubeconfig").unwrap()["hostPath"],
        serde_json::json!({"path": "/srv/scheduler.conf", "type": ""})
    );
    assert!(mount(&p, "kubeconfig").unwrap().get("readOnly").is_none());
}

#[test]
fn extra_envs_are_sorted_and_last_wins() {
    let c = simple(
        "controllerManager:\n  extraEnvs:\n  - name: ZED\n    value: \"1\"\n  - name: ALPHA\n    value: a\n  - name: ZED\n    value: \"2\"",
    );
    let cm = pod(&c, Component::ControllerManager);
    let env = &container(&cm)["env"];
    assert_eq!(
        env,
        &serde_json::json!([{"name": "ALPHA", "value": "a"}, {"name": "ZED", "value": "2"}])
    );
    // No env at all: the key is absent, and kbc adds no proxy variables.
    assert!(container(&pod(&c, Component::Scheduler))
        .get("env")
        .is_none());
}

#[test]
fn ipv6_advertise_address_probes_and_urls() {
    let c = inline(
        "localAPIEndpoint:\n  advertiseAddress: fd00::10",
        "networking:\n  serviceSubnet: fd00:96::/112\n  podSubnet: fd00:244::/56",
    );
    let api = pod(&c, Component::ApiServer);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        assert_eq!(
            container(&api)[probe]["httpGet"]["host"],
            "fd00::10",
            "{probe}"
        );
    }
    assert_eq!(
        api["metadata"]["annotations"]
            ["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"],
        "[fd00::10]:6443"
    );
    let cmd = command(&c, Component::ApiServer);
    assert_eq!(flags(&cmd, "etcd-servers"), ["https://[::1]:2379"]);
    assert_eq!(flags(&cmd, "advertise-address"), ["fd00::10"]);

    let etcd = pod(&c, Component::Etcd);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let get = &container(&etcd)[probe]["httpGet"];
        assert_eq!(get["host"], "::1", "{probe}");
        assert_eq!(get["port"], 2381);
        assert_eq!(get["scheme"], "HTTP");
    }
    assert_eq!(
        etcd["metadata"]["annotations"]["kubeadm.kubernetes.io/etcd.advertise-client-urls"],
        "https://[fd00::10]:2379"
    );
    let cmd = command(&c, Component::Etcd);
    assert_eq!(
        flags(&cmd, "listen-client-urls"),
        ["https://[::1]:2379,https://[fd00::10]:2379"]
    );
    assert_eq!(flags(&cmd, "listen-metrics-urls"), ["http://[::1]:2381"]);
    let yaml = &manifests::static_pods(&c, &HostInputs::default())[0].1;
    assert!(yaml.contains("[fd00::10]:6443"), "{yaml}");
}

#[test]
fn bind_address_and_metrics_url_move_the_probes() {
    // v1beta3 fixture: controller manager on 0.0.0.0 (probe the Pod IP: no host), etcd metrics
    // on http://0.0.0.0:2381, a 6m control-plane timeout.
    let c = fixture("v1beta3.yaml");
    let cm = pod(&c, Component::ControllerManager);
    let get = &container(&cm)["livenessProbe"]["httpGet"];
    assert!(get.get("host").is_none(), "{get}");
    assert_eq!(get["port"], 10257);
    assert_eq!(get["scheme"], "HTTPS");
    let etcd = pod(&c, Component::Etcd);
    assert_eq!(
        container(&etcd)["livenessProbe"]["httpGet"]["host"],
        "0.0.0.0"
    );
    assert_eq!(container(&etcd)["startupProbe"]["failureThreshold"], 36);
    assert_eq!(container(&cm)["startupProbe"]["failureThreshold"], 36);
    // The scheduler keeps 127.0.0.1.
    let s = pod(&c, Component::Scheduler);
    assert_eq!(
        container(&s)["livenessProbe"]["httpGet"]["host"],
        "127.0.0.1"
    );
    assert_eq!(container(&s)["livenessProbe"]["httpGet"]["port"], 10259);

    let c = simple(
        "etcd:\n  local:\n    extraArgs:\n    - name: listen-metrics-urls\n      value: https://10.0.0.1:9000,http://127.0.0.1:2381\n    - name: advertise-client-urls\n      value: https://etcd.example:2379",
    );
    let etcd = pod(&c, Component::Etcd);
    let get = &container(&etcd)["readinessProbe"]["httpGet"];
    assert_eq!(get["host"], "10.0.0.1");
    assert_eq!(get["port"], 9000);
    assert_eq!(get["scheme"], "HTTPS");
    // The API server follows a user advertise-client-urls for etcd-servers.
    assert_eq!(
        flags(&command(&c, Component::ApiServer), "etcd-servers"),
        ["https://etcd.example:2379"]
    );
}

#[test]
fn default_probes_resources_and_pod_shape() {
    let c = simple("");
    let p = pod(&c, Component::ApiServer);
    let ct = container(&p);
    assert_eq!(
        ct["livenessProbe"],
        serde_json::json!({"failureThreshold": 8, "httpGet": {"host": "192.0.2.10", "path": "/livez", "port": 6443, "scheme": "HTTPS"}, "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 15})
    );
    assert_eq!(
        ct["readinessProbe"],
        serde_json::json!({"failureThreshold": 3, "httpGet": {"host": "192.0.2.10", "path": "/readyz", "port": 6443, "scheme": "HTTPS"}, "periodSeconds": 1, "timeoutSeconds": 15})
    );
    assert_eq!(ct["startupProbe"]["failureThreshold"], 24);
    assert_eq!(ct["startupProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(
        ct["resources"],
        serde_json::json!({"requests": {"cpu": "250m"}})
    );
    assert_eq!(p["spec"]["priority"], 2000001000);
    assert_eq!(p["spec"]["priorityClassName"], "system-node-critical");
    assert_eq!(p["spec"]["hostNetwork"], true);
    assert_eq!(
        p["spec"]["securityContext"],
        serde_json::json!({"seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        p["metadata"]["labels"],
        serde_json::json!({"component": "kube-apiserver", "tier": "control-plane"})
    );
    assert!(pod(&c, Component::Scheduler)["metadata"]
        .get("annotations")
        .is_none());
    assert!(container(&pod(&c, Component::Scheduler))
        .get("readinessProbe")
        .is_none());
    let etcd = pod(&c, Component::Etcd);
    assert_eq!(
        container(&etcd)["resources"],
        serde_json::json!({"requests": {"cpu": "100m", "memory": "100Mi"}})
    );
    // etcd mounts: fixed order, read-write.
    assert_eq!(
        container(&etcd)["volumeMounts"],
        serde_json::json!([{"mountPath": "/var/lib/etcd", "name": "etcd-data"}, {"mountPath": "/etc/kubernetes/pki/etcd", "name": "etcd-certs"}])
    );
    let yaml = &manifests::static_pods(&c, &HostInputs::default())[2].1;
    assert!(yaml.contains("  creationTimestamp: null\n"), "{yaml}");
    assert!(yaml.ends_with("\nstatus: {}\n"), "{yaml}");
}

#[test]
fn controller_manager_volumes_and_flexvolume_dir() {
    let c = simple(
        "controllerManager:\n  extraArgs:\n  - name: flex-volume-plugin-dir\n    value: /opt/flex",
    );
    let p = pod(&c, Component::ControllerManager);
    let flex = mount(&p, "flexvolume-dir").unwrap();
    assert_eq!(flex["mountPath"], "/opt/flex");
    assert!(flex.get("readOnly").is_none());
    assert_eq!(
        volume(&p, "kubeconfig").unwrap()["hostPath"],
        serde_json::json!({"path": "/etc/kubernetes/controller-manager.conf", "type": "FileOrCreate"})
    );
    assert_eq!(mount(&p, "k8s-certs").unwrap()["readOnly"], true);
}

#[test]
fn ca_directories_and_external_ca_are_explicit_inputs() {
    let c = simple("");
    // Default: all five of kubeadm's candidate directories.
    let p = pod(&c, Component::ApiServer);
    for name in [
        "etc-pki-ca-trust",
        "etc-pki-tls-certs",
        "etc-ca-certificates",
        "usr-share-ca-certificates",
        "usr-local-share-ca-certificates",
    ] {
        assert_eq!(mount(&p, name).unwrap()["readOnly"], true, "{name}");
    }
    assert!(mount(&pod(&c, Component::Scheduler), "etc-ca-certificates").is_none());
    // None: only k8s-certs and ca-certs.
    let none = HostInputs {
        ca_cert_extra_dirs: vec![],
        external_ca: true,
    };
    let p = manifests::static_pod(&c, &none, Component::ApiServer).unwrap();
    assert_eq!(p["spec"]["volumes"].as_array().unwrap().len(), 2);
    let cm = manifests::component_command(&c, &none, Component::ControllerManager);
    assert_eq!(flags(&cm, "cluster-signing-cert-file"), [""]);
    assert_eq!(flags(&cm, "cluster-signing-key-file"), [""]);
}

#[test]
fn kubeadm_feature_gates_change_no_flag() {
    let c = fixture("feature-gates.yaml");
    for comp in Component::ALL {
        let cmd = command(&c, comp);
        assert!(
            cmd.iter().all(|a| !a.starts_with("--feature-gates")),
            "{cmd:?}"
        );
    }
    // bindPort 8443 reaches the flag, the probes and the annotation.
    let p = pod(&c, Component::ApiServer);
    assert_eq!(
        flags(&command(&c, Component::ApiServer), "secure-port"),
        ["8443"]
    );
    assert_eq!(container(&p)["startupProbe"]["httpGet"]["port"], 8443);
    assert_eq!(
        p["metadata"]["annotations"]
            ["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"],
        "10.0.0.42:8443"
    );
}

#[test]
fn certificates_dir_is_joined_for_flags_and_verbatim_for_volumes() {
    let c = simple("certificatesDir: /srv/pki/");
    let cmd = command(&c, Component::ApiServer);
    assert_eq!(flags(&cmd, "client-ca-file"), ["/srv/pki/ca.crt"]);
    let p = pod(&c, Component::ApiServer);
    assert_eq!(
        volume(&p, "k8s-certs").unwrap()["hostPath"]["path"],
        "/srv/pki/"
    );
    let etcd = pod(&c, Component::Etcd);
    assert_eq!(
        volume(&etcd, "etcd-certs").unwrap()["hostPath"]["path"],
        "/srv/pki//etcd"
    );
}
