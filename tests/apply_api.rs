//! kbc-apply's full run against the in-process HTTPS API server (`tests/apply_support`):
//! the request sequence of a sample bundle (insta snapshot), a second run that reports
//! every phase unchanged, injected faults that still converge, a client certificate from
//! another CA refused at the TLS layer, `--dry-run` that sends nothing, a rejected object
//! named in the error, kubelet-finalize and `--skip-phases`.

use crate::apply_support;

use std::time::{Duration, SystemTime};

use apply_support::server::{ApiServer, Faults};
use apply_support::{bundle, bundle_with_kubelet, kubelet_healthz, sample_plan, Host, Pki, NODE};
use base64::Engine as _;
use kbc_apply::client::{ApiClient, ApiError, ApiRequest, Endpoint, ObjectRef};
use serde_json::{json, Value};

fn request_lines(server: &ApiServer) -> String {
    server
        .requests()
        .iter()
        .map(|r| match &r.content_type {
            Some(ct) => format!("{} {} {ct}\n", r.method, r.path),
            None => format!("{} {}\n", r.method, r.path),
        })
        .collect()
}

fn secret_field(obj: &Value, key: &str) -> String {
    let b64 = obj["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no data.{key} in {obj}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

/// Seconds since the epoch of an RFC 3339 UTC time such as `2026-11-25T15:04:05Z`.
fn parse_rfc3339(s: &str) -> u64 {
    assert!(s.ends_with('Z'), "not UTC: {s}");
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("not RFC 3339: {s}: {e}"))
        .unix_timestamp() as u64
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn full_run_request_sequence_then_a_second_run_is_unchanged() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(&pki, Faults::default());

    let before = now_secs();
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    let after = now_secs();
    assert_eq!(
        run.phase_lines(&plan),
        vec![
            "preflight: unchanged",
            "install: changed",
            "kubelet-start: changed",
            "wait-control-plane: unchanged",
            "upload-config/kubeadm: changed",
            "upload-config/kubelet: changed",
            "upload-certs: changed",
            "mark-control-plane: changed",
            "bootstrap-token: changed",
            "kubelet-finalize: skipped: /var/lib/kubelet/pki/kubelet-client-current.pem does not exist (client certificate rotation is off)",
            "addon/coredns: changed",
            "addon/kube-proxy: skipped: the bundle has no API objects for this phase",
            "show-join-command: unchanged",
        ],
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef"));
    assert!(run
        .stdout
        .contains("[wait-control-plane] waiting for kube-apiserver"));
    insta::assert_snapshot!("apply_first_run_requests", request_lines(&server));
    assert_eq!(
        host.systemctl_calls(),
        vec![
            "is-enabled --quiet kubelet",
            "is-active --quiet kubelet",
            "daemon-reload",
            "enable kubelet",
            "restart kubelet"
        ]
    );

    // Every apply is a server-side apply of the object as the bundle has it.
    for r in server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && !r.path.contains("/nodes/"))
    {
        assert!(r.path.ends_with("?fieldManager=kbc&force=true"), "{r:?}");
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
    }

    // Token expirations: apply time + TTL, RFC 3339 UTC; stringData folded into data.
    for (name, ttl) in [
        ("bootstrap-token-abcdef", 86400),
        ("bootstrap-token-pr0xy1", 7200),
    ] {
        let secret = server
            .object(&format!("/api/v1/namespaces/kube-system/secrets/{name}"))
            .unwrap();
        assert!(secret.get("stringData").is_none());
        let exp = parse_rfc3339(&secret_field(&secret, "expiration"));
        assert!(
            exp >= before + ttl && exp <= after + ttl,
            "{name}: {exp} not in [{}, {}]",
            before + ttl,
            after + ttl
        );
    }
    let token = server
        .object("/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef")
        .unwrap();
    assert_eq!(secret_field(&token, "usage-bootstrap-signing"), "true");

    // kubeadm-certs is owned by the proxy token, by uid.
    let proxy = server
        .object("/api/v1/namespaces/kube-system/secrets/bootstrap-token-pr0xy1")
        .unwrap();
    let certs = server
        .object("/api/v1/namespaces/kube-system/secrets/kubeadm-certs")
        .unwrap();
    assert_eq!(
        certs["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-pr0xy1",
                "uid": proxy["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
    );

    // The Node: labels, the CRI annotation, the configured taint first, the kubelet's kept.
    let node = server.object(&format!("/api/v1/nodes/{NODE}")).unwrap();
    assert_eq!(
        node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"],
        ""
    );
    assert_eq!(
        node["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"],
        ""
    );
    assert_eq!(node["metadata"]["labels"]["kubernetes.io/os"], "linux");
    assert_eq!(
        node["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"],
        "unix:///var/run/containerd/containerd.sock"
    );
    assert_eq!(
        node["spec"]["taints"],
        json!([{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
               {"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"}])
    );

    // Second run: every phase unchanged (or skipped for the same reasons), reads only.
    server.clear_requests();
    let objects_before: Vec<Value> = server
        .paths()
        .iter()
        .map(|p| server.object(p).unwrap())
        .collect();
    let run2 = host.run(&b, Some(&server.url()), &[]);
    run2.ok();
    for line in run2.phase_lines(&plan) {
        assert!(
            line.ends_with(": unchanged") || line.contains(": skipped: "),
            "{line}\n{}",
            run2.stdout
        );
    }
    assert_eq!(run2.phase_lines(&plan).len(), 13);
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "{}",
        request_lines(&server)
    );
    let objects_after: Vec<Value> = server
        .paths()
        .iter()
        .map(|p| server.object(p).unwrap())
        .collect();
    assert_eq!(objects_before, objects_after);
    assert_eq!(
        host.systemctl_calls().len(),
        7,
        "{:?}",
        host.systemctl_calls()
    );
}

#[test]
fn injected_faults_still_converge() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(
        &pki,
        Faults {
            refuse_for: Duration::from_millis(600),
            status_500: 3,
            status_429: 2,
            slow: Duration::from_millis(5),
            node_after_gets: 3,
            node_conflicts: 1,
            reject_path: None,
            forbid_until_cluster_admins: None,
            client_cert_optional: false,
        },
    );
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    assert!(
        run.stdout
            .contains("waiting up to 20 s for the kubelet to register Node \"cp-1\""),
        "{}",
        run.stdout
    );
    let node = server.object(&format!("/api/v1/nodes/{NODE}")).unwrap();
    assert_eq!(
        node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"],
        ""
    );
    for path in [
        "/api/v1/namespaces/kube-system/configmaps/kubeadm-config",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins",
        "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
        "/api/v1/namespaces/kube-public/configmaps/cluster-info",
    ] {
        assert!(server.object(path).is_some(), "{path} missing");
    }
    // Faults consumed: the 500s and 429s were answered, then retried.
    let statuses = server.requests().len();
    assert!(statuses > 20);
    let run2 = host.run(&b, Some(&server.url()), &[]);
    run2.ok();
    for line in run2.phase_lines(&plan) {
        assert!(
            line.ends_with(": unchanged") || line.contains(": skipped: "),
            "{line}"
        );
    }
}

#[test]
fn a_client_certificate_from_another_ca_is_refused_at_the_tls_layer() {
    let pki = Pki::new("kubernetes");
    let other = Pki::new("another-cluster");
    let server = ApiServer::start(&pki, Faults::default());
    let host = Host::new();
    let conf = apply_support::kubeconfig(
        "https://10.0.0.10:6443",
        &pki.ca_crt,
        "kubernetes-admin",
        &other.admin_crt,
        &other.admin_key,
    );
    host.put("etc/kubernetes/admin.conf", &conf, 0o600);
    let endpoint = Endpoint::new("https://10.0.0.10:6443", Some(&server.url()), None).unwrap();
    let client = ApiClient::from_kubeconfig(
        &host.root().join("etc/kubernetes/admin.conf"),
        &host.root(),
        &endpoint,
        Duration::from_secs(20),
    )
    .unwrap();
    let err = client
        .send(&ApiRequest::get(&ObjectRef::node(NODE)))
        .expect_err("the server must refuse the certificate");
    // A TLS refusal is not retried: Fatal (not GaveUp), after one handshake.
    assert!(matches!(err, ApiError::Fatal { .. }), "{err:?}");
    assert_eq!(
        server
            .tls_failures
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(server.requests().is_empty(), "no HTTP request got through");

    // The same through the command: the run stops in its first API phase, exit 2.
    let mut plan = sample_plan();
    plan.wait.components.clear();
    plan.wait.kubernetes_api_call_seconds = 3;
    let b = host.write_bundle(&bundle(&pki, &other, &plan));
    std::fs::remove_file(host.root().join("etc/kubernetes/admin.conf")).unwrap();
    let run = host.run(&b, Some(&server.url()), &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("error execution phase upload-config/kubeadm"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("install: changed"), "{}", run.stderr);
    assert!(server.requests().is_empty());
}

#[test]
fn the_tls_server_name_can_be_overridden() {
    let pki = Pki::new("kubernetes");
    let server = ApiServer::start(&pki, Faults::default());
    let host = Host::new();
    let conf = apply_support::kubeconfig(
        "https://10.0.0.10:6443",
        &pki.ca_crt,
        "kubernetes-admin",
        &pki.admin_crt,
        &pki.admin_key,
    );
    host.put("admin.conf", &conf, 0o600);
    for (name, ok) in [
        (Some("kubernetes"), true),
        (Some("localhost"), true),
        (Some("not-in-the-cert"), false),
    ] {
        let endpoint = Endpoint::new("https://10.0.0.10:6443", Some(&server.url()), name).unwrap();
        let client = ApiClient::from_kubeconfig(
            &host.root().join("admin.conf"),
            &host.root(),
            &endpoint,
            Duration::from_secs(5),
        )
        .unwrap();
        let res = client.send(&ApiRequest::get(&ObjectRef::node(NODE)));
        assert_eq!(res.is_ok(), ok, "{name:?}: {res:?}");
    }
}

#[test]
fn the_command_connects_with_api_server_and_tls_server_name() {
    let pki = Pki::new("kubernetes");
    let server = ApiServer::start(&pki, Faults::default());
    let mut plan = sample_plan();
    plan.phases = vec!["upload-config/kubelet".into()];
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let run = host.run(
        &b,
        Some(&server.url()),
        &["--tls-server-name", "kubernetes"],
    );
    run.ok();
    assert!(
        run.stdout.contains("upload-config/kubelet: changed"),
        "{}",
        run.stdout
    );
    // A name the certificate does not hold is refused, and not retried.
    let run = host.run(
        &b,
        Some(&server.url()),
        &["--tls-server-name", "wrong.example"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not retried") && run.stderr.contains("caused by"),
        "{}",
        run.stderr
    );
    // A malformed --api-server is a usage error before anything happens.
    let run = host.run(&b, Some("http://127.0.0.1:1"), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("expected https://HOST[:PORT]"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_apply_without_the_apply_content_type_gets_415() {
    let pki = Pki::new("kubernetes");
    let server = ApiServer::start(&pki, Faults::default());
    let host = Host::new();
    let conf = apply_support::kubeconfig(
        "https://10.0.0.10:6443",
        &pki.ca_crt,
        "kubernetes-admin",
        &pki.admin_crt,
        &pki.admin_key,
    );
    host.put("admin.conf", &conf, 0o600);
    let endpoint = Endpoint::new("https://10.0.0.10:6443", Some(&server.url()), None).unwrap();
    let client = ApiClient::from_kubeconfig(
        &host.root().join("admin.conf"),
        &host.root(),
        &endpoint,
        Duration::from_secs(5),
    )
    .unwrap();
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "kube-system"}});
    let oref = ObjectRef::of(&obj).unwrap();
    let mut req = ApiRequest::apply(&oref, &obj);
    req.content_type = Some("application/merge-patch+json");
    let err = client.send(&req).unwrap().success(&req).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ConfigMap kube-system/x") && text.contains("415"),
        "{text}"
    );
    let ok = ApiRequest::apply(&oref, &obj);
    assert_eq!(client.send(&ok).unwrap().status, 201);
}

#[test]
fn a_rejected_object_is_named_and_the_run_exits_2_listing_what_was_done() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(
        &pki,
        Faults {
            reject_path: Some("configmaps/kubeadm-config".into()),
            ..Faults::default()
        },
    );
    let run = host.run(&b, Some(&server.url()), &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    for needle in [
        "error execution phase upload-config/kubeadm",
        "phases done before the failure",
        "install: changed",
        "kubelet-start: changed",
        "ConfigMap kube-system/kubeadm-config",
        "422",
        "injected: data.ClusterConfiguration: Invalid value",
    ] {
        assert!(
            run.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            run.stderr
        );
    }
    // Not retried: one PATCH of it.
    let patches = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("kubeadm-config"))
        .count();
    assert_eq!(patches, 1);

    // Resumable: once the server accepts it, running again completes.
    server.set_faults(Faults::default());
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    assert!(run.stdout.contains("install: unchanged"), "{}", run.stdout);
    assert!(
        run.stdout.contains("kubelet-start: unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("upload-config/kubeadm: changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("addon/coredns: changed"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_cluster_admins_binding_falls_back_to_super_admin_conf() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(
        &pki,
        Faults {
            forbid_until_cluster_admins: Some(pki.admin_crt.clone()),
            ..Faults::default()
        },
    );
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    let requests = server.requests();
    let binding: Vec<_> = requests
        .iter()
        .filter(|r| {
            r.path
                .contains("clusterrolebindings/kubeadm:cluster-admins")
        })
        .map(|r| (r.method.as_str(), r.restricted_identity))
        .collect();
    // admin.conf is forbidden, super-admin.conf creates the binding.
    assert_eq!(
        binding,
        vec![
            ("GET", true),
            ("GET", false),
            ("PATCH", true),
            ("PATCH", false)
        ]
    );
    // Everything after it is done with admin.conf.
    let after = requests
        .iter()
        .skip_while(|r| !r.path.contains("kubeadm-config"))
        .collect::<Vec<_>>();
    assert!(!after.is_empty() && after.iter().all(|r| r.restricted_identity));
}

#[test]
fn dry_run_prints_every_action_and_sends_nothing() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(&pki, Faults::default());
    let tree = host.tree();
    let run = host.run(&b, Some(&server.url()), &["--dry-run"]);
    run.ok();
    assert!(server.requests().is_empty(), "{}", request_lines(&server));
    assert_eq!(host.tree(), tree, "dry run changed the root");
    let calls = host.systemctl_calls();
    assert!(calls.iter().all(|c| c.starts_with("is-")), "{calls:?}");
    for needle in [
        "would create ",
        "etc/kubernetes/admin.conf mode=0600 sha256=",
        "would run ",
        "systemctl daemon-reload",
        "would poll GET https://10.0.0.10:6443/livez",
        "would send PATCH /api/v1/namespaces/kube-system/configmaps/kubeadm-config?fieldManager=kbc&force=true (application/apply-patch+yaml)",
        "would send PATCH /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins?fieldManager=kbc&force=true (application/apply-patch+yaml)",
        "would send GET /api/v1/namespaces/kube-system/secrets/bootstrap-token-pr0xy1 for its uid",
        "would send PATCH /api/v1/nodes/cp-1?fieldManager=kbc (application/strategic-merge-patch+json)",
        "upload-config/kubeadm: skipped: dry run",
    ] {
        assert!(run.stdout.contains(needle), "{needle:?} not in:\n{}", run.stdout);
    }
}

#[test]
fn kubelet_finalize_points_kubelet_conf_at_the_rotated_certificate() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(&pki, Faults::default());
    host.run(&b, Some(&server.url()), &[]).ok();
    host.put(
        "var/lib/kubelet/pki/kubelet-client-current.pem",
        "cert and key",
        0o600,
    );
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    assert!(
        run.stdout.contains("kubelet-finalize: changed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("install: unchanged"), "{}", run.stdout);
    let conf = std::fs::read_to_string(host.root().join("etc/kubernetes/kubelet.conf")).unwrap();
    assert!(!conf.contains("client-key-data"), "{conf}");
    assert_eq!(
        conf.matches("/var/lib/kubelet/pki/kubelet-client-current.pem")
            .count(),
        2,
        "{conf}"
    );
    assert!(host.systemctl_calls().last().unwrap() == "restart kubelet");
    // kubectl reads the rewritten file (tests/setup.sh installs kubectl).
    let view = std::process::Command::new("kubectl")
        .args([
            "config",
            "view",
            "-o",
            "jsonpath={.users[0].user.client-certificate}",
            "--kubeconfig",
        ])
        .arg(host.root().join("etc/kubernetes/kubelet.conf"))
        .output()
        .expect("run kubectl");
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&view.stdout),
        "/var/lib/kubelet/pki/kubelet-client-current.pem"
    );
    // Afterwards: unchanged, and install accepts the finalized kubelet.conf.
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    for line in run.phase_lines(&plan) {
        assert!(
            line.ends_with(": unchanged") || line.contains(": skipped: "),
            "{line}"
        );
    }
}

#[test]
fn skip_phases_uses_kubeadm_names_and_parents() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(&pki, Faults::default());
    let run = host.run(
        &b,
        Some(&server.url()),
        &["--skip-phases", "addon,mark-control-plane,upload-certs"],
    );
    run.ok();
    for p in [
        "addon/coredns",
        "addon/kube-proxy",
        "mark-control-plane",
        "upload-certs",
    ] {
        assert!(
            run.stdout.contains(&format!("{p}: skipped: --skip-phases")),
            "{p}: {}",
            run.stdout
        );
    }
    assert!(server
        .requests()
        .iter()
        .all(|r| !r.path.contains("coredns") && !r.path.contains("kubeadm-certs")));
    let node = server.object(&format!("/api/v1/nodes/{NODE}")).unwrap();
    assert!(node["metadata"]["labels"]
        .get("node-role.kubernetes.io/control-plane")
        .is_none());
}

#[test]
fn wait_control_plane_waits_for_the_kubelet_then_the_api_server() {
    let pki = Pki::new("kubernetes");
    let mut plan = sample_plan();
    plan.phases = vec!["wait-control-plane".into()];
    let host = Host::new();
    let port = kubelet_healthz(3);
    let b = host.write_bundle(&bundle_with_kubelet(&pki, &pki, &plan, port));
    let server = ApiServer::start(
        &pki,
        Faults {
            refuse_for: Duration::from_millis(800),
            ..Faults::default()
        },
    );
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    let kubelet = format!("[wait-control-plane] waiting for the kubelet at http://127.0.0.1:{port}/healthz (up to 240 s)");
    let api = "[wait-control-plane] waiting for kube-apiserver at https://10.0.0.10:6443/livez (up to 20 s)";
    let (k, a) = (run.stdout.find(&kubelet), run.stdout.find(api));
    assert!(k.is_some() && a.is_some() && k < a, "{}", run.stdout);
    assert!(
        run.stdout.contains("wait-control-plane: unchanged"),
        "{}",
        run.stdout
    );

    // A kubelet that never gets healthy fails the phase after its timeout, naming it.
    let mut plan = sample_plan();
    plan.phases = vec!["wait-control-plane".into()];
    plan.wait.kubelet_health_check_seconds = 1;
    let b = host.write_bundle(&bundle_with_kubelet(
        &pki,
        &pki,
        &plan,
        kubelet_healthz(usize::MAX),
    ));
    let run = host.run(&b, Some(&server.url()), &["--force"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("error execution phase wait-control-plane"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the kubelet at http://127.0.0.1:") && run.stderr.contains("HTTP 500"),
        "{}",
        run.stderr
    );
}

#[test]
fn other_components_are_polled_without_verifying_their_certificate() {
    // WaitForAllControlPlaneComponents: the controller-manager's /healthz, served here with
    // a certificate from a CA the bundle does not know, and no client certificate asked.
    let pki = Pki::new("kubernetes");
    let foreign = Pki::new("self-signed-kcm");
    let kcm = ApiServer::start(
        &foreign,
        Faults {
            client_cert_optional: true,
            ..Faults::default()
        },
    );
    let mut plan = sample_plan();
    plan.phases = vec!["wait-control-plane".into()];
    plan.wait.components.push(kbc_bundle::apply::WaitTarget {
        name: "kube-controller-manager".into(),
        url: format!("https://127.0.0.1:{}/healthz", kcm.addr.port()),
    });
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(&pki, Faults::default());
    let run = host.run(&b, Some(&server.url()), &[]);
    run.ok();
    assert!(
        run.stdout
            .contains("[wait-control-plane] kube-controller-manager is healthy"),
        "{}",
        run.stdout
    );
}

/// Review C19-C22: `--root` is a boundary for kubelet-finalize too. With install skipped
/// (so that install's own check does not run) and `etc` a link under the root, absolute or
/// relative, the run is refused before any phase, and the kubelet.conf behind the link is
/// not rewritten.
#[test]
fn kubelet_finalize_never_writes_through_a_link_under_the_root() {
    let pki = Pki::new("kubernetes");
    let mut plan = sample_plan();
    plan.phases = vec!["kubelet-finalize".into()];
    for relative in [false, true] {
        let host = Host::new();
        let b = host.write_bundle(&bundle(&pki, &pki, &plan));
        host.run(&b, None, &[]).ok();
        host.put(
            "var/lib/kubelet/pki/kubelet-client-current.pem",
            "cert and key",
            0o600,
        );
        let outside = host.dir.path().join("elsewhere");
        std::fs::rename(host.root().join("etc"), &outside).unwrap();
        let target = if relative {
            std::path::PathBuf::from("../elsewhere")
        } else {
            outside.clone()
        };
        std::os::unix::fs::symlink(&target, host.root().join("etc")).unwrap();
        let conf = outside.join("kubernetes/kubelet.conf");
        let before = std::fs::read(&conf).unwrap();
        let calls = host.systemctl_calls().len();

        let run = host.run(&b, None, &["--skip-phases", "install"]);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("error execution phase kubelet-finalize")
                && run.stderr.contains("is a symbolic link")
                && run
                    .stderr
                    .contains(&format!("{}", host.root().join("etc").display())),
            "{}",
            run.stderr
        );
        assert!(!run.stdout.contains("preflight:"), "{}", run.stdout);
        assert_eq!(
            std::fs::read(&conf).unwrap(),
            before,
            "rewritten through the link"
        );
        assert_eq!(host.systemctl_calls().len(), calls);
    }
}

/// Review C13/C23 for the files a kubeconfig names: a FIFO or a huge file as a client key
/// is refused at once, never read (a FIFO would block forever, a huge file fill memory).
#[test]
fn a_kubeconfig_naming_a_fifo_or_a_huge_key_file_is_refused_not_read() {
    let pki = Pki::new("kubernetes");
    let mut plan = sample_plan();
    plan.phases = vec!["upload-config/kubeadm".into()];
    plan.api_files
        .retain(|f| f.phase == "upload-config/kubeadm");
    let server = ApiServer::start(&pki, Faults::default());
    type Make = fn(&std::path::Path);
    let cases: [(&str, Make); 2] = [
        ("FIFO", |p| {
            assert!(std::process::Command::new("mkfifo")
                .arg(p)
                .status()
                .unwrap()
                .success());
        }),
        ("2 MiB file", |p| {
            std::fs::write(p, vec![b'k'; 2 << 20]).unwrap()
        }),
    ];
    for (what, make) in cases {
        let host = Host::new();
        let b = host.write_bundle(&bundle(&pki, &pki, &plan));
        // admin.conf as kubeadm writes it with external files: the key by path.
        let admin = apply_support::kubeconfig(
            &server.url(),
            &pki.ca_crt,
            "kubernetes-admin",
            &pki.admin_crt,
            &pki.admin_key,
        );
        let admin = admin
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("client-key-data:") {
                    "    client-key: /etc/kubernetes/pki/admin.key".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        host.put("etc/kubernetes/admin.conf", &admin, 0o600);
        std::fs::create_dir_all(host.root().join("etc/kubernetes/pki")).unwrap();
        make(&host.root().join("etc/kubernetes/pki/admin.key"));
        let run = host
            .run_within(
                &b,
                &["--skip-phases", "install", "--api-server", &server.url()],
                Duration::from_secs(30),
            )
            .unwrap_or_else(|| panic!("{what}: kbc-apply hung reading the key file"));
        assert_ne!(run.code, 0, "{what}: {}", run.stdout);
        let needle = if what == "FIFO" {
            "not a regular file"
        } else {
            "larger than 1 MiB"
        };
        assert!(
            run.stderr.contains("etc/kubernetes/pki/admin.key") && run.stderr.contains(needle),
            "{what}: {}",
            run.stderr
        );
    }
    assert!(server.requests().is_empty());
}

/// Review C28: a temporary file that a killed run left is removed by the next run even
/// when it skips install; kubelet.conf's directory is swept as well.
#[test]
fn with_install_skipped_stale_temporary_files_are_still_removed() {
    let pki = Pki::new("kubernetes");
    let mut plan = sample_plan();
    plan.phases = vec!["kubelet-finalize".into()];
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    host.run(&b, None, &[]).ok();
    let stale = host
        .root()
        .join("etc/kubernetes/.kubelet.conf.kbc-tmp-424242-0");
    std::fs::write(&stale, "a copy of kubelet.conf").unwrap();
    let run = host.run(&b, None, &["--skip-phases", "install"]);
    run.ok();
    assert!(!stale.exists(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("removed stale temporary file {}", stale.display())),
        "{}",
        run.stdout
    );
}

/// Review D1 with two real processes: while one `apply` holds the root (stopped between
/// two phases by the phase-gate test hook, so no timing is involved), a second `install`,
/// `reset` or `apply` on the same root exits 1 naming the root and changes nothing; the
/// first then finishes normally.
#[test]
fn a_second_kbc_apply_on_a_root_in_use_exits_1_and_changes_nothing() {
    use std::io::{BufRead, BufReader, Write};
    let pki = Pki::new("kubernetes");
    let mut plan = sample_plan();
    plan.phases = vec!["preflight".into()];
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(&b)
        .arg("--root")
        .arg(host.root())
        .env("KBC_APPLY_TEST_PHASE_GATE", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut gate = first.stdin.take().unwrap();
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    // Stopped after preflight, before install: it holds the lock.
    assert!(lines.any(|l| l.unwrap() == "preflight: unchanged"));
    let before = host.tree();
    let root = host.root();
    for sub in ["install", "reset", "apply"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
            .arg(sub)
            .arg(&b)
            .arg("--root")
            .arg(&root)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{sub}: {err}");
        assert!(
            err.contains(&format!(
                "another kbc-apply is working on root \"{}\"",
                root.display()
            )),
            "{sub}: {err}"
        );
        assert_eq!(host.tree(), before, "{sub} changed the root");
    }
    gate.write_all(b"\n\n").unwrap();
    drop(gate);
    assert!(lines.any(|l| l.unwrap() == "install: changed"));
    assert!(first.wait().unwrap().success());
    assert!(root.join("etc/kubernetes/admin.conf").exists());
}

/// Review E12 for a full run: with stdout a pipe whose read end is closed, every phase
/// still runs (the API objects reach the server) and the exit code is 3, with the reason
/// on stderr, never a silent 0 or a panic.
#[test]
fn a_full_run_with_a_closed_stdout_does_the_work_and_exits_3() {
    let pki = Pki::new("kubernetes");
    let plan = sample_plan();
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let server = ApiServer::start(&pki, Faults::default());
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(&b)
        .arg("--root")
        .arg(host.root())
        .arg("--systemctl")
        .arg(host.systemctl())
        .args(["--api-server", &server.url()])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
    assert!(server
        .object("/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
        .is_some());
    assert!(host.root().join("etc/kubernetes/admin.conf").exists());
}
