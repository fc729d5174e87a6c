//! The API side of `kbc-apply NODE.tgz` for joining nodes, with bundles compiled from
//! `fixtures/cluster/ha.yaml`, against the in-process HTTPS API server
//! (tests/apply_support/server.rs) whose TLS identity is the cluster's own apiserver
//! certificate, client certificates required and verified against the cluster CA (no real
//! kube-apiserver or kubelet exists here). Checked, as kubeadm's join does it (`cmd/kubeadm/app/cmd/phases/join/kubelet.go`, `controlplanejoin.go`): the CRI-socket annotation is sent with kubelet.conf's identity, the
//! control-plane labels and taints with admin.conf's; a generic worker waits for the
//! kubelet's TLS bootstrap to write kubelet.conf, then deletes bootstrap-kubelet.conf;
//! a second run changes nothing. (etcd's side: tests/ha_etcd.rs.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::apply_support::server::{ApiServer, Faults, Identity};
use crate::apply_support::{Host, Run};

const SERVER_NAME: &str = "k8s-api.prod.internal";
const CRI: &str = "kubeadm.alpha.kubernetes.io/cri-socket";

/// The bundles of fixtures/cluster/ha.yaml, compiled once per test process (read only).
fn compiled() -> &'static Path {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ha");
        let o = Command::new(crate::ha_etcd::kbc())
            .current_dir(crate::ha_etcd::workspace())
            .args([
                "compile",
                "fixtures/cluster/ha.yaml",
                "--secrets",
                "fixtures/secrets/test-secrets.yaml",
                "--issued-at",
                "2026-11-25T12:00:00Z",
                "-o",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (dir, out)
    })
    .1
}

/// A fake node whose host name is `name`, its CRI socket also at the cluster file's
/// `/run/containerd/containerd.sock`.
fn host(name: &str) -> Host {
    let host = Host::new();
    host.put("proc/sys/kernel/hostname", &format!("{name}\n"), 0o644);
    let run = host.root().join("run/containerd");
    std::fs::create_dir_all(&run).unwrap();
    std::os::unix::fs::symlink(
        host.root().join("var/run/containerd/containerd.sock"),
        run.join("containerd.sock"),
    )
    .unwrap();
    host
}

fn verified(path: &Path) -> kbc_bundle::VerifiedBundle {
    kbc_bundle::verify(&std::fs::read(path).unwrap(), None).unwrap()
}

/// sha256 of the DER of a kubeconfig's client certificate: the identity the server sees.
fn identity(kubeconfig: &[u8]) -> String {
    let v: Value = serde_saphyr::from_str(std::str::from_utf8(kubeconfig).unwrap()).unwrap();
    let pem = base64::engine::general_purpose::STANDARD
        .decode(
            v["users"][0]["user"]["client-certificate-data"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let pem = String::from_utf8(pem).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    kbc_bundle::sha256_hex(
        &base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
    )
}

fn file<'a>(b: &'a kbc_bundle::VerifiedBundle, path: &str) -> &'a [u8] {
    &b.files.iter().find(|f| f.path == path).unwrap().data
}

fn command(host: &Host, bundle: &Path, server: &ApiServer, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kbc-apply"));
    c.arg(bundle)
        .arg("--root")
        .arg(host.root())
        .args([
            "--api-server",
            &server.url(),
            "--tls-server-name",
            SERVER_NAME,
        ])
        .arg("--systemctl")
        .arg(host.systemctl())
        .args(args);
    c
}

fn run(host: &Host, bundle: &Path, server: &ApiServer, args: &[&str]) -> Run {
    Run::from(command(host, bundle, server, args).output().unwrap())
}

/// `(method, path, identity)` of every Node request.
fn node_requests(server: &ApiServer) -> Vec<(String, String, String)> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/nodes/"))
        .map(|r| (r.method, r.path, r.client_sha256))
        .collect()
}

