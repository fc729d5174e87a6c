//! The compiler and the applier together: kbc-apply runs a bundle made by `kbc compile`
//! (`fixtures/bundles/single-node.tgz`, kept byte-identical to the compiler by
//! `tests/fixture_bundles.rs`) against the in-process HTTPS API server
//! (`tests/apply_support/server.rs`) whose TLS identity is the bundle's own
//! `apiserver.crt`/`apiserver.key`, with client certificates required and verified against
//! the bundle's `ca.crt`. Checked: every phase line, the objects the server ends up holding,
//! the request sequence (an insta snapshot named for the bundle), a second run that changes
//! nothing, kubelet-finalize and reset on the compiled files, admin.conf forbidden until
//! `kubeadm:cluster-admins` exists (super-admin.conf fallback) with injected faults, a dry
//! run, and a client certificate from another bundle (`other-cluster.tgz`, another seed)
//! refused at the TLS layer. The fake node passes preflight without ignored checks; the
//! kubelet's health endpoint is a local stand-in (`--kubelet-healthz`), as port 10248 is
//! not ours to take on a shared machine.

use crate::apply_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use apply_support::server::{ApiServer, Faults, Identity};
use apply_support::{kubelet_healthz, Host, Run};
use base64::Engine as _;
use kbc_apply::client::{ApiClient, ApiError, ApiRequest, Endpoint, ObjectRef};
use kbc_bundle::VerifiedBundle;
use serde_json::{json, Value};

const SINGLE_NODE: &str = "fixtures/bundles/single-node.tgz";
const OTHER_CLUSTER: &str = "fixtures/bundles/other-cluster.tgz";
/// A name the bundle's apiserver.crt holds (the server listens on 127.0.0.1).
const SERVER_NAME: &str = "kubernetes";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A committed fixture bundle, verified: its path and contents.
fn fixture(rel: &str) -> (PathBuf, VerifiedBundle) {
    let path = repo().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let verified = kbc_bundle::verify(&bytes, None).unwrap_or_else(|e| panic!("{rel}: {e}"));
    (path, verified)
}

fn file<'a>(b: &'a VerifiedBundle, path: &str) -> &'a [u8] {
    &b.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("the bundle has no {path}"))
        .data
}

fn text(b: &VerifiedBundle, path: &str) -> String {
    String::from_utf8(file(b, path).to_vec()).unwrap()
}

/// The objects of a multi-document YAML file of the bundle, parsed here (not by the
/// applier).
fn objects(b: &VerifiedBundle, path: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text(b, path)).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn secret_text(obj: &Value, key: &str) -> String {
    let v = obj["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no data.{key} in {obj}"));
    String::from_utf8(unb64(v)).unwrap()
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

/// `kbc-apply BUNDLE --root ROOT --api-server URL --tls-server-name kubernetes
/// --kubelet-healthz URL ARGS`, the fake systemctl through `KBC_SYSTEMCTL`.
fn apply(host: &Host, bundle: &Path, api: &str, kubelet_port: u16, args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(bundle)
        .arg("--root")
        .arg(host.root())
        .args(["--api-server", api, "--tls-server-name", SERVER_NAME])
        .arg("--kubelet-healthz")
        .arg(format!("http://127.0.0.1:{kubelet_port}/healthz"))
        .args(args)
        .env("KBC_SYSTEMCTL", host.systemctl())
        .output()
        .expect("run kbc-apply");
    Run::from(o)
}

/// The `<phase>: <outcome>` lines: the plan's phases, `install` and the
/// `cluster-admins` pseudo-phase.
fn phase_lines(run: &Run, plan: &kbc_bundle::apply::ApplyPlan) -> Vec<String> {
    let mut names = plan.phases.clone();
    names.extend(["install".to_string(), "cluster-admins".to_string()]);
    run.stdout
        .lines()
        .filter(|l| names.iter().any(|n| l.starts_with(&format!("{n}: "))))
        .map(str::to_string)
        .collect()
}

/// An object without what the server adds.
fn without_server_fields(obj: &Value) -> Value {
    let mut o = obj.clone();
    let meta = o["metadata"].as_object_mut().unwrap();
    meta.remove("uid");
    meta.remove("resourceVersion");
    o
}

