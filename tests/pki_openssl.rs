//! The rendered PKI, read back with openssl and kubectl and compared with expectations
//! written from kubeadm's certificate rules (not computed by kbc).

use crate::pki_support as support;

use std::path::Path;

use kbc::pki::EncryptionAlgorithm;
use support::*;

/// Expected facts per certificate, from kubeadm's certificate list and SAN rules (`cmd/kubeadm/app/phases/certs/certlist.go`, `cmd/kubeadm/app/util/pkiutil/pki_helpers.go`).
struct Expect {
    file: &'static str,
    ca: &'static str,
    subject: &'static str,
    issuer: &'static str,
    purpose: &'static [&'static str],
    eku: Option<&'static str>,
    san: Option<&'static str>,
}

const EXPECT: &[Expect] = &[
    Expect {
        file: "pki/apiserver.crt",
        ca: "pki/ca.crt",
        subject: "CN = kube-apiserver",
        issuer: "CN = kubernetes",
        purpose: &["sslserver"],
        eku: Some("TLS Web Server Authentication"),
        san: Some("DNS:api.internal, DNS:cp-1, DNS:k8s.example.com, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:192.168.0.10, IP Address:10.0.0.5"),
    },
    Expect {
        file: "pki/apiserver-kubelet-client.crt",
        ca: "pki/ca.crt",
        subject: "O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client",
        issuer: "CN = kubernetes",
        purpose: &["sslclient"],
        eku: Some("TLS Web Client Authentication"),
        san: None,
    },
    Expect {
        file: "pki/front-proxy-client.crt",
        ca: "pki/front-proxy-ca.crt",
        subject: "CN = front-proxy-client",
        issuer: "CN = front-proxy-ca",
        purpose: &["sslclient"],
        eku: Some("TLS Web Client Authentication"),
        san: None,
    },
    Expect {
        file: "pki/etcd/server.crt",
        ca: "pki/etcd/ca.crt",
        subject: "CN = cp-1",
        issuer: "CN = etcd-ca",
        purpose: &["sslserver", "sslclient"],
        eku: Some("TLS Web Server Authentication, TLS Web Client Authentication"),
        san: Some("DNS:cp-1, DNS:localhost, IP Address:192.168.0.10, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
    },
    Expect {
        file: "pki/etcd/peer.crt",
        ca: "pki/etcd/ca.crt",
        subject: "CN = cp-1",
        issuer: "CN = etcd-ca",
        purpose: &["sslserver", "sslclient"],
        eku: Some("TLS Web Server Authentication, TLS Web Client Authentication"),
        san: Some("DNS:cp-1, DNS:localhost, IP Address:192.168.0.10, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
    },
    Expect {
        file: "pki/etcd/healthcheck-client.crt",
        ca: "pki/etcd/ca.crt",
        subject: "CN = kube-etcd-healthcheck-client",
        issuer: "CN = etcd-ca",
        purpose: &["sslclient"],
        eku: Some("TLS Web Client Authentication"),
        san: None,
    },
    Expect {
        file: "pki/apiserver-etcd-client.crt",
        ca: "pki/etcd/ca.crt",
        subject: "CN = kube-apiserver-etcd-client",
        issuer: "CN = etcd-ca",
        purpose: &["sslclient"],
        eku: Some("TLS Web Client Authentication"),
        san: None,
    },
];

/// (file, subject) of the CAs.
const CAS: &[(&str, &str)] = &[
    ("pki/ca.crt", "kubernetes"),
    ("pki/front-proxy-ca.crt", "front-proxy-ca"),
    ("pki/etcd/ca.crt", "etcd-ca"),
];

/// (file, subject, server) of the kubeconfigs (`cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go`).
const KUBECONFIGS: &[(&str, &str, &str)] = &[
    (
        "admin.conf",
        "O = kubeadm:cluster-admins, CN = kubernetes-admin",
        "https://k8s.example.com:6443",
    ),
    (
        "super-admin.conf",
        "O = system:masters, CN = kubernetes-super-admin",
        "https://k8s.example.com:6443",
    ),
    (
        "kubelet.conf",
        "O = system:nodes, CN = system:node:cp-1",
        "https://k8s.example.com:6443",
    ),
    (
        "controller-manager.conf",
        "CN = system:kube-controller-manager",
        "https://192.168.0.10:6443",
    ),
    (
        "scheduler.conf",
        "CN = system:kube-scheduler",
        "https://192.168.0.10:6443",
    ),
];

fn text(dir: &Path, rel: &str) -> String {
    ok("openssl", &["x509", "-noout", "-text", "-in", &p(dir, rel)])
}

fn ext_value(text: &str, name: &str) -> Option<(bool, String)> {
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        let t = l.trim();
        if t.starts_with(name) {
            let critical = t.ends_with("critical");
            return Some((critical, lines.next().unwrap().trim().to_string()));
        }
    }
    None
}

fn pubkey_of_cert(path: &str) -> String {
    ok("openssl", &["x509", "-noout", "-pubkey", "-in", path])
}

fn pubkey_of_key(path: &str) -> String {
    ok("openssl", &["pkey", "-pubout", "-in", path])
}

fn check_tree(dir: &Path, key_header: &str, key_text: &str) {
    // CAs: self-signed, CA:TRUE, keyCertSign, SKI, no AKI, SAN = own CN, 10 years + 5m.
    for (file, cn) in CAS {
        let t = text(dir, file);
        assert!(t.contains(&format!("Subject: CN = {cn}\n")), "{file}:\n{t}");
        assert!(t.contains(&format!("Issuer: CN = {cn}\n")), "{file}");
        assert!(t.contains("Not Before: Nov 25 11:55:00 2026 GMT"), "{file}");
        assert!(t.contains("Not After : Nov 22 12:00:00 2036 GMT"), "{file}");
        assert_eq!(
            ext_value(&t, "X509v3 Key Usage"),
            Some((
                true,
                "Digital Signature, Key Encipherment, Certificate Sign".into()
            )),
            "{file}"
        );
        assert_eq!(
            ext_value(&t, "X509v3 Basic Constraints"),
            Some((true, "CA:TRUE".into())),
            "{file}"
        );
        assert!(
            ext_value(&t, "X509v3 Subject Key Identifier").is_some(),
            "{file}"
        );
        assert!(
            ext_value(&t, "X509v3 Authority Key Identifier").is_none(),
            "{file}"
        );
        assert!(
            ext_value(&t, "X509v3 Extended Key Usage").is_none(),
            "{file}"
        );
        assert_eq!(
            ext_value(&t, "X509v3 Subject Alternative Name"),
            Some((false, format!("DNS:{cn}"))),
            "{file}"
        );
        assert!(t.contains(key_text), "{file}: expected {key_text}");
        let key = file.replace(".crt", ".key");
        assert_eq!(
            pubkey_of_cert(&p(dir, file)),
            pubkey_of_key(&p(dir, &key)),
            "{key}"
        );
        ok(
            "openssl",
            &[
                "verify",
                "-x509_strict",
                "-CAfile",
                &p(dir, file),
                &p(dir, file),
            ],
        );
    }
    // Leaves.
    for e in EXPECT {
        let t = text(dir, e.file);
        assert!(
            t.contains(&format!("Subject: {}\n", e.subject)),
            "{}:\n{t}",
            e.file
        );
        assert!(t.contains(&format!("Issuer: {}\n", e.issuer)), "{}", e.file);
        assert!(
            t.contains("Not Before: Nov 25 11:55:00 2026 GMT"),
            "{}",
            e.file
        );
        assert!(
            t.contains("Not After : Nov 25 12:00:00 2027 GMT"),
            "{}",
            e.file
        );
        assert_eq!(
            ext_value(&t, "X509v3 Key Usage"),
            Some((true, "Digital Signature, Key Encipherment".into())),
            "{}",
            e.file
        );
        assert_eq!(
            ext_value(&t, "X509v3 Basic Constraints"),
            Some((true, "CA:FALSE".into())),
            "{}",
            e.file
        );
        assert_eq!(
            ext_value(&t, "X509v3 Extended Key Usage").map(|v| v.1),
            e.eku.map(str::to_string),
            "{}",
            e.file
        );
        assert_eq!(
            ext_value(&t, "X509v3 Subject Alternative Name").map(|v| v.1),
            e.san.map(str::to_string),
            "{}",
            e.file
        );
        assert!(
            ext_value(&t, "X509v3 Subject Key Identifier").is_none(),
            "{}",
            e.file
        );
        // AKI = the CA's SKI.
        let ca_ski = ext_value(&text(dir, e.ca), "X509v3 Subject Key Identifier")
            .unwrap()
            .1;
        assert_eq!(
            ext_value(&t, "X509v3 Authority Key Identifier").unwrap().1,
            ca_ski,
            "{}",
            e.file
        );
        for purpose in e.purpose {
            ok(
                "openssl",
                &[
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    purpose,
                    "-CAfile",
                    &p(dir, e.ca),
                    &p(dir, e.file),
                ],
            );
        }
        let key = e.file.replace(".crt", ".key");
        assert_eq!(
            pubkey_of_cert(&p(dir, e.file)),
            pubkey_of_key(&p(dir, &key)),
            "{key}"
        );
        let k = std::fs::read_to_string(dir.join(&key)).unwrap();
        assert!(k.starts_with(key_header), "{key}");
    }
    // A wrong purpose must fail: a client certificate is no TLS server.
    let o = run(
        "openssl",
        &[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            &p(dir, "pki/ca.crt"),
            &p(dir, "pki/apiserver-kubelet-client.crt"),
        ],
    );
    assert!(
        !o.status.success(),
        "a clientAuth-only cert passed -purpose sslserver"
    );

    // Every key parses and is consistent.
    for f in walk(dir).iter().filter(|f| f.ends_with(".key")) {
        ok("openssl", &["pkey", "-check", "-noout", "-in", f]);
        let k = std::fs::read_to_string(f).unwrap();
        assert!(k.starts_with(key_header), "{f}");
        assert!(!k.contains('\r'));
    }
    // sa.pub is sa.key's public key.
    let sa_pub = std::fs::read_to_string(dir.join("pki/sa.pub")).unwrap();
    assert!(sa_pub.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(sa_pub, pubkey_of_key(&p(dir, "pki/sa.key")));

    // Kubeconfigs: client certs chain to ca with clientAuth, kubectl accepts the files.
    let scratch = tempfile::tempdir().unwrap();
    for (file, subject, server) in KUBECONFIGS {
        let conf = dir.join(file);
        let (crt, key) = kubeconfig_client(&conf, scratch.path(), file);
        let t = ok(
            "openssl",
            &["x509", "-noout", "-text", "-in", crt.to_str().unwrap()],
        );
        assert!(t.contains(&format!("Subject: {subject}\n")), "{file}:\n{t}");
        assert!(t.contains("Issuer: CN = kubernetes\n"), "{file}");
        // Client cert NotBefore = the CA's NotBefore (kubeadm's signer).
        assert!(t.contains("Not Before: Nov 25 11:55:00 2026 GMT"), "{file}");
        assert!(t.contains("Not After : Nov 25 12:00:00 2027 GMT"), "{file}");
        assert!(t.contains(key_text), "{file}");
        assert_eq!(
            ext_value(&t, "X509v3 Extended Key Usage").map(|v| v.1),
            Some("TLS Web Client Authentication".into())
        );
        ok(
            "openssl",
            &[
                "verify",
                "-x509_strict",
                "-purpose",
                "sslclient",
                "-CAfile",
                &p(dir, "pki/ca.crt"),
                crt.to_str().unwrap(),
            ],
        );
        assert_eq!(
            pubkey_of_cert(crt.to_str().unwrap()),
            pubkey_of_key(key.to_str().unwrap()),
            "{file}"
        );
        let view = ok(
            "kubectl",
            &[
                "config",
                "view",
                "--raw",
                "--kubeconfig",
                conf.to_str().unwrap(),
            ],
        );
        assert!(
            view.contains(&format!("server: {server}")),
            "{file}: {view}"
        );
        let user = subject.rsplit("CN = ").next().unwrap();
        let ctx = ok(
            "kubectl",
            &[
                "config",
                "get-contexts",
                "--kubeconfig",
                conf.to_str().unwrap(),
            ],
        );
        assert!(
            ctx.contains(&format!("{user}@kubernetes")) && ctx.contains("kubernetes"),
            "{file}: {ctx}"
        );
        let current = ok(
            "kubectl",
            &[
                "config",
                "current-context",
                "--kubeconfig",
                conf.to_str().unwrap(),
            ],
        );
        assert_eq!(current.trim(), format!("{user}@kubernetes"));
        let ca_data = ok(
            "kubectl",
            &[
                "config",
                "view",
                "--raw",
                "-o",
                "jsonpath={.clusters[0].cluster.certificate-authority-data}",
                "--kubeconfig",
                conf.to_str().unwrap(),
            ],
        );
        use base64::Engine;
        let ca_pem = base64::engine::general_purpose::STANDARD
            .decode(ca_data.trim())
            .unwrap();
        assert_eq!(
            ca_pem,
            std::fs::read(dir.join("pki/ca.crt")).unwrap(),
            "{file}"
        );
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn rsa_2048_tree_reads_back_as_specified() {
    let (dir, out) = render_dir(&input(), &secrets());
    check_tree(
        dir.path(),
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "Public-Key: (2048 bit)",
    );
    // Files and modes, as kubeadm writes them (`pki_helpers.go`).
    use std::os::unix::fs::PermissionsExt;
    let mut names = Vec::new();
    for a in &out.artifacts {
        let mode = std::fs::metadata(dir.path().join(&a.kubeadm_path))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        names.push(format!("{} {:o}", a.kubeadm_path, mode));
    }
    assert_eq!(
        names,
        [
            "pki/ca.key 600",
            "pki/ca.crt 644",
            "pki/apiserver.key 600",
            "pki/apiserver.crt 644",
            "pki/apiserver-kubelet-client.key 600",
            "pki/apiserver-kubelet-client.crt 644",
            "pki/front-proxy-ca.key 600",
            "pki/front-proxy-ca.crt 644",
            "pki/front-proxy-client.key 600",
            "pki/front-proxy-client.crt 644",
            "pki/etcd/ca.key 600",
            "pki/etcd/ca.crt 644",
            "pki/etcd/server.key 600",
            "pki/etcd/server.crt 644",
            "pki/etcd/peer.key 600",
            "pki/etcd/peer.crt 644",
            "pki/etcd/healthcheck-client.key 600",
            "pki/etcd/healthcheck-client.crt 644",
            "pki/apiserver-etcd-client.key 600",
            "pki/apiserver-etcd-client.crt 644",
            "pki/sa.key 600",
            "pki/sa.pub 600",
            "admin.conf 600",
            "super-admin.conf 600",
            "kubelet.conf 600",
            "controller-manager.conf 600",
            "scheduler.conf 600",
        ]
    );
    // Host paths follow certificatesDir.
    assert_eq!(out.artifacts[0].path, "etc/kubernetes/pki/ca.key");
    assert_eq!(
        out.artifacts.last().unwrap().path,
        "etc/kubernetes/scheduler.conf"
    );
    // The discovery hash is sha256 of ca.crt's SPKI (`cmd/kubeadm/app/util/pubkeypin`), computed by openssl.
    let spki = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl x509 -pubkey -noout -in {} | openssl pkey -pubin -outform der | openssl dgst -sha256 -r",
            p(dir.path(), "pki/ca.crt")
        ))
        .output()
        .unwrap();
    let hex = String::from_utf8(spki.stdout).unwrap();
    assert_eq!(
        out.discovery_token_ca_cert_hash,
        format!("sha256:{}", hex.split_whitespace().next().unwrap())
    );
}

#[test]
fn ecdsa_p256_tree_reads_back_as_specified() {
    let mut i = input();
    i.encryption_algorithm = EncryptionAlgorithm::EcdsaP256;
    let (dir, _) = render_dir(&i, &secrets());
    check_tree(
        dir.path(),
        "-----BEGIN EC PRIVATE KEY-----\n",
        "ASN1 OID: prime256v1",
    );
    let t = text(dir.path(), "pki/apiserver.crt");
    assert!(t.contains("Signature Algorithm: ecdsa-with-SHA256"));
}

#[test]
fn rsa_3072_tree_reads_back_as_specified() {
    let mut i = input();
    i.encryption_algorithm = EncryptionAlgorithm::Rsa3072;
    let (dir, out) = render_dir(&i, &secrets());
    check_tree(
        dir.path(),
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "Public-Key: (3072 bit)",
    );
    assert!(out
        .certificates
        .iter()
        .all(|c| c.key_algorithm == "RSA 3072"));
}

#[test]
fn kubeconfig_yaml_shape_matches_client_go() {
    let out = render(&input(), &secrets());
    let conf = String::from_utf8(out.get("kubelet.conf").unwrap().bytes.clone()).unwrap();
    let shape: Vec<String> = conf
        .lines()
        .map(|l| match l.split_once("-data: ") {
            Some((k, _)) => format!("{k}-data: <base64>"),
            None => l.to_string(),
        })
        .collect();
    assert_eq!(
        shape.join("\n"),
        "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: <base64>
    server: https://k8s.example.com:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: system:node:cp-1
  name: system:node:cp-1@kubernetes
current-context: system:node:cp-1@kubernetes
kind: Config
preferences: {}
users:
- name: system:node:cp-1
  user:
    client-certificate-data: <base64>
    client-key-data: <base64>"
    );
    assert!(conf.ends_with("\n"));
}

#[test]
fn server_urls_follow_local_mode_ipv6_and_missing_endpoint() {
    let mut i = input();
    i.control_plane_kubelet_local_mode = true;
    let out = render(&i, &secrets());
    let kubelet = String::from_utf8(out.get("kubelet.conf").unwrap().bytes.clone()).unwrap();
    assert!(kubelet.contains("server: https://192.168.0.10:6443\n"));
    let admin = String::from_utf8(out.get("admin.conf").unwrap().bytes.clone()).unwrap();
    assert!(admin.contains("server: https://k8s.example.com:6443\n"));

    let mut i = kbc::pki::PkiInput::new("node-a", "fd00::10".parse().unwrap());
    i.bind_port = 7443;
    i.external_etcd = true;
    i.cluster_name = "prod".into();
    let out = render(&i, &secrets());
    let admin = String::from_utf8(out.get("admin.conf").unwrap().bytes.clone()).unwrap();
    assert!(
        admin.contains("server: https://[fd00::10]:7443\n"),
        "{admin}"
    );
    assert!(admin.contains("current-context: kubernetes-admin@prod\n"));
    // External etcd: no etcd PKI at all (`certlist.go`).
    assert!(out
        .artifacts
        .iter()
        .all(|a| !a.kubeadm_path.contains("etcd")));
    assert_eq!(out.artifacts.len(), 10 + 2 + 5);
    let apiserver = out
        .certificates
        .iter()
        .find(|c| c.name == "apiserver")
        .unwrap();
    assert_eq!(
        apiserver.dns_names,
        [
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "node-a"
        ]
    );
    assert_eq!(
        apiserver.ip_addresses,
        [
            "10.96.0.1".parse::<std::net::IpAddr>().unwrap(),
            "fd00::10".parse().unwrap()
        ]
    );
}

#[test]
fn san_post_processing_follows_kubeadm() {
    let mut i = kbc::pki::PkiInput::new("worker", "10.1.2.3".parse().unwrap());
    i.control_plane_endpoint = Some("10.1.2.100:6443".into());
    i.api_server_cert_sans = vec![
        "API.Example.com".into(),
        "*.apps.example.com".into(),
        "010.001.002.003".into(),
        "::ffff:10.9.9.9".into(),
        "10.9.9.9".into(),
        "not_valid!".into(),
        "kubernetes".into(),
    ];
    // kubeadm lower-cases apiServer.certSANs only; a capitalised etcd SAN is skipped.
    i.etcd_server_cert_sans = vec![
        "etcd.internal".into(),
        "10.1.2.3".into(),
        "Etcd.Upper".into(),
    ];
    let out = render(&i, &secrets());
    let api = out
        .certificates
        .iter()
        .find(|c| c.name == "apiserver")
        .unwrap();
    assert_eq!(
        api.dns_names,
        [
            "*.apps.example.com",
            "api.example.com",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "worker"
        ]
    );
    let ips: Vec<String> = api.ip_addresses.iter().map(|i| i.to_string()).collect();
    assert_eq!(ips, ["10.96.0.1", "10.1.2.3", "10.1.2.100", "10.9.9.9"]);
    assert!(
        out.warnings.iter().any(|w| w.contains("not_valid!")),
        "{:?}",
        out.warnings
    );
    let etcd = out
        .certificates
        .iter()
        .find(|c| c.name == "etcd-server")
        .unwrap();
    // "localhost" < "worker": sorted, not in build order.
    assert_eq!(etcd.dns_names, ["etcd.internal", "localhost", "worker"]);
    let ips: Vec<String> = etcd.ip_addresses.iter().map(|i| i.to_string()).collect();
    assert_eq!(ips, ["10.1.2.3", "127.0.0.1", "::1"]);
}

#[test]
fn validity_periods_follow_the_input() {
    let mut i = input();
    i.cert_validity = std::time::Duration::from_secs(48 * 3600);
    i.ca_validity = std::time::Duration::from_secs(1000 * 3600);
    let out = render(&i, &secrets());
    for c in &out.certificates {
        let want = if c.is_ca {
            1000 * 3600 + 300
        } else {
            48 * 3600 + 300
        };
        assert_eq!(c.validity.as_secs(), want, "{}", c.name);
    }
}