/// The Node carries the cluster file's CRI socket, and every request about it came from
/// the client certificate whose sha256 is `who`.
fn annotated_by(server: &ApiServer, node: &str, who: &str) {
    let object = server.object(&format!("/api/v1/nodes/{node}")).unwrap();
    assert_eq!(
        object["metadata"]["annotations"][CRI],
        "unix:///run/containerd/containerd.sock"
    );
    let senders: Vec<String> = node_requests(server).into_iter().map(|(.., w)| w).collect();
    assert!(!senders.is_empty() && senders.iter().all(|w| w == who));
}

#[test]
fn a_control_plane_node_is_annotated_as_itself_and_marked_as_admin() {
    let out = compiled();
    let bundle = out.join("cp-2.tgz");
    let b = verified(&bundle);
    let server = ApiServer::start_with(&Identity::of_bundle(&b), Faults::default());
    server.register_node("cp-2");
    let host = host("cp-2");
    // etcd is tests/ha_etcd.rs's; preflight would ask it (EtcdMembership). The node's
    // kube-apiserver is the test server (its /livez), its kubelet a local stand-in.
    let kubelet = format!(
        "http://127.0.0.1:{}/healthz",
        crate::apply_support::kubelet_healthz(0)
    );
    let skip = [
        "--skip-phases",
        "preflight,check-etcd,control-plane-join/etcd",
        "--kubelet-healthz",
        &kubelet,
    ];
    let first = run(&host, &bundle, &server, &skip);
    first.ok();
    assert!(
        first
            .stdout
            .contains("control-plane-join/mark-control-plane: changed"),
        "{}",
        first.stdout
    );
    let node = server.object("/api/v1/nodes/cp-2").unwrap();
    assert_eq!(
        node["metadata"]["annotations"][CRI],
        "unix:///run/containerd/containerd.sock"
    );
    assert_eq!(
        node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"],
        ""
    );
    let taints: Vec<&str> = node["spec"]["taints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        taints,
        [
            "node-role.kubernetes.io/control-plane",
            "node.kubernetes.io/not-ready"
        ]
    );
    let kubelet = identity(file(&b, "rootfs/etc/kubernetes/kubelet.conf"));
    let admin = identity(file(&b, "rootfs/etc/kubernetes/admin.conf"));
    let patches: Vec<String> = node_requests(&server)
        .into_iter()
        .filter(|(m, ..)| m == "PATCH")
        .map(|(.., who)| who)
        .collect();
    assert_eq!(
        patches,
        [kubelet, admin],
        "annotation as the node, then the mark as admin"
    );
    // The etcd manifest waits for its member: install never writes it.
    assert!(!host
        .root()
        .join("etc/kubernetes/manifests/etcd.yaml")
        .exists());
    assert!(host
        .root()
        .join("etc/kubernetes/manifests/kube-apiserver.yaml")
        .exists());
    let again = run(&host, &bundle, &server, &skip);
    again.ok();
    assert!(
        first.stdout.contains("wait-control-plane: "),
        "{}",
        first.stdout
    );
    for phase in [
        "install",
        "kubelet-start",
        "control-plane-join/mark-control-plane",
    ] {
        assert!(
            again.stdout.contains(&format!("{phase}: unchanged")),
            "{phase}:\n{}",
            again.stdout
        );
    }
}

#[test]
fn a_named_worker_passes_preflight_and_annotates_its_node() {
    let out = compiled();
    let bundle = out.join("worker-1.tgz");
    let b = verified(&bundle);
    let cp = verified(&out.join("cp-1.tgz"));
    let server = ApiServer::start_with(&Identity::of_bundle(&cp), Faults::default());
    server.register_node("worker-1");
    let host = host("worker-1");
    let first = run(&host, &bundle, &server, &[]);
    first.ok();
    let phases: Vec<&str> = first
        .stdout
        .lines()
        .filter(|l| l.ends_with(": changed") || l.ends_with(": unchanged"))
        .collect();
    assert_eq!(
        phases,
        [
            "preflight: unchanged",
            "install: changed",
            "kubelet-start: changed"
        ]
    );
    let kubelet = identity(file(&b, "rootfs/etc/kubernetes/kubelet.conf"));
    annotated_by(&server, "worker-1", &kubelet);
    assert!(host.root().join("etc/kubernetes/pki/ca.crt").exists());
    assert!(!host.root().join("etc/kubernetes/manifests").exists());
    run(&host, &bundle, &server, &[]).ok();
}