/// The top-level fields (and `data` keys) that differ, for short failure messages.
fn differing(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["<not objects>".into()];
    };
    for k in a.keys().chain(b.keys()) {
        if a.get(k) != b.get(k) && !out.contains(k) {
            out.push(k.clone());
        }
    }
    out
}

fn contains_placeholder(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("kbc:uid-of:"),
        Value::Array(a) => a.iter().any(contains_placeholder),
        Value::Object(m) => m.values().any(contains_placeholder),
        _ => false,
    }
}

#[test]
fn a_compiled_bundle_applies_end_to_end_then_a_second_run_is_unchanged() {
    let (path, b) = fixture(SINGLE_NODE);
    let plan = b.manifest.apply_plan().unwrap();
    let server = ApiServer::start_with(&Identity::of_bundle(&b), Faults::default());
    let kubelet = kubelet_healthz(0);
    let host = Host::new();

    let before = now_secs();
    let run = apply(&host, &path, &server.url(), kubelet, &[]);
    let after = now_secs();
    run.ok();
    assert_eq!(
        phase_lines(&run, &plan),
        vec![
            "preflight: unchanged",
            "install: changed",
            "kubelet-start: changed",
            "wait-control-plane: unchanged",
            "cluster-admins: changed",
            "upload-config/kubeadm: changed",
            "upload-config/kubelet: changed",
            "upload-certs: changed",
            "mark-control-plane: changed",
            "bootstrap-token: changed",
            "kubelet-finalize/enable-client-cert-rotation: skipped: /var/lib/kubelet/pki/kubelet-client-current.pem does not exist (client certificate rotation is off)",
            "addon/coredns: changed",
            "addon/kube-proxy: changed",
            "show-join-command: unchanged",
        ],
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.starts_with(&format!("verify: ok {} ", b.digest)),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&text(&b, "join/commands.txt")),
        "{}",
        run.stdout
    );
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

    // The files: every rootfs/ entry at its path with its mode and content; nothing else
    // of the bundle (api/, join/, images.txt) lands on the host.
    let tree = host.tree();
    for f in b.files.iter() {
        match f.path.strip_prefix("rootfs/") {
            Some(rel) => assert_eq!(
                tree.get(rel),
                Some(&format!(
                    "100{:o} {}",
                    f.mode,
                    kbc_bundle::sha256_hex(&f.data)
                )),
                "{rel}"
            ),
            None => assert!(
                !tree.keys().any(|k| k.ends_with(&f.path)),
                "{} installed",
                f.path
            ),
        }
    }
    let join_script = b
        .files
        .iter()
        .find(|f| f.path == "join/join-worker.sh")
        .unwrap();
    assert_eq!(join_script.mode, 0o700);

    // Every object of every API file is on the server as the bundle has it (stringData
    // folded, token expirations and owner uids added, nothing else changed); the
    // upload-certs owner placeholder resolved everywhere.
    for f in &plan.api_files {
        for obj in objects(&b, &f.path) {
            let at = apply_support::server::object_path(&obj)
                .unwrap_or_else(|| panic!("{}: no path for {obj}", f.path));
            let held = server
                .object(&at)
                .unwrap_or_else(|| panic!("{at} ({}) not on the server", f.path));
            assert!(!contains_placeholder(&held), "{at}: {held}");
            let mut expect = obj.clone();
            let mut got = without_server_fields(&held);
            if obj["kind"] == "Secret" {
                got["data"].as_object_mut().unwrap().remove("expiration");
                for o in [&mut expect, &mut got] {
                    o["metadata"]
                        .as_object_mut()
                        .unwrap()
                        .remove("ownerReferences");
                }
                // The server's default for a Secret without a type.
                if obj.get("type").is_none() {
                    assert_eq!(got["type"], "Opaque", "{at}");
                    got.as_object_mut().unwrap().remove("type");
                }
            }
            assert!(
                got == expect,
                "{at} ({}): the server holds something else; differing fields: {:?}",
                f.path,
                differing(&got, &expect)
            );
        }
    }
    let cm = server
        .object("/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
        .unwrap();
    let bundle_cm = objects(&b, "api/10-upload-config-kubeadm.yaml")
        .into_iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "kubeadm-config")
        .unwrap();
    assert_eq!(cm["data"], bundle_cm["data"]);
    assert!(cm["data"]["ClusterConfiguration"]
        .as_str()
        .unwrap()
        .contains("- cp-1.example.com\n"));

    // Bootstrap tokens: expiration = apply time + TTL (24 h; the upload-certs proxy 2 h).
    assert_eq!(plan.bootstrap_tokens.len(), 2);
    for t in &plan.bootstrap_tokens {
        let ttl = t.ttl_seconds.unwrap();
        let secret = server
            .object(&format!(
                "/api/v1/namespaces/kube-system/secrets/{}",
                t.secret_name
            ))
            .unwrap();
        let exp = parse_rfc3339(&secret_text(&secret, "expiration"));
        assert!(
            exp >= before + ttl && exp <= after + ttl,
            "{}: {exp} not in [{}, {}]",
            t.secret_name,
            before + ttl,
            after + ttl
        );
        assert_eq!(secret["type"], "bootstrap.kubernetes.io/token");
    }
    let join_token = &plan.bootstrap_tokens[0];
    assert_eq!(join_token.ttl_seconds, Some(86_400));
    let token = server
        .object(&format!(
            "/api/v1/namespaces/kube-system/secrets/{}",
            join_token.secret_name
        ))
        .unwrap();
    let id = secret_text(&token, "token-id");
    assert_eq!(join_token.secret_name, format!("bootstrap-token-{id}"));
    assert!(
        text(&b, "join/commands.txt").contains(&format!("--token {id}.")),
        "the join command uses the token the server holds"
    );

    // kubeadm-certs is owned by the upload-certs proxy token, by the uid the server gave it.
    let certs = server
        .object("/api/v1/namespaces/kube-system/secrets/kubeadm-certs")
        .unwrap();
    let proxy_name = certs["metadata"]["ownerReferences"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let proxy_ttl = plan
        .bootstrap_tokens
        .iter()
        .find(|t| t.secret_name == proxy_name)
        .and_then(|t| t.ttl_seconds);
    assert_eq!(proxy_ttl, Some(7200), "{proxy_name}");
    let proxy = server
        .object(&format!(
            "/api/v1/namespaces/kube-system/secrets/{proxy_name}"
        ))
        .unwrap();
    assert!(proxy["metadata"]["uid"]
        .as_str()
        .is_some_and(|u| !u.is_empty()));
    assert_eq!(
        certs["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "Secret", "name": proxy_name,
                "uid": proxy["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
    );

    // The Node: the plan's labels and CRI annotation, its taint first, the kubelet's kept.
    let node = server
        .object(&format!("/api/v1/nodes/{}", plan.node.name))
        .unwrap();
    for (k, v) in &plan.node.labels {
        assert_eq!(node["metadata"]["labels"][k], json!(v), "label {k}");
    }
    assert_eq!(
        node["metadata"]["labels"]["kubernetes.io/hostname"],
        json!(plan.node.name)
    );
    assert_eq!(
        node["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"],
        "unix:///var/run/containerd/containerd.sock"
    );
    assert_eq!(
        node["spec"]["taints"],
        json!([{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
               {"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"}])
    );

    // The request sequence, named for the fixture bundle; every apply is server-side.
    insta::assert_snapshot!("single-node_first_run_requests", request_lines(&server));
    for r in server.requests().iter().filter(|r| r.method == "PATCH") {
        if r.path.contains("/nodes/") {
            assert_eq!(
                r.content_type.as_deref(),
                Some("application/strategic-merge-patch+json")
            );
        } else {
            assert!(r.path.ends_with("?fieldManager=kbc&force=true"), "{r:?}");
            assert_eq!(
                r.content_type.as_deref(),
                Some("application/apply-patch+yaml")
            );
        }
    }

    // A second run: every phase unchanged (or skipped for the same reason), reads only,
    // the server's objects untouched (token expirations kept), the kubelet left alone.
    server.clear_requests();
    let held_before: BTreeMap<String, Value> = server
        .paths()
        .into_iter()
        .map(|p| (p.clone(), server.object(&p).unwrap()))
        .collect();
    let run2 = apply(&host, &path, &server.url(), kubelet, &[]);
    run2.ok();
    let lines2 = phase_lines(&run2, &plan);
    assert_eq!(lines2.len(), 14, "{}", run2.stdout);
    for line in &lines2 {
        assert!(
            line.ends_with(": unchanged")
                || line.starts_with("kubelet-finalize/enable-client-cert-rotation: skipped: "),
            "{line}\n{}",
            run2.stdout
        );
    }
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "{}",
        request_lines(&server)
    );
    let held_after: BTreeMap<String, Value> = server
        .paths()
        .into_iter()
        .map(|p| (p.clone(), server.object(&p).unwrap()))
        .collect();
    assert_eq!(held_before, held_after);
    assert_eq!(host.tree(), tree);
    assert_eq!(
        &host.systemctl_calls()[5..],
        ["is-enabled --quiet kubelet", "is-active --quiet kubelet"]
    );

    // The kubelet rotates its client certificate: a third run points the compiled
    // kubelet.conf at it (and restarts the kubelet); a fourth changes nothing, install
    // accepting the finalized kubelet.conf.
    host.put(
        "var/lib/kubelet/pki/kubelet-client-current.pem",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        0o600,
    );
    let run3 = apply(&host, &path, &server.url(), kubelet, &[]);
    run3.ok();
    for line in phase_lines(&run3, &plan) {
        let finalize = line.starts_with("kubelet-finalize/");
        assert!(
            line.ends_with(if finalize { ": changed" } else { ": unchanged" }),
            "{line}\n{}",
            run3.stdout
        );
    }
    let conf: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(host.root().join("etc/kubernetes/kubelet.conf")).unwrap(),
    )
    .unwrap();
    let user = &conf["users"][0]["user"];
    assert_eq!(conf["users"].as_array().unwrap().len(), 1);
    assert_eq!(
        user["client-certificate"],
        "/var/lib/kubelet/pki/kubelet-client-current.pem"
    );
    assert_eq!(
        user["client-key"],
        "/var/lib/kubelet/pki/kubelet-client-current.pem"
    );
    assert!(user.get("client-certificate-data").is_none());
    assert_eq!(
        host.systemctl_calls().last().map(String::as_str),
        Some("restart kubelet")
    );
    let run4 = apply(&host, &path, &server.url(), kubelet, &[]);
    run4.ok();
    let lines4 = phase_lines(&run4, &plan);
    assert_eq!(lines4.len(), 14);
    assert!(
        lines4.iter().all(|l| l.ends_with(": unchanged")),
        "{}",
        run4.stdout
    );

    // reset removes every file the bundle installed (the finalized kubelet.conf included).
    let o = Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg("reset")
        .arg(&path)
        .arg("--root")
        .arg(host.root())
        .output()
        .unwrap();
    Run::from(o).ok();
    let left = host.tree();
    for f in &b.files {
        if let Some(rel) = f.path.strip_prefix("rootfs/") {
            assert!(!left.contains_key(rel), "{rel} left after reset");
        }
    }
    assert!(left.contains_key("var/lib/kubelet/pki/kubelet-client-current.pem"));
}

/// admin.conf's client certificate from a compiled bundle, PEM.
fn admin_client_pem(b: &VerifiedBundle) -> String {
    let conf = text(b, "rootfs/etc/kubernetes/admin.conf");
    let data = conf
        .lines()
        .find_map(|l| l.trim().strip_prefix("client-certificate-data: "))
        .unwrap();
    String::from_utf8(unb64(data)).unwrap()
}

#[test]
fn on_a_fresh_cluster_admin_conf_is_forbidden_until_cluster_admins_exists() {
    // As on a real cluster: admin.conf's identity (group kubeadm:cluster-admins) has no
    // rights until the binding exists; kbc-apply creates it with super-admin.conf
    // (system:masters), then goes on with admin.conf. Faults on top still converge.
    let (path, b) = fixture(SINGLE_NODE);
    let plan = b.manifest.apply_plan().unwrap();
    let server = ApiServer::start_with(
        &Identity::of_bundle(&b),
        Faults {
            refuse_for: Duration::from_millis(800),
            status_500: 2,
            status_429: 2,
            node_after_gets: 3,
            node_conflicts: 1,
            forbid_until_cluster_admins: Some(admin_client_pem(&b)),
            ..Faults::default()
        },
    );
    let kubelet = kubelet_healthz(2);
    let host = Host::new();
    let run = apply(&host, &path, &server.url(), kubelet, &[]);
    run.ok();
    let lines = phase_lines(&run, &plan);
    assert_eq!(lines.len(), 14, "{}", run.stdout);
    assert_eq!(lines[4], "cluster-admins: changed");
    let requests = server.requests();
    let binding = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins";
    let patches: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(binding))
        .collect();
    assert!(
        patches.iter().any(|r| !r.restricted_identity),
        "the binding was applied with super-admin.conf"
    );
    let after: Vec<_> = requests
        .iter()
        .skip_while(|r| !r.path.starts_with(binding) || r.method != "PATCH")
        .skip_while(|r| r.path.starts_with(binding))
        .collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|r| r.restricted_identity),
        "everything after the binding uses admin.conf"
    );
    assert!(server.object(binding).is_some());
    assert!(server
        .object("/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy")
        .is_some());
    let node = server
        .object(&format!("/api/v1/nodes/{}", plan.node.name))
        .unwrap();
    assert_eq!(
        node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"],
        ""
    );
    let run2 = apply(&host, &path, &server.url(), kubelet, &[]);
    run2.ok();
    assert_eq!(
        phase_lines(&run2, &plan)
            .iter()
            .filter(|l| !l.ends_with(": unchanged") && !l.contains(": skipped: "))
            .count(),
        0,
        "{}",
        run2.stdout
    );
}

