//! Existing files (`--pki-dir`, CA pairs in the secrets file): reuse as kubeadm does,
//! external CA mode, and bad input refused with an error naming the file and nothing
//! written.

use crate::pki_support as support;

use std::path::Path;

use kbc::pki::{CaId, IssueTime, PkiInput, Provided};
use kbc::secrets::{CaPair, Secrets};
use support::*;

/// Renders with `pki_dir` into a fresh output dir; returns the error text and asserts that
/// nothing was written.
fn refused(input: &PkiInput, secrets: &Secrets, pki_dir: Option<&Path>) -> String {
    let provided = match pki_dir {
        Some(d) => match kbc::edge::read_pki_dir(d, input) {
            Ok(p) => p,
            Err(e) => return e.to_string(),
        },
        None => Provided::default(),
    };
    // Rendering is pure: a refused input never reaches the writer.
    let err =
        crate::pki_support::render_pki(input, secrets, at(), &provided, &crate::common::keys())
            .expect_err("bad input was accepted");
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

fn other_secrets() -> Secrets {
    Secrets::from_seed([0xaa; 32])
}

/// The test input rendered with another seed than the one that made `provided`.
fn render_reusing(provided: &Provided) -> Result<kbc::pki::PkiOutput, kbc::pki::PkiError> {
    crate::pki_support::render_pki(
        &input(),
        &other_secrets(),
        at(),
        provided,
        &crate::common::keys(),
    )
}

#[test]
fn existing_pki_dir_is_reused_byte_for_byte() {
    let (a, out_a) = render_dir(&input(), &secrets());
    // Another seed: every file still comes from the existing dir.
    let provided = kbc::edge::read_pki_dir(&a.path().join("pki"), &input()).unwrap();
    let out_b = render_reusing(&provided).unwrap();
    assert_eq!(out_a.artifacts, out_b.artifacts);
    assert!(out_b.certificates.iter().all(|c| c.reused));
    assert!(out_b.external_cas.is_empty());
}

#[test]
fn partial_pki_dir_keeps_cas_and_regenerates_the_rest() {
    let (a, out_a) = render_dir(&input(), &secrets());
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(pki.join("etcd")).unwrap();
    for f in ["ca.crt", "ca.key", "etcd/ca.crt", "etcd/ca.key"] {
        std::fs::copy(a.path().join("pki").join(f), pki.join(f)).unwrap();
    }
    let provided = kbc::edge::read_pki_dir(&pki, &input()).unwrap();
    let out_b = render_reusing(&provided).unwrap();
    let g = |o: &kbc::pki::PkiOutput, n: &str| o.get(n).unwrap().bytes.clone();
    assert_eq!(g(&out_a, "pki/ca.crt"), g(&out_b, "pki/ca.crt"));
    assert_eq!(g(&out_a, "pki/etcd/ca.key"), g(&out_b, "pki/etcd/ca.key"));
    assert_ne!(
        g(&out_a, "pki/front-proxy-ca.crt"),
        g(&out_b, "pki/front-proxy-ca.crt")
    );
    assert_ne!(
        g(&out_a, "pki/apiserver.key"),
        g(&out_b, "pki/apiserver.key")
    );
    // New leaves chain to the reused CA.
    let out = tempfile::tempdir().unwrap();
    kbc::edge::write_kubeadm_layout(&out_b, out.path()).unwrap();
    ok(
        "openssl",
        &[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            &p(a.path(), "pki/ca.crt"),
            &p(out.path(), "pki/apiserver.crt"),
        ],
    );
}

#[test]
fn external_ca_mode_reuses_everything_without_ca_key() {
    let (a, _) = render_dir(&input(), &secrets());
    std::fs::remove_file(a.path().join("pki/ca.key")).unwrap();
    let provided = kbc::edge::read_pki_dir(&a.path().join("pki"), &input()).unwrap();
    let out = render_reusing(&provided).unwrap();
    assert_eq!(out.external_cas, [CaId::Ca]);
    assert!(out.get("pki/ca.key").is_none());
    assert_eq!(out.artifacts.len(), 26);
    for art in &out.artifacts {
        assert_eq!(
            art.bytes,
            std::fs::read(a.path().join(&art.kubeadm_path)).unwrap(),
            "{}",
            art.kubeadm_path
        );
    }
    // Missing files: one error listing all of them.
    for f in ["pki/apiserver.key", "admin.conf", "pki/sa.key"] {
        std::fs::remove_file(a.path().join(f)).unwrap();
    }
    let e = refused(&input(), &other_secrets(), Some(&a.path().join("pki")));
    assert!(e.contains("external CA mode"), "{e}");
    for f in ["apiserver.key", "admin.conf", "sa.key"] {
        assert!(e.contains(f), "{f} not listed: {e}");
    }
}

#[test]
fn external_etcd_ca_needs_its_leaves() {
    let (a, _) = render_dir(&input(), &secrets());
    std::fs::remove_file(a.path().join("pki/etcd/ca.key")).unwrap();
    std::fs::remove_file(a.path().join("pki/etcd/peer.crt")).unwrap();
    let e = refused(&input(), &secrets(), Some(&a.path().join("pki")));
    assert!(e.contains("etcd-ca") && e.contains("etcd/peer.crt"), "{e}");
    assert!(!e.contains("admin.conf"), "{e}");
}

#[test]
fn ca_from_the_secrets_file_signs_the_leaves() {
    let (a, _) = render_dir(&input(), &secrets());
    let mut s = other_secrets();
    s.front_proxy_ca = Some(CaPair {
        certificate: std::fs::read_to_string(a.path().join("pki/front-proxy-ca.crt")).unwrap(),
        key: std::fs::read_to_string(a.path().join("pki/front-proxy-ca.key")).unwrap(),
    });
    let (b, out) = render_dir(&input(), &s);
    assert_eq!(
        std::fs::read(a.path().join("pki/front-proxy-ca.crt")).unwrap(),
        out.get("pki/front-proxy-ca.crt").unwrap().bytes
    );
    ok(
        "openssl",
        &[
            "verify",
            "-purpose",
            "sslclient",
            "-CAfile",
            &p(a.path(), "pki/front-proxy-ca.crt"),
            &p(b.path(), "pki/front-proxy-client.crt"),
        ],
    );
}

#[test]
fn user_ca_with_other_subject_and_p384_key() {
    // A CA made by openssl: several RDNs, UTF8String values, P-384 key, PKCS#8 key file.
    let dir = tempfile::tempdir().unwrap();
    let crt = p(dir.path(), "ca.crt");
    let key = p(dir.path(), "ca.key");
    ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "3650",
            "-subj",
            "/C=DE/O=Example Corp/OU=Platform/CN=Example Root CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let mut s = secrets();
    s.ca = Some(CaPair {
        certificate: std::fs::read_to_string(&crt).unwrap(),
        key: std::fs::read_to_string(&key).unwrap(),
    });
    let at_now = IssueTime::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .unwrap();
    let out = crate::pki_support::render_pki(
        &input(),
        &s,
        at_now,
        &Provided::default(),
        &crate::common::keys(),
    )
    .unwrap();
    let o = tempfile::tempdir().unwrap();
    kbc::edge::write_kubeadm_layout(&out, o.path()).unwrap();
    let t = ok(
        "openssl",
        &[
            "x509",
            "-noout",
            "-text",
            "-in",
            &p(o.path(), "pki/apiserver.crt"),
        ],
    );
    assert!(t.contains("Signature Algorithm: ecdsa-with-SHA384"), "{t}");
    assert!(t.contains("Issuer: C = DE, O = Example Corp, OU = Platform, CN = Example Root CA"));
    ok(
        "openssl",
        &[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-CAfile",
            &crt,
            &p(o.path(), "pki/apiserver.crt"),
        ],
    );
    let scratch = tempfile::tempdir().unwrap();
    let (c, _) = kubeconfig_client(&o.path().join("admin.conf"), scratch.path(), "admin");
    ok(
        "openssl",
        &[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            &crt,
            c.to_str().unwrap(),
        ],
    );
    // Kubeconfig client certificates start at the CA's NotBefore (kubeadm's signer, `cmd/kubeadm/app/util/pkiutil/pki_helpers.go`).
    let ca_nb = ok("openssl", &["x509", "-noout", "-startdate", "-in", &crt]);
    let c_nb = ok(
        "openssl",
        &["x509", "-noout", "-startdate", "-in", c.to_str().unwrap()],
    );
    assert_eq!(ca_nb, c_nb);
}

fn pki_with(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(pki.join("etcd")).unwrap();
    for (name, bytes) in files {
        std::fs::write(pki.join(name), bytes).unwrap();
    }
    dir
}

#[test]
fn mismatched_ca_key_is_refused() {
    let out = render(&input(), &secrets());
    let b = |n: &str| out.get(n).unwrap().bytes.clone();
    let d = pki_with(&[
        ("ca.crt", b("pki/ca.crt")),
        ("ca.key", b("pki/front-proxy-ca.key")),
    ]);
    let e = refused(&input(), &other_secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/ca.key") && e.contains("does not match"),
        "{e}"
    );
    // The same through the secrets file names the file and the field.
    let mut s = Secrets::parse(&other_secrets().to_yaml(), "my-secrets.yaml").unwrap();
    s.ca = Some(CaPair {
        certificate: String::from_utf8(b("pki/ca.crt")).unwrap(),
        key: String::from_utf8(b("pki/etcd/ca.key")).unwrap(),
    });
    let e = refused(&input(), &s, None);
    assert!(
        e.contains("my-secrets.yaml (ca.key)") && e.contains("does not match"),
        "{e}"
    );
}

#[test]
fn a_certificate_that_is_not_a_ca_is_refused() {
    let out = render(&input(), &secrets());
    let b = |n: &str| out.get(n).unwrap().bytes.clone();
    let d = pki_with(&[
        ("ca.crt", b("pki/apiserver.crt")),
        ("ca.key", b("pki/apiserver.key")),
    ]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/ca.crt") && e.contains("not a certificate authority"),
        "{e}"
    );
}

#[test]
fn an_expired_ca_is_refused() {
    let mut old_input = input();
    old_input.ca_validity = std::time::Duration::from_secs(24 * 3600);
    let old = crate::pki_support::render_pki(
        &old_input,
        &secrets(),
        IssueTime::parse_rfc3339("2020-01-01T00:00:00Z").unwrap(),
        &Provided::default(),
        &crate::common::keys(),
    )
    .unwrap();
    let b = |n: &str| old.get(n).unwrap().bytes.clone();
    let d = pki_with(&[
        ("etcd/ca.crt", b("pki/etcd/ca.crt")),
        ("etcd/ca.key", b("pki/etcd/ca.key")),
    ]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/etcd/ca.crt") && e.contains("expired"),
        "{e}"
    );
}

#[test]
fn malformed_or_unreadable_pem_is_refused() {
    let out = render(&input(), &secrets());
    let b = |n: &str| out.get(n).unwrap().bytes.clone();
    let bad_cert =
        b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
            .to_vec();
    let d = pki_with(&[
        ("front-proxy-ca.crt", bad_cert),
        ("front-proxy-ca.key", b("pki/front-proxy-ca.key")),
    ]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/front-proxy-ca.crt") && e.contains("malformed certificate"),
        "{e}"
    );

    let d = pki_with(&[("ca.crt", b"hello\n".to_vec()), ("ca.key", b("pki/ca.key"))]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/ca.crt") && e.contains("no PEM-encoded certificate"),
        "{e}"
    );

    let d = pki_with(&[
        ("ca.crt", b("pki/ca.crt")),
        (
            "ca.key",
            b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n".to_vec(),
        ),
    ]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/ca.key") && e.contains("neither in RSA nor ECDSA"),
        "{e}"
    );

    // Unreadable: a directory where the file should be.
    let d = pki_with(&[]);
    std::fs::create_dir_all(d.path().join("pki/sa.key")).unwrap();
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(e.contains("pki/sa.key"), "{e}");

    // A leaf from another CA.
    let other = render(&input(), &other_secrets());
    let d = pki_with(&[
        ("ca.crt", b("pki/ca.crt")),
        ("ca.key", b("pki/ca.key")),
        (
            "apiserver.crt",
            other.get("pki/apiserver.crt").unwrap().bytes.clone(),
        ),
        (
            "apiserver.key",
            other.get("pki/apiserver.key").unwrap().bytes.clone(),
        ),
    ]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("pki/apiserver.crt") && e.contains("not signed by the ca"),
        "{e}"
    );

    // An existing apiserver certificate lacking a SAN kubeadm needs.
    let mut more = input();
    more.api_server_cert_sans.push("extra.example.com".into());
    let d = pki_with(&[
        ("ca.crt", b("pki/ca.crt")),
        ("ca.key", b("pki/ca.key")),
        ("apiserver.crt", b("pki/apiserver.crt")),
        ("apiserver.key", b("pki/apiserver.key")),
    ]);
    let e = refused(&more, &secrets(), Some(&d.path().join("pki")));
    assert!(e.contains("extra.example.com"), "{e}");
}

#[test]
fn bad_secrets_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secrets.yaml");
    let name = f.display().to_string();
    let cases = [
        ("version: kbc.secrets/v2\nseed: 00\n", "unknown secrets version"),
        ("seed: 0011\n", "no secrets version"),
        ("version: kbc.secrets/v1\nseed: 0011223344\n", "64 hex digits"),
        (
            "version: kbc.secrets/v1\nseed: zz11223344556677889900112233445566778899001122334455667788990011\n",
            "not all hex digits",
        ),
        ("version: kbc.secrets/v1\nseed: [1, 2\n", "not a kbc secrets file"),
        (
            "version: kbc.secrets/v1\nseed: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nextra: 1\n",
            "not a kbc secrets file",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(&f, text).unwrap();
        let e = kbc::edge::load_secrets(&f).unwrap_err().to_string();
        assert!(
            // The file, then (for a problem at a place in it) its line and column.
            e.starts_with(&format!("{name}:")) && e.contains(want),
            "{text:?}: {e}"
        );
    }
    let e = kbc::edge::load_secrets(&dir.path().join("missing.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.yaml"), "{e}");
}

#[test]
fn secrets_file_is_private_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.yaml");
    let s = Secrets::generate().unwrap();
    kbc::edge::write_secrets(&s, &f, false).unwrap();
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let back = kbc::edge::load_secrets(&f).unwrap();
    assert_eq!(back.seed, s.seed);
    let e = kbc::edge::write_secrets(&Secrets::generate().unwrap(), &f, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--force"), "{e}");
    assert_eq!(kbc::edge::load_secrets(&f).unwrap().seed, s.seed);
    let t = Secrets::generate().unwrap();
    kbc::edge::write_secrets(&t, &f, true).unwrap();
    assert_eq!(kbc::edge::load_secrets(&f).unwrap().seed, t.seed);
    assert_ne!(s.seed, t.seed);
    // CA pairs are checked when added from files.
    let (a, _) = render_dir(&input(), &secrets());
    let file = |name: &str| kbc::edge::read_input_text(&a.path().join(name)).unwrap();
    let load_ca_pair = |c: &str, k: &str| kbc::secrets::ca_pair(file(c), file(k));
    let load_sa_pair = |k: &str, p: &str| kbc::secrets::sa_pair(file(k), Some(file(p)));
    let ok_pair = load_ca_pair("pki/ca.crt", "pki/ca.key");
    assert!(ok_pair.is_ok());
    let e = load_ca_pair("pki/ca.crt", "pki/sa.key")
        .unwrap_err()
        .to_string();
    assert!(e.contains("sa.key") && e.contains("does not match"), "{e}");
    let e = load_ca_pair("pki/apiserver.crt", "pki/apiserver.key")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("apiserver.crt") && e.contains("not a certificate authority"),
        "{e}"
    );
    let mut with_ca = Secrets::generate().unwrap();
    with_ca.ca = Some(ok_pair.unwrap());
    with_ca.service_account = Some(load_sa_pair("pki/sa.key", "pki/sa.pub").unwrap());
    let g = dir.path().join("with-ca.yaml");
    kbc::edge::write_secrets(&with_ca, &g, false).unwrap();
    let back = kbc::edge::load_secrets(&g).unwrap();
    assert_eq!(back.ca, with_ca.ca);
    assert_eq!(back.service_account, with_ca.service_account);
    let e = load_sa_pair("pki/sa.key", "pki/ca.crt")
        .unwrap_err()
        .to_string();
    assert!(e.contains("ca.crt"), "{e}");
}

