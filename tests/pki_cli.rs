//! The `kbc secrets` and `kbc certs` commands, run as a user runs them (the built binary).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kbc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kbc"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the kbc binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tree(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u32, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = e.path().strip_prefix(base).unwrap().display().to_string();
            let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
            if e.file_type().unwrap().is_dir() {
                out.push((format!("{rel}/"), mode, Vec::new()));
                walk(base, &e.path(), out);
            } else {
                out.push((rel, mode, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn secrets_generate_is_private_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secrets.yaml");
    let o = run(kbc().args(["secrets", "generate", "-o"]).arg(&f));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let first = std::fs::read(&f).unwrap();
    let text = String::from_utf8(first.clone()).unwrap();
    assert!(text.contains("version: kbc.secrets/v1\n"), "{text}");
    assert!(o.stdout.is_empty(), "the seed must not be printed");

    let o = run(kbc().args(["secrets", "generate", "-o"]).arg(&f));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--force") && stderr(&o).contains("secrets.yaml"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&f).unwrap(), first);

    let o = run(kbc().args(["secrets", "generate", "--force", "-o"]).arg(&f));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(&f).unwrap(), first, "a new seed");
}

#[test]
fn secrets_generate_checks_supplied_ca_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.yaml");
    assert!(run(kbc().args(["secrets", "generate", "-o"]).arg(&s))
        .status
        .success());
    let out = dir.path().join("out");
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&s)
        .args(["--issued-at", "2026-11-25T12:00:00Z", "-o"])
        .arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));

    let target = dir.path().join("with-ca.yaml");
    let o = run(kbc()
        .args(["secrets", "generate", "-o"])
        .arg(&target)
        .arg("--ca-cert")
        .arg(out.join("pki/ca.crt"))
        .arg("--ca-key")
        .arg(out.join("pki/front-proxy-ca.key")));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("front-proxy-ca.key") && stderr(&o).contains("does not match"),
        "{}",
        stderr(&o)
    );
    assert!(!target.exists(), "nothing may be written");

    let o = run(kbc()
        .args(["secrets", "generate", "-o"])
        .arg(&target)
        .arg("--ca-cert")
        .arg(out.join("pki/ca.crt"))
        .arg("--ca-key")
        .arg(out.join("pki/ca.key"))
        .arg("--sa-key")
        .arg(out.join("pki/sa.key")));
    assert!(o.status.success(), "{}", stderr(&o));
    // A render with that file keeps the CA and sa.key.
    let again = dir.path().join("again");
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&target)
        .args(["--issued-at", "2026-11-26T00:00:00Z", "-o"])
        .arg(&again));
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["pki/ca.crt", "pki/ca.key", "pki/sa.key", "pki/sa.pub"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_ne!(
        std::fs::read(out.join("pki/apiserver.key")).unwrap(),
        std::fs::read(again.join("pki/apiserver.key")).unwrap()
    );
}

/// `kbc certs render` in two processes: other thread count, TZ, umask and locale; the
/// trees (bytes and modes) must be identical.
#[test]
fn render_is_deterministic_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.yaml");
    assert!(run(kbc().args(["secrets", "generate", "-o"]).arg(&s))
        .status
        .success());
    let render = |out: &Path, threads: &str, tz: &str, umask: &str| {
        let o = run(Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_kbc"))
            .args(["certs", "render"])
            .arg(fixture("single-node.yaml"))
            .arg("--secrets")
            .arg(&s)
            .args(["--issued-at", "2026-11-25T12:00:00Z", "-o"])
            .arg(out)
            .env("KBC_THREADS", threads)
            .env("TZ", tz)
            .env("LC_ALL", "C"));
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let hash_a = render(&a, "1", "UTC", "022");
    let hash_b = render(&b, "2", "Asia/Kathmandu", "077");
    assert_eq!(hash_a, hash_b);
    assert!(
        hash_a.starts_with("discovery-token-ca-cert-hash: sha256:"),
        "{hash_a}"
    );
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.len(), 29);
    assert_eq!(ta, tb);

    // SOURCE_DATE_EPOCH stands in for --issued-at.
    let c = dir.path().join("c");
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&s)
        .arg("-o")
        .arg(&c)
        .env("SOURCE_DATE_EPOCH", "1795608000"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        tree(&c),
        ta,
        "SOURCE_DATE_EPOCH 1795608000 is 2026-11-25T12:00:00Z"
    );

    // Rendering again over an existing tree is refused, nothing is changed.
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&s)
        .args(["--issued-at", "2027-01-01T00:00:00Z", "-o"])
        .arg(&a));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(tree(&a), ta);

    // --pki-dir reuses everything: same tree from another seed and time.
    let s2 = dir.path().join("s2.yaml");
    assert!(run(kbc().args(["secrets", "generate", "-o"]).arg(&s2))
        .status
        .success());
    let d = dir.path().join("d");
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&s2)
        .args(["--issued-at", "2027-01-01T00:00:00Z", "--pki-dir"])
        .arg(a.join("pki"))
        .arg("-o")
        .arg(&d));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(tree(&d), ta);
}