#[test]
fn a_dry_run_of_the_compiled_bundle_polls_its_kubelet_endpoint_and_sends_nothing() {
    let (path, b) = fixture(SINGLE_NODE);
    let server = ApiServer::start_with(&Identity::of_bundle(&b), Faults::default());
    let host = Host::new();
    let o = Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(&path)
        .arg("--root")
        .arg(host.root())
        .args(["--api-server", &server.url(), "--dry-run"])
        .env("KBC_SYSTEMCTL", host.systemctl())
        .output()
        .unwrap();
    let run = Run::from(o);
    run.ok();
    // The kubelet endpoint of the bundle's KubeletConfiguration (the e2e run overrides it).
    assert!(
        run.stdout
            .contains("would poll GET http://127.0.0.1:10248/healthz until HTTP 200 (up to 240 s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "would send GET /api/v1/namespaces/kube-system/secrets/bootstrap-token-8ujfx1 for its uid"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("would send PATCH /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins?fieldManager=kbc&force=true (application/apply-patch+yaml)"),
        "{}",
        run.stdout
    );
    assert!(server.requests().is_empty());
    assert!(host.tree().keys().all(|k| !k.starts_with("etc")));
    // Only the read-only queries of kubelet-start.
    assert_eq!(
        host.systemctl_calls(),
        ["is-enabled --quiet kubelet", "is-active --quiet kubelet"]
    );
}

/// `admin.conf` of `b` with its client certificate and key replaced by `client`'s.
fn admin_conf_with_client_of(b: &VerifiedBundle, client: &VerifiedBundle) -> String {
    let user_field = |conf: &str, key: &str| {
        conf.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key}"))
            .to_string()
    };
    let ours = text(b, "rootfs/etc/kubernetes/admin.conf");
    let theirs = text(client, "rootfs/etc/kubernetes/admin.conf");
    let mut conf = ours.clone();
    for key in ["client-certificate-data", "client-key-data"] {
        let (a, t) = (user_field(&ours, key), user_field(&theirs, key));
        assert_ne!(a, t, "{key}: the two bundles must differ");
        conf = conf.replace(&a, &t);
    }
    // Still the first bundle's CA: the client trusts the server; only its identity is
    // foreign.
    assert_eq!(
        user_field(&conf, "certificate-authority-data"),
        b64(file(b, "rootfs/etc/kubernetes/pki/ca.crt"))
    );
    conf
}

