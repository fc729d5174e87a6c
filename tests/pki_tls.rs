//! Real mutual-TLS handshakes with openssl s_server/s_client over loopback: the API server
//! with admin.conf's client credentials, etcd server, peer and healthcheck-client.

use crate::pki_support as support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kbc::pki::EncryptionAlgorithm;
use support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `openssl s_server` requiring a client certificate that chains to `client_ca`;
/// `-rev` answers every line with its reverse.
fn server(cert: &str, key: &str, client_ca: &str, port: u16) -> Server {
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            cert,
            "-key",
            key,
            "-CAfile",
            client_ca,
            "-Verify",
            "2",
            "-verify_return_error",
            "-rev",
            "-naccept",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run openssl (tests/setup.sh installs it)");
    // Wait for "ACCEPT".
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 || Instant::now() > deadline {
            panic!("s_server did not start");
        }
        if line.contains("ACCEPT") {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = reader.read_to_string(&mut sink);
    });
    Server(child)
}

/// Connects with a client certificate, verifying the server for `check` (`-verify_hostname
/// NAME` or `-verify_ip IP`); returns the server's reply to "ping-kbc" (no leading k, R or Q: s_client reads those as commands).
fn client(port: u16, ca: &str, cert: &str, key: &str, check: (&str, &str)) -> String {
    // stdbuf -oL: s_client writes through stdio, which buffers a pipe; line buffering lets
    // the test read the echo as it arrives instead of sleeping for it.
    let mut child = Command::new("stdbuf")
        .args(["-oL", "openssl", "s_client"])
        .args([
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-CAfile",
            ca,
            "-cert",
            cert,
            "-key",
            key,
            "-verify_return_error",
            check.0,
            check.1,
            "-quiet",
            "-no_ign_eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ping-kbc\n").unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Read until the echo (or until s_client ends: a refused handshake closes stdout).
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut reply = String::new();
    while !reply.contains("cbk-gnip") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => reply.push_str(&line),
            Err(_) => break,
        }
    }
    drop(stdin);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        reply.contains("cbk-gnip"),
        "no TLS echo (check {check:?}); client stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    reply
}

pub(crate) fn handshake(
    server_files: (&str, &str),
    ca: &str,
    client_files: (&str, &str),
    check: (&str, &str),
) {
    let port = free_port();
    let _s = server(server_files.0, server_files.1, ca, port);
    client(port, ca, client_files.0, client_files.1, check);
}

fn all_handshakes(dir: &Path) {
    let d = |r: &str| p(dir, r);
    let scratch = tempfile::tempdir().unwrap();
    let (admin_crt, admin_key) =
        kubeconfig_client(&dir.join("admin.conf"), scratch.path(), "admin");
    let (admin_crt, admin_key) = (
        admin_crt.display().to_string(),
        admin_key.display().to_string(),
    );
    let apiserver = (d("pki/apiserver.crt"), d("pki/apiserver.key"));
    let ca = d("pki/ca.crt");
    for check in [
        ("-verify_hostname", "kubernetes.default.svc.cluster.local"),
        ("-verify_ip", "10.96.0.1"),
        ("-verify_hostname", "k8s.example.com"),
    ] {
        handshake(
            (&apiserver.0, &apiserver.1),
            &ca,
            (&admin_crt, &admin_key),
            check,
        );
    }
    // The kubelet client certificate the API server presents to kubelets.
    handshake(
        (&apiserver.0, &apiserver.1),
        &ca,
        (
            &d("pki/apiserver-kubelet-client.crt"),
            &d("pki/apiserver-kubelet-client.key"),
        ),
        ("-verify_ip", "192.168.0.10"),
    );
    let etcd_ca = d("pki/etcd/ca.crt");
    let etcd_server = (d("pki/etcd/server.crt"), d("pki/etcd/server.key"));
    for client_files in [
        (
            d("pki/apiserver-etcd-client.crt"),
            d("pki/apiserver-etcd-client.key"),
        ),
        (
            d("pki/etcd/healthcheck-client.crt"),
            d("pki/etcd/healthcheck-client.key"),
        ),
    ] {
        handshake(
            (&etcd_server.0, &etcd_server.1),
            &etcd_ca,
            (&client_files.0, &client_files.1),
            ("-verify_ip", "127.0.0.1"),
        );
    }
    handshake(
        (&etcd_server.0, &etcd_server.1),
        &etcd_ca,
        (
            &d("pki/etcd/healthcheck-client.crt"),
            &d("pki/etcd/healthcheck-client.key"),
        ),
        ("-verify_hostname", "localhost"),
    );
    // Peers authenticate each other with the same peer certificate.
    let peer = (d("pki/etcd/peer.crt"), d("pki/etcd/peer.key"));
    handshake(
        (&peer.0, &peer.1),
        &etcd_ca,
        (&peer.0, &peer.1),
        ("-verify_ip", "192.168.0.10"),
    );
}

#[test]
fn mutual_tls_rsa() {
    let (dir, _) = render_dir(&input(), &secrets());
    all_handshakes(dir.path());
}

#[test]
fn mutual_tls_ecdsa() {
    let mut i = input();
    i.encryption_algorithm = EncryptionAlgorithm::EcdsaP256;
    let (dir, _) = render_dir(&i, &secrets());
    all_handshakes(dir.path());
}

#[test]
fn wrong_name_and_wrong_ca_are_refused() {
    let (dir, _) = render_dir(&input(), &secrets());
    let d = |r: &str| p(dir.path(), r);
    // A name not in the certificate.
    let port = free_port();
    let _s = server(
        &d("pki/apiserver.crt"),
        &d("pki/apiserver.key"),
        &d("pki/ca.crt"),
        port,
    );
    let o = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-CAfile",
            &d("pki/ca.crt"),
            "-cert",
            &d("pki/apiserver-kubelet-client.crt"),
            "-key",
            &d("pki/apiserver-kubelet-client.key"),
            "-verify_return_error",
            "-verify_hostname",
            "evil.example.com",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "a hostname outside the SANs was accepted"
    );
    // A client certificate from another CA (etcd) is refused by the API server.
    let port = free_port();
    let _s = server(
        &d("pki/apiserver.crt"),
        &d("pki/apiserver.key"),
        &d("pki/ca.crt"),
        port,
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo ping-kbc | timeout 15 openssl s_client -connect 127.0.0.1:{port} -CAfile {} -cert {} -key {} -verify_return_error -quiet",
            d("pki/ca.crt"),
            d("pki/apiserver-etcd-client.crt"),
            d("pki/apiserver-etcd-client.key")
        ))
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("cbk-gnip"),
        "the API server accepted a client certificate of the etcd CA"
    );
}