#[test]
fn a_generic_worker_waits_for_the_tls_bootstrap_then_drops_the_bootstrap_kubeconfig() {
    let out = compiled();
    let bundle = out.join("generic-worker-4.tgz");
    let cp = verified(&out.join("cp-1.tgz"));
    let server = ApiServer::start_with(&Identity::of_bundle(&cp), Faults::default());
    // The kubelet registers the node under its host name.
    server.register_node("worker-1");
    let host = host("Worker-1");
    let mut child = command(&host, &bundle, &server, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stdout as it comes: kbc-apply says when it waits for the bootstrap.
    let (lines, read) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = read
            .recv_timeout(left)
            .expect("kbc-apply waits for the TLS bootstrap");
        if line.contains("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap") {
            break;
        }
    }
    let boot = host.root().join("etc/kubernetes/bootstrap-kubelet.conf");
    assert!(
        boot.exists(),
        "the kubelet bootstraps with bootstrap-kubelet.conf"
    );
    // What the kubelet writes after its CSR was approved: a kubeconfig of its own identity
    // (here the named worker's, which the cluster CA signed).
    let kubelet_conf = file(
        &verified(&out.join("worker-1.tgz")),
        "rootfs/etc/kubernetes/kubelet.conf",
    )
    .to_vec();
    let target = host.root().join("etc/kubernetes/kubelet.conf");
    std::fs::write(&target, &kubelet_conf).unwrap();
    let status = child.wait().unwrap();
    let stdout = reader.join().unwrap();
    assert!(status.success(), "{stdout}");
    assert!(
        !boot.exists(),
        "bootstrap-kubelet.conf is deleted after the bootstrap"
    );
    annotated_by(&server, "worker-1", &identity(&kubelet_conf));
    // A re-run does not bring the bootstrap token back.
    let again = run(&host, &bundle, &server, &[]);
    again.ok();
    assert!(!boot.exists());
    assert!(
        again.stdout.contains("install: unchanged"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_dry_run_of_a_join_changes_nothing_and_asks_no_one() {
    let out = compiled();
    let host = host("cp-3");
    let before = host.tree();
    // No API server and no etcd exist at the plan's addresses: a dry run contacts neither.
    let o = Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(out.join("cp-3.tgz"))
        .arg("--root")
        .arg(host.root())
        .arg("--systemctl")
        .arg(host.systemctl())
        .args(["--dry-run", "--skip-phases", "preflight"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains(
            "[etcd] would add etcd member cp-3 (https://192.168.56.13:2380) as a learner"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("control-plane-join/etcd: skipped: dry run"),
        "{stdout}"
    );
    assert!(
        stdout.contains("control-plane-join/mark-control-plane: skipped: dry run"),
        "{stdout}"
    );
    assert_eq!(host.tree(), before);
}

#[test]
fn a_worker_that_was_already_joined_elsewhere_is_refused_by_kubeadms_join_checks() {
    let out = compiled();
    let host = host("worker-1");
    host.put(
        "etc/kubernetes/kubelet.conf",
        "apiVersion: v1\nkind: Config\n",
        0o600,
    );
    host.put("etc/kubernetes/pki/ca.crt", "another cluster's CA\n", 0o644);
    let before = host.tree();
    let o = Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(out.join("worker-1.tgz"))
        .arg("--root")
        .arg(host.root())
        .arg("--systemctl")
        .arg(host.systemctl())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists"), "{err}");
    assert!(
        err.contains("[ERROR FileAvailable--etc-kubernetes-pki-ca.crt]"),
        "{err}"
    );
    assert_eq!(host.tree(), before, "nothing changed");
}
