//! A real three-member stacked etcd cluster built from one cluster file. Each node is a
//! network namespace the test creates (its own `lo` and an `eth0` on a bridge that lives in
//! a fourth namespace; nothing is added to the host's network), holding the node's real
//! advertise address. Node 1's etcd runs exactly from its bundle's manifest command (only
//! paths remapped into the node's temporary root); nodes 2 and 3 are joined by `kbc-apply`
//! inside their namespaces, and the test starts each etcd from the manifest kbc-apply
//! installed, at the moment the kubelet would. The kubelet and API phases are skipped
//! here (tests/apply_join.rs runs them against the in-process API server).
//!
//! Proven with `etcdctl`: three voting members, data written before node 2 joined is read
//! on node 3, a learner stays a learner until its etcd runs; node 3 before node 2 is
//! refused naming node 2 with the host unchanged; a kill after the member add (with and
//! without the manifest) and a re-run converge; `reset` on node 3 leaves a healthy
//! two-member cluster. Everything is torn down on drop, also when an assertion fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::apply_support::Host;

const AT: &str = "2026-11-25T12:00:00Z";
const SECRETS: &str = "fixtures/secrets/test-secrets.yaml";
/// The nodes' addresses: on the test's own bridge, inside its namespaces only.
const NET: &str = "10.123.45";

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn sh(args: &[&str]) {
    let o = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{} is required (tests/setup.sh installs it): {e}", args[0]));
    assert!(
        o.status.success(),
        "{}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The namespaces and the bridge; removed on drop (with every process started in them).
struct Net {
    prefix: String,
    nodes: usize,
    /// The etcd of each node, by node number.
    children: Vec<(usize, Child)>,
}

impl Net {
    fn new(nodes: usize) -> Net {
        let prefix = format!("kbc{}", std::process::id());
        let net = Net {
            prefix,
            nodes,
            children: Vec::new(),
        };
        let sw = net.switch();
        sh(&["ip", "netns", "add", &sw]);
        sh(&["ip", "-n", &sw, "link", "add", "br0", "type", "bridge"]);
        sh(&["ip", "-n", &sw, "link", "set", "br0", "up"]);
        for i in 1..=nodes {
            let ns = net.ns(i);
            let port = format!("p{i}");
            sh(&["ip", "netns", "add", &ns]);
            sh(&[
                "ip", "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &sw,
            ]);
            sh(&["ip", "-n", &sw, "link", "set", &port, "master", "br0", "up"]);
            sh(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", addr(i)),
                "dev",
                "eth0",
            ]);
            sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
            sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        net
    }

    fn switch(&self) -> String {
        format!("{}-sw", self.prefix)
    }

    fn ns(&self, i: usize) -> String {
        format!("{}-n{i}", self.prefix)
    }

    /// `program args` inside node `i`'s namespace.
    fn command(&self, i: usize, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns(i), program]);
        c
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for i in 1..=self.nodes {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(i)])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.switch()])
            .status();
    }
}

fn addr(i: usize) -> String {
    format!("{NET}.{}", 10 + i)
}

/// The cluster file: three control-plane nodes, in join order.
fn cluster_file(dir: &Path) -> PathBuf {
    let mut text = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: cp-1\nlocalAPIEndpoint:\n  advertiseAddress: {}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\ncontrolPlaneEndpoint: {}:6443\n",
        addr(1),
        addr(1)
    );
    for i in 2..=3 {
        text.push_str(&format!(
            "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: cp-{i}\ncontrolPlane:\n  localAPIEndpoint:\n    advertiseAddress: {}\n",
            addr(i)
        ));
    }
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `kbc`, built next to `kbc-apply` by `cargo test --workspace`.
pub(crate) fn kbc() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_kbc-apply")).with_file_name("kbc");
    assert!(
        path.exists(),
        "{} is missing: run the workspace's tests (cargo test --workspace) or cargo build -p kbc",
        path.display()
    );
    path
}

