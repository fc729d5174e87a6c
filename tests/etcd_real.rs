//! Real etcd with the bundle's own certificates and flags: the command line of the bundle's
//! etcd static Pod is run as it is, with only paths remapped into a temp dir, the node address
//! moved onto loopback (127.0.0.2) and the ports onto free ones. `etcdctl` with the
//! healthcheck-client and with the apiserver-etcd-client certificates must get a healthy
//! answer and read back what it wrote; a client certificate from another cluster is refused.

use crate::common::root;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AT: &str = "2026-11-25T12:00:00Z";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Compiles the single-node fixture and unpacks its rootfs/ into `dir`.
fn unpack(dir: &Path, secrets: &str) -> kbc_bundle::VerifiedBundle {
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.join("b.tgz");
    let o = Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args([
            "compile",
            "fixtures/single-node.yaml",
            "--secrets",
            secrets,
            "--issued-at",
            AT,
            "-o",
        ])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    for f in &bundle.files {
        if let Some(rel) = f.rootfs_path() {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.data).unwrap();
        }
    }
    bundle
}

struct Etcd(Child);

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn etcdctl(endpoint: &str, pki: &Path, client: &str, args: &[&str]) -> std::process::Output {
    Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .arg(format!("--cacert={}", pki.join("etcd/ca.crt").display()))
        .arg(format!(
            "--cert={}",
            pki.join(format!("{client}.crt")).display()
        ))
        .arg(format!(
            "--key={}",
            pki.join(format!("{client}.key")).display()
        ))
        .arg("--dial-timeout=3s")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("etcdctl is required (tests/setup.sh installs it): {e}"))
}

#[test]
fn etcd_runs_with_the_bundle_command_line_and_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("root");
    let bundle = unpack(&tree, "fixtures/secrets/test-secrets.yaml");
    let manifest = bundle
        .files
        .iter()
        .find(|f| f.path == "rootfs/etc/kubernetes/manifests/etcd.yaml")
        .unwrap();
    let pod: serde_json::Value =
        serde_saphyr::from_str(std::str::from_utf8(&manifest.data).unwrap()).unwrap();
    let command: Vec<String> = pod["spec"]["containers"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(command[0], "etcd");
    let (client, peer, metrics) = (free_port(), free_port(), free_port());
    let remap = |arg: &str| {
        arg.replace(
            "/etc/kubernetes/",
            &format!("{}/etc/kubernetes/", tree.display()),
        )
        .replace(
            "/var/lib/etcd",
            &dir.path().join("etcd-data").display().to_string(),
        )
        .replace("192.168.56.10", "127.0.0.2")
        .replace(":2379", &format!(":{client}"))
        .replace(":2380", &format!(":{peer}"))
        .replace(":2381", &format!(":{metrics}"))
    };
    let args: Vec<String> = command[1..].iter().map(|a| remap(a)).collect();
    // Only paths, the address and ports changed: every flag of the bundle is still there.
    assert_eq!(args.len(), command.len() - 1);
    for (a, b) in args.iter().zip(&command[1..]) {
        assert_eq!(a.split('=').next(), b.split('=').next());
    }
    let log = std::fs::File::create(dir.path().join("etcd.log")).unwrap();
    let _etcd = Etcd(
        Command::new("etcd")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("etcd is required (tests/setup.sh installs it): {e}")),
    );
    let endpoint = format!("https://127.0.0.1:{client}");
    let pki = tree.join("etc/kubernetes/pki");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = etcdctl(
            &endpoint,
            &pki,
            "etcd/healthcheck-client",
            &["endpoint", "health"],
        );
        if o.status.success() {
            assert!(
                String::from_utf8_lossy(&o.stdout).contains("is healthy")
                    || String::from_utf8_lossy(&o.stderr).contains("is healthy")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "etcd never became healthy: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(dir.path().join("etcd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The API server's client certificate can write and read.
    let put = etcdctl(
        &endpoint,
        &pki,
        "apiserver-etcd-client",
        &["put", "/kbc/test", "ok"],
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let get = etcdctl(
        &endpoint,
        &pki,
        "apiserver-etcd-client",
        &["get", "/kbc/test", "--print-value-only"],
    );
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "ok");
    let health = etcdctl(
        &endpoint,
        &pki,
        "apiserver-etcd-client",
        &["endpoint", "health"],
    );
    assert!(health.status.success());

    // A client certificate of another cluster (another seed) is refused.
    let other = dir.path().join("other");
    let other_secrets = dir.path().join("other-secrets.yaml");
    let o = Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(["secrets", "generate", "-o"])
        .arg(&other_secrets)
        .output()
        .unwrap();
    assert!(o.status.success());
    unpack(&other, other_secrets.to_str().unwrap());
    let other_pki = other.join("etc/kubernetes/pki");
    let refused = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .arg(format!("--cacert={}", pki.join("etcd/ca.crt").display()))
        .arg(format!(
            "--cert={}",
            other_pki.join("apiserver-etcd-client.crt").display()
        ))
        .arg(format!(
            "--key={}",
            other_pki.join("apiserver-etcd-client.key").display()
        ))
        .args([
            "--dial-timeout=2s",
            "--command-timeout=3s",
            "get",
            "/kbc/test",
        ])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "a foreign client certificate was accepted"
    );
}