#[test]
fn conflicting_sources_are_refused() {
    let (a, _) = render_dir(&input(), &secrets());
    let other = render(&input(), &other_secrets());
    let mut s = secrets();
    s.ca = Some(CaPair {
        certificate: String::from_utf8(other.get("pki/ca.crt").unwrap().bytes.clone()).unwrap(),
        key: String::from_utf8(other.get("pki/ca.key").unwrap().bytes.clone()).unwrap(),
    });
    let e = refused(&input(), &s, Some(&a.path().join("pki")));
    assert!(e.contains("conflicts with"), "{e}");
}

#[test]
fn existing_kubeconfigs_and_pairs_are_checked() {
    let out = render(&input(), &secrets());
    let other = render(&input(), &other_secrets());
    let b = |o: &kbc::pki::PkiOutput, n: &str| o.get(n).unwrap().bytes.clone();
    let base = [
        ("ca.crt", b(&out, "pki/ca.crt")),
        ("ca.key", b(&out, "pki/ca.key")),
    ];
    // A kubeconfig carrying another CA is an error (kubeadm's `validateKubeConfig`, `cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go`).
    let d = pki_with(&base);
    std::fs::write(d.path().join("admin.conf"), b(&other, "admin.conf")).unwrap();
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(e.contains("admin.conf") && e.contains("another CA"), "{e}");
    // The same CA but another server URL is only a warning, and the file is kept.
    let mut moved = input();
    moved.control_plane_endpoint = Some("api.moved.example:443".into());
    let d = pki_with(&base);
    std::fs::write(d.path().join("admin.conf"), b(&out, "admin.conf")).unwrap();
    let provided = kbc::edge::read_pki_dir(&d.path().join("pki"), &moved).unwrap();
    let o =
        crate::pki_support::render_pki(&moved, &secrets(), at(), &provided, &crate::common::keys())
            .unwrap();
    assert_eq!(o.get("admin.conf").unwrap().bytes, b(&out, "admin.conf"));
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("admin.conf") && w.contains("server URL")),
        "{:?}",
        o.warnings
    );
    let super_admin = String::from_utf8(o.get("super-admin.conf").unwrap().bytes.clone()).unwrap();
    assert!(super_admin.contains("server: https://api.moved.example:443\n"));
    // A certificate without its key.
    let mut files = base.to_vec();
    files.push(("apiserver.crt", b(&out, "pki/apiserver.crt")));
    let d = pki_with(&files);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(
        e.contains("apiserver.crt") && e.contains("apiserver.key"),
        "{e}"
    );
    // sa.pub that is not sa.key's public key.
    let d = pki_with(&[
        ("sa.key", b(&out, "pki/sa.key")),
        ("sa.pub", b(&other, "pki/sa.pub")),
    ]);
    let e = refused(&input(), &secrets(), Some(&d.path().join("pki")));
    assert!(e.contains("sa.pub") && e.contains("does not match"), "{e}");
    // sa.key alone: kept, sa.pub derived from it.
    let d = pki_with(&[("sa.key", b(&out, "pki/sa.key"))]);
    let provided = kbc::edge::read_pki_dir(&d.path().join("pki"), &input()).unwrap();
    let o = render_reusing(&provided).unwrap();
    assert_eq!(o.get("pki/sa.pub").unwrap().bytes, b(&out, "pki/sa.pub"));
}