#[test]
fn render_refuses_bad_secrets_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("bad.yaml");
    std::fs::write(&s, "version: kbc.secrets/v7\nseed: 00\n").unwrap();
    let out = dir.path().join("out");
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&s)
        .args(["--issued-at", "2026-11-25T12:00:00Z", "-o"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.yaml") && stderr(&o).contains("unknown secrets version"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());

    std::fs::write(&s, "version: kbc.secrets/v1\nseed: 0123456789abcdef\n").unwrap();
    let o = run(kbc()
        .args(["certs", "render"])
        .arg(fixture("single-node.yaml"))
        .arg("--secrets")
        .arg(&s)
        .args(["--issued-at", "2026-11-25T12:00:00Z", "-o"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.yaml") && stderr(&o).contains("64 hex digits"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn check_expiration_reads_a_pki_dir() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.yaml");
    assert!(run(kbc().args(["secrets", "generate", "-o"]).arg(&s))
        .status
        .success());
    let out = dir.path().join("out");
    assert!(run(kbc()
        .args(["certs", "render"])
        .arg(fixture("external-etcd.yaml"))
        .arg("--secrets")
        .arg(&s)
        .args(["--issued-at", "2026-11-25T12:00:00Z", "-o"])
        .arg(&out))
    .status
    .success());
    let o = run(kbc()
        .args(["certs", "check-expiration", "--pki-dir"])
        .arg(out.join("pki"))
        .args(["--now", "2026-11-25T12:01:00Z"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with(
        "CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n\
         admin.conf                 Nov 25, 2027 12:00 UTC   364d            ca                      no      \n"
    ), "{text}");
    assert!(
        !text.contains("etcd"),
        "external etcd: no etcd rows\n{text}"
    );
    assert!(text.contains("\nCERTIFICATE AUTHORITY   EXPIRES"), "{text}");

    let o = run(kbc()
        .args(["certs", "check-expiration", "--pki-dir"])
        .arg(dir.path().join("nope")));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
}

#[test]
fn check_expiration_reads_a_bundle() {
    let mut input = kbc::pki::PkiInput::new("cp-1", "10.0.0.2".parse().unwrap());
    input.certificates_dir = "/srv/k8s/pki".into();
    let at = kbc::pki::IssueTime::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
    let secrets = kbc::secrets::Secrets::from_seed([5; 32]);
    let out = crate::pki_support::render_pki(
        &input,
        &secrets,
        at,
        &kbc::pki::Provided::default(),
        &crate::common::keys(),
    )
    .unwrap();
    let files = out
        .artifacts
        .iter()
        .map(|a| kbc_bundle::NewFile {
            path: format!("rootfs/{}", a.path),
            mode: a.mode,
            secret: a.secret,
            data: a.bytes.clone(),
        })
        .collect();
    let manifest = kbc_bundle::Manifest {
        format: kbc_bundle::FORMAT.into(),
        kbc_version: "test".into(),
        derivation: kbc::pki::DERIVATION.into(),
        kubernetes_version: "v1.31.2".into(),
        cluster_name: "kubernetes".into(),
        node_name: "cp-1".into(),
        control_plane_endpoint: "10.0.0.2:6443".into(),
        issued_at: "2026-11-25T12:00:00Z".into(),
        config_sha256: "0".repeat(64),
        files: Vec::new(),
        apply: serde_json::json!({}),
        extra: Default::default(),
    };
    let (tgz, _) = kbc_bundle::write(manifest, files, at.unix() as u64).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bundle.tgz");
    std::fs::write(&b, tgz).unwrap();
    let o = run(kbc()
        .args(["certs", "check-expiration", "--bundle"])
        .arg(&b)
        .args(["--now", "2026-11-25T12:01:00Z"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("etcd-server                Nov 25, 2027 12:00 UTC   364d            etcd-ca                 no      \n"), "{text}");
    assert!(
        text.contains("super-admin.conf           Nov 25, 2027 12:00 UTC   364d"),
        "{text}"
    );
    assert!(!text.contains("MISSING"), "{text}");

    std::fs::write(&b, b"not a bundle").unwrap();
    let o = run(kbc()
        .args(["certs", "check-expiration", "--bundle"])
        .arg(&b));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bundle.tgz"), "{}", stderr(&o));
    // One source only.
    let o = run(kbc()
        .args(["certs", "check-expiration", "--bundle"])
        .arg(&b)
        .arg("--pki-dir")
        .arg(dir.path()));
    assert_eq!(o.status.code(), Some(2));
}