#[test]
fn a_client_certificate_from_another_bundle_is_rejected_at_the_tls_layer() {
    let (path, b) = fixture(SINGLE_NODE);
    let (other_path, other) = fixture(OTHER_CLUSTER);
    assert_ne!(
        file(&b, "rootfs/etc/kubernetes/pki/ca.crt"),
        file(&other, "rootfs/etc/kubernetes/pki/ca.crt")
    );
    let server = ApiServer::start_with(&Identity::of_bundle(&b), Faults::default());
    let host = Host::new();
    host.put(
        "etc/kubernetes/admin.conf",
        &admin_conf_with_client_of(&b, &other),
        0o600,
    );
    let plan = b.manifest.apply_plan().unwrap();

    // The bundle's own admin.conf gets through.
    host.put(
        "own-admin.conf",
        &text(&b, "rootfs/etc/kubernetes/admin.conf"),
        0o600,
    );
    let endpoint = Endpoint::new(&plan.api_server, Some(&server.url()), Some(SERVER_NAME)).unwrap();
    let own = ApiClient::from_kubeconfig(
        &host.root().join("own-admin.conf"),
        &host.root(),
        &endpoint,
        Duration::from_secs(5),
    )
    .unwrap();
    let res = own
        .send(&ApiRequest::get(&ObjectRef::node(&plan.node.name)))
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(server.tls_failures.load(Ordering::SeqCst), 0);
    server.clear_requests();

    // The other bundle's client certificate: refused in the handshake, never retried, no
    // HTTP request recorded.
    let foreign = ApiClient::from_kubeconfig(
        &host.root().join("etc/kubernetes/admin.conf"),
        &host.root(),
        &endpoint,
        Duration::from_secs(20),
    )
    .unwrap();
    let err = foreign
        .send(&ApiRequest::get(&ObjectRef::node(&plan.node.name)))
        .expect_err("the server must refuse the certificate");
    // Fatal, not GaveUp: one handshake, no retry.
    assert!(matches!(err, ApiError::Fatal { .. }), "{err:?}");
    assert_eq!(server.tls_failures.load(Ordering::SeqCst), 1);
    // The server's own reason: the client certificate does not verify against ca.crt
    // (both CAs are named "kubernetes"; the signature is what fails).
    let errors = server.tls_errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("invalid peer certificate") && e.contains("BadSignature")),
        "{errors:?}"
    );
    assert!(server.requests().is_empty(), "{}", request_lines(&server));

    // Through the command: with that admin.conf on the node (install skipped), the first
    // API phase fails (exit 2) and nothing reaches the HTTP layer.
    let failures = server.tls_failures.load(Ordering::SeqCst);
    let run = apply(
        &host,
        &path,
        &server.url(),
        1,
        &[
            "--skip-phases",
            "preflight,install,kubelet-start,wait-control-plane",
        ],
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    // The server refused the certificate in the handshake (an alert to the client).
    assert!(
        run.stderr.contains("received fatal alert"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error execution phase cluster-admins"),
        "{}",
        run.stderr
    );
    assert!(server.tls_failures.load(Ordering::SeqCst) > failures);
    assert!(server.requests().is_empty(), "{}", request_lines(&server));

    // The other bundle as a whole: its admin.conf does not trust this server either (the
    // client refuses the server's certificate); nothing is sent, nothing installed.
    let host2 = Host::new();
    host2.put(
        "etc/kubernetes/admin.conf",
        &text(&other, "rootfs/etc/kubernetes/admin.conf"),
        0o600,
    );
    let run = apply(
        &host2,
        &other_path,
        &server.url(),
        1,
        &[
            "--skip-phases",
            "preflight,install,kubelet-start,wait-control-plane",
        ],
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    // Here the client refuses the server: its CA did not sign this apiserver.crt.
    assert!(
        run.stderr.contains("invalid peer certificate"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty(), "{}", request_lines(&server));
}