fn compile(dir: &Path) -> PathBuf {
    let out = dir.join("bundles");
    let o = Command::new(kbc())
        .current_dir(workspace())
        .arg("compile")
        .arg(cluster_file(dir))
        .args(["--secrets", SECRETS, "--issued-at", AT, "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// The etcd command of the manifest at `manifest`, with `/etc/kubernetes` and
/// `/var/lib/etcd` remapped under `root`: every flag kept.
fn etcd_command(manifest: &Path, root: &Path) -> Vec<String> {
    let pod: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    let command: Vec<String> = pod["spec"]["containers"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(command[0], "etcd");
    command
        .iter()
        .map(|a| {
            a.replace(
                "/etc/kubernetes/",
                &format!("{}/etc/kubernetes/", root.display()),
            )
            .replace("/var/lib/etcd", &format!("{}/var/lib/etcd", root.display()))
        })
        .collect()
}

fn start_etcd(net: &mut Net, i: usize, root: &Path) {
    let manifest = root.join("etc/kubernetes/manifests/etcd.yaml");
    let command = etcd_command(&manifest, root);
    let log = std::fs::File::create(root.join("../etcd.log")).unwrap();
    let child = net
        .command(i, &command[0])
        .args(&command[1..])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    net.children.push((i, child));
}

fn stop_etcd(net: &mut Net, i: usize) {
    // `ip netns exec` execs the program: the child is etcd itself.
    for (_, c) in net.children.iter_mut().filter(|(n, _)| *n == i) {
        let _ = c.kill();
        let _ = c.wait();
    }
    net.children.retain(|(n, _)| *n != i);
}

fn etcdctl(net: &Net, i: usize, root: &Path, args: &[&str]) -> Output {
    let pki = root.join("etc/kubernetes/pki/etcd");
    net.command(i, "etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints=https://{}:2379", addr(i)))
        .arg(format!("--cacert={}", pki.join("ca.crt").display()))
        .arg(format!(
            "--cert={}",
            pki.join("healthcheck-client.crt").display()
        ))
        .arg(format!(
            "--key={}",
            pki.join("healthcheck-client.key").display()
        ))
        .arg("--dial-timeout=3s")
        .args(args)
        .output()
        .unwrap()
}

/// `member list` as (name, is learner) in etcdctl's order, asked on node `i`.
fn members(net: &Net, i: usize, root: &Path) -> Vec<(String, bool)> {
    let o = etcdctl(net, i, root, &["member", "list", "-w", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out: Vec<(String, bool)> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or("").to_string(),
                m["isLearner"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    out.sort();
    out
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A node's fake host (tests/apply_support) with its host name.
fn host(name: &str) -> Host {
    let h = Host::new();
    h.put("proc/sys/kernel/hostname", &format!("{name}\n"), 0o644);
    h
}

const SKIP: &str = "kubelet-start,wait-control-plane,control-plane-join/mark-control-plane";

/// `kbc-apply BUNDLE` for node `i` inside its namespace, as a child.
fn apply(net: &Net, i: usize, h: &Host, bundle: &Path) -> Child {
    net.command(i, env!("CARGO_BIN_EXE_kbc-apply"))
        .arg(bundle)
        .arg("--root")
        .arg(h.root())
        .arg("--systemctl")
        .arg(h.systemctl())
        .args(["--skip-phases", SKIP])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (i32, String) {
    let o = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// Runs node `i`'s join; when its etcd manifest appears, calls `on_manifest` (which may
/// start etcd or kill the applier, returning whether the applier is still wanted).
fn join(
    net: &mut Net,
    i: usize,
    h: &Host,
    bundle: &Path,
    on_manifest: impl FnOnce(&mut Net, &mut Child) -> bool,
) -> (i32, String) {
    let manifest = h.root().join("etc/kubernetes/manifests/etcd.yaml");
    let mut child = apply(net, i, h, bundle);
    let start = Instant::now();
    loop {
        if manifest.exists() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let (_, text) = finish(child);
            panic!("node {i}'s kbc-apply ended ({status}) before installing etcd.yaml:\n{text}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no etcd.yaml for node {i}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    on_manifest(net, &mut child);
    finish(child)
}

#[test]
fn three_stacked_etcd_members_join_in_order_and_one_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let bundles = compile(dir.path());
    let bundle = |i: usize| bundles.join(format!("cp-{i}.tgz"));
    let mut net = Net::new(3);
    let hosts = [host("cp-1"), host("cp-2"), host("cp-3")];
    let root = |i: usize| hosts[i - 1].root();

    // Node 1: the init bundle's files, its etcd from the manifest command.
    let o = Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .args(["install"])
        .arg(bundle(1))
        .arg("--root")
        .arg(root(1))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    start_etcd(&mut net, 1, &root(1));
    wait_until("node 1's etcd", Duration::from_secs(30), || {
        etcdctl(&net, 1, &root(1), &["endpoint", "health"])
            .status
            .success()
    });
    let put = etcdctl(
        &net,
        1,
        &root(1),
        &["put", "written-before", "node-2-joined"],
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );

    // Node 3 before node 2: refused in preflight, naming node 2; nothing on the host changed.
    let before = hosts[2].tree();
    let (code, text) = finish(apply(&net, 3, &hosts[2], &bundle(3)));
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("EtcdMembership") && text.contains("join cp-2 first"),
        "{text}"
    );
    assert_eq!(hosts[2].tree(), before, "the refused node's host changed");
    assert_eq!(members(&net, 1, &root(1)), [("cp-1".to_string(), false)]);

    // Node 2 joins: a learner until its etcd runs, promoted once it is in sync.
    let (code, text) = join(&mut net, 2, &hosts[1], &bundle(2), |net, _| {
        let m = members(net, 1, &root(1));
        assert_eq!(
            m,
            [("".to_string(), true), ("cp-1".to_string(), false)],
            "cp-2 is an unstarted learner"
        );
        start_etcd(net, 2, &root(2));
        true
    });
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("[etcd] The learner was promoted as a voting member"),
        "{text}"
    );
    assert_eq!(
        members(&net, 1, &root(1)),
        [("cp-1".to_string(), false), ("cp-2".to_string(), false)]
    );

    // Node 3: killed at each phase boundary before its etcd step (after preflight, install,
    // check-etcd), each time re-run from what the previous run left.
    for n in 1..=3 {
        let mut cmd = net.command(3, env!("CARGO_BIN_EXE_kbc-apply"));
        cmd.arg(bundle(3))
            .arg("--root")
            .arg(root(3))
            .arg("--systemctl")
            .arg(hosts[2].systemctl())
            .args(["--skip-phases", SKIP])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        assert!(
            crate::apply_kill::kill_at_boundary(cmd, n),
            "node 3, boundary {n}"
        );
    }
    assert_eq!(
        members(&net, 1, &root(1)).len(),
        2,
        "no member added before the etcd step"
    );
    // Then killed inside the etcd step, after its member was added and its manifest written;
    // the manifest is then removed too (a kill between the two steps). Both re-runs converge.
    let (code, _) = join(&mut net, 3, &hosts[2], &bundle(3), |_, child| {
        let _ = child.kill();
        false
    });
    assert_ne!(code, 0);
    std::fs::remove_file(root(3).join("etc/kubernetes/manifests/etcd.yaml")).unwrap();
    let (code, text) = join(&mut net, 3, &hosts[2], &bundle(3), |net, _| {
        start_etcd(net, 3, &root(3));
        true
    });
    assert_eq!(code, 0, "{text}");
    assert!(
        !text.contains("[etcd] Adding etcd member"),
        "the member was added once:\n{text}"
    );
    let all: Vec<(String, bool)> = (1..=3).map(|i| (format!("cp-{i}"), false)).collect();
    assert_eq!(members(&net, 1, &root(1)), all);
    let get = etcdctl(
        &net,
        3,
        &root(3),
        &["get", "written-before", "--print-value-only"],
    );
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "node-2-joined");
    // A third run changes nothing.
    let (code, text) = finish(apply(&net, 3, &hosts[2], &bundle(3)));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("control-plane-join/etcd: unchanged"),
        "{text}"
    );

    // Node 3 leaves: reset removes its member first; two healthy members remain.
    let o = net
        .command(3, env!("CARGO_BIN_EXE_kbc-apply"))
        .arg("reset")
        .arg(bundle(3))
        .arg("--root")
        .arg(root(3))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("[reset] Removed etcd member cp-3"), "{text}");
    stop_etcd(&mut net, 3);
    assert_eq!(
        members(&net, 1, &root(1)),
        [("cp-1".to_string(), false), ("cp-2".to_string(), false)]
    );
    for i in 1..=2 {
        let health = etcdctl(&net, i, &root(i), &["endpoint", "health"]);
        assert!(
            health.status.success(),
            "node {i}: {}",
            String::from_utf8_lossy(&health.stderr)
        );
    }
}
