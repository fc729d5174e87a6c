//! The public review rendering: `kbc render` snapshots for every valid fixture (the review
//! snapshots users copy into their CI), `kbc render` == `kbc inspect` of the compiled bundle
//! (so the keyless PKI plan matches the real PKI), stability across seed and issue time, no
//! secret bytes in the output, the cluster-info JWS checked with Python's hmac, `kbc diff`.

use crate::common::{kbc, kbc_ok as ok, root};
use std::path::Path;
use std::process::Command;

use base64::Engine;

const SECRETS: &str = "fixtures/secrets/test-secrets.yaml";
const AT: &str = "2026-11-25T12:00:00Z";

fn rel(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().display().to_string()
}

fn valid_fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| rel(&p))
        .collect();
    v.sort();
    assert!(v.len() >= 7, "fixtures/*.yaml: {v:?}");
    v
}

fn compile(fixture: &str, out: &Path, secrets: &str, at: &str, extra: &[&str]) {
    let mut args = vec![
        "compile",
        fixture,
        "--secrets",
        secrets,
        "--issued-at",
        at,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    // In this process with the shared key cache: the renderings under test come from the
    // `kbc` binary (render, inspect); the compile only makes the bundle.
    crate::common::compile_in_process(&args);
}

/// `kbc inspect` without its own header: what must equal `kbc render`.
fn body(inspect: &str) -> &str {
    let at = inspect
        .find(kbc::review::TITLE)
        .expect("inspect prints the rendering");
    &inspect[at..]
}

#[test]
fn render_snapshots() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let fixture = rel(path);
        let text = ok(&["render", &fixture]);
        assert!(text.starts_with(kbc::review::TITLE));
        insta::with_settings!({ description => fixture.clone(), omit_expression => true }, {
            insta::assert_snapshot!(text);
        });
    });
}

/// `kbc render` reads no seed and no clock: the environment that sets them for `kbc compile`
/// changes nothing.
#[test]
fn render_ignores_seed_and_time_inputs() {
    let plain = ok(&["render", "fixtures/single-node.yaml", "--upload-certs"]);
    let o = Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(["render", "fixtures/single-node.yaml", "--upload-certs"])
        .env("SOURCE_DATE_EPOCH", "1990000000")
        .env("KBC_THREADS", "3")
        .env("TZ", "Pacific/Kiritimati")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), plain);
}

#[test]
fn render_equals_inspect_of_the_compiled_bundle_for_every_fixture() {
    let dir = tempfile::tempdir().unwrap();
    for fixture in valid_fixtures() {
        for extra in [&[][..], &["--upload-certs"][..]] {
            let out = dir.path().join("b.tgz");
            compile(&fixture, &out, SECRETS, AT, extra);
            let inspect = ok(&["inspect", out.to_str().unwrap()]);
            assert!(inspect.contains("\nverification: ok\n"), "{fixture}");
            // --secrets: what the secrets file holds besides the seed (the external etcd
            // client files) is shown as the bundle holds it.
            let mut args = vec!["render", fixture.as_str(), "--secrets", SECRETS];
            args.extend_from_slice(extra);
            let render = ok(&args);
            if body(&inspect) != render {
                let diff = similar::TextDiff::from_lines(render.as_str(), body(&inspect))
                    .unified_diff()
                    .header("render", "inspect")
                    .to_string();
                panic!("{fixture} {extra:?}: render and inspect differ:\n{diff}");
            }
        }
    }
}

/// `kbc render --pki-dir`: reused files are shown from their bytes, generated ones planned;
/// both a CA with its key and kubeadm's external CA mode (no `ca.key`).
#[test]
fn render_with_pki_dir_equals_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-secrets.yaml");
    // The plan assumes a provided CA was issued at the issue time.
    ok(&[
        "secrets",
        "generate",
        "--ca-issued-at",
        AT,
        "-o",
        other.to_str().unwrap(),
    ]);
    let fixture = "fixtures/single-node.yaml";
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let other = other.to_str().unwrap();
    ok(&[
        "certs",
        "render",
        fixture,
        "--secrets",
        other,
        "--issued-at",
        AT,
        "-o",
        full.to_str().unwrap(),
    ]);
    let partial = dir.path().join("partial");
    std::fs::create_dir_all(partial.join("pki")).unwrap();
    for f in [
        "pki/ca.crt",
        "pki/ca.key",
        "pki/apiserver.crt",
        "pki/apiserver.key",
        "pki/sa.key",
        "admin.conf",
    ] {
        std::fs::copy(full.join(f), partial.join(f)).unwrap();
    }
    let external = dir.path().join("external");
    std::fs::rename(&full, &external).unwrap();
    std::fs::remove_file(external.join("pki/ca.key")).unwrap();
    for (pki, extra) in [
        (partial.join("pki"), &["--upload-certs"][..]),
        (external.join("pki"), &[][..]),
    ] {
        let pki = pki.to_str().unwrap();
        let out = dir.path().join("b.tgz");
        let mut args = vec!["--pki-dir", pki];
        args.extend_from_slice(extra);
        compile(fixture, &out, SECRETS, AT, &args);
        let inspect = ok(&["inspect", out.to_str().unwrap()]);
        let mut render_args = vec!["render", fixture];
        render_args.extend_from_slice(&args);
        let render = ok(&render_args);
        assert_eq!(body(&inspect), render, "--pki-dir {pki}");
    }
}

#[test]
fn inspect_rendering_is_the_same_for_other_seeds_and_issue_times() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-secrets.yaml");
    ok(&["secrets", "generate", "-o", other.to_str().unwrap()]);
    // The same external etcd client files as the test secrets (they are the cluster's).
    let shared = std::fs::read_to_string(root().join(SECRETS)).unwrap();
    let external = &shared[shared.find("externalEtcd:").unwrap()..];
    let mut text = std::fs::read_to_string(&other).unwrap();
    text.push_str(external);
    std::fs::write(&other, text).unwrap();
    for fixture in [
        "fixtures/single-node.yaml",
        "fixtures/v1beta3.yaml",
        "fixtures/external-etcd.yaml",
    ] {
        let a = dir.path().join("a.tgz");
        let b = dir.path().join("b.tgz");
        compile(fixture, &a, SECRETS, AT, &["--upload-certs"]);
        compile(
            fixture,
            &b,
            other.to_str().unwrap(),
            "2031-02-03T04:05:06Z",
            &["--upload-certs"],
        );
        let ia = ok(&["inspect", a.to_str().unwrap()]);
        let ib = ok(&["inspect", b.to_str().unwrap()]);
        assert_ne!(ia, ib, "{fixture}: the headers carry digest and dates");
        assert_eq!(body(&ia), body(&ib), "{fixture}");
        // Only the inspect header lines that legitimately change differ.
        let header = |s: &str| s[..s.find(kbc::review::TITLE).unwrap()].to_string();
        for line in header(&ia).lines() {
            assert!(
                [
                    "# kbc inspect",
                    "verification: ok",
                    "kbcVersion:",
                    "certificates:",
                    "clusterInfoJWS:"
                ]
                .iter()
                .any(|p| line.starts_with(p))
                    || line.starts_with("digest: sha256:")
                    || line.starts_with("issuedAt: ")
                    || line.starts_with("- rootfs/")
                    || line.starts_with("  jws-kubeconfig-"),
                "{fixture}: unexpected inspect header line {line:?}"
            );
        }
    }
}

/// Every private key (PEM body and each base64 line), token secret, and the certificate
/// key of a compiled bundle; none may appear in `kbc inspect`.
fn secret_strings(bundle: &kbc_bundle::VerifiedBundle) -> Vec<String> {
    let mut out = Vec::new();
    fn add_pem(out: &mut Vec<String>, pem_text: &str) {
        for block in pem::parse_many(pem_text).unwrap() {
            if block.tag().contains("PRIVATE KEY") {
                let b64 = base64::engine::general_purpose::STANDARD.encode(block.contents());
                out.push(b64.clone());
                for chunk in b64.as_bytes().chunks(64) {
                    out.push(String::from_utf8(chunk.to_vec()).unwrap());
                }
            }
        }
    }
    for f in &bundle.files {
        let text = String::from_utf8_lossy(&f.data).into_owned();
        add_pem(&mut out, &text);
        // Kubeconfig keys, base64 inside YAML.
        for line in text.lines() {
            if let Some(v) = line.trim().strip_prefix("client-key-data: ") {
                out.push(v.to_string());
                let key = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
                add_pem(&mut out, &String::from_utf8(key).unwrap());
            }
        }
    }
    let files: Vec<kbc::review::ReviewFile> = kbc::review::ReviewInput::from_bundle(bundle).files;
    let tokens = kbc::review::find_tokens(&files);
    assert!(!tokens.is_empty());
    for t in tokens {
        out.push(t.secret.clone());
        out.push(format!("{}.{}", t.id, t.secret));
        out.push(base64::engine::general_purpose::STANDARD.encode(&t.secret));
    }
    let commands = bundle
        .files
        .iter()
        .find(|f| f.path == "join/commands.txt")
        .unwrap();
    let re = regex::Regex::new(r"--certificate-key ([0-9a-f]{64})").unwrap();
    let text = String::from_utf8_lossy(&commands.data);
    if let Some(c) = re.captures(&text) {
        out.push(c[1].to_string());
    }
    out.retain(|s| s.len() >= 16);
    out
}

#[test]
fn no_secret_bytes_in_the_rendering() {
    let dir = tempfile::tempdir().unwrap();
    // external-etcd has a controlPlaneEndpoint: commands.txt holds the certificate key.
    for fixture in ["fixtures/external-etcd.yaml", "fixtures/v1beta3.yaml"] {
        let out = dir.path().join("b.tgz");
        compile(fixture, &out, SECRETS, AT, &["--upload-certs"]);
        let bytes = std::fs::read(&out).unwrap();
        let bundle = kbc_bundle::verify(&bytes, None).unwrap();
        let inspect = ok(&["inspect", out.to_str().unwrap()]);
        let secrets = secret_strings(&bundle);
        assert!(secrets.len() > 100, "{fixture}: {} secrets", secrets.len());
        for s in &secrets {
            assert!(
                !inspect.contains(s.as_str()),
                "{fixture}: the rendering holds secret bytes {s:?}"
            );
        }
        assert!(!inspect.contains("PRIVATE KEY-----"));
        assert!(inspect.contains("<private key: RSA 2048>"));
        if fixture.contains("external") {
            assert!(inspect.contains("--certificate-key <certificate-key>"));
        }
    }
}

#[test]
fn cluster_info_jws_verifies_with_python_hmac() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.tgz");
    compile("fixtures/v1beta3.yaml", &out, SECRETS, AT, &[]);
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    let files = kbc::review::ReviewInput::from_bundle(&bundle).files;
    let kubeconfig = kbc::review::cluster_info_kubeconfig(&files).unwrap();
    let inspect = ok(&["inspect", out.to_str().unwrap()]);
    let tokens = kbc::review::find_tokens(&files);
    // v1beta3.yaml's first token comes from the config; all its tokens sign.
    assert_eq!(tokens[0].id, "abcdef");
    for t in tokens.iter().filter(|t| t.signing) {
        let line = inspect
            .lines()
            .find(|l| l.starts_with(&format!("  jws-kubeconfig-{}: ", t.id)))
            .unwrap_or_else(|| panic!("no JWS for {} in\n{inspect}", t.id));
        let jws = line.split_once(": ").unwrap().1;
        let script = r#"
import base64, hashlib, hmac, json, sys
content, kid, secret = sys.argv[1], sys.argv[2], sys.argv[3]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
h = b64(json.dumps({"alg": "HS256", "kid": kid}, separators=(",", ":")).encode())
p = b64(content.encode())
s = b64(hmac.new(secret.encode(), (h + "." + p).encode(), hashlib.sha256).digest())
print(h + ".." + s)
"#;
        let o = Command::new("python3")
            .args(["-c", script, &kubeconfig, &t.id, &t.secret])
            .output()
            .expect("python3 runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), jws);
    }
}

#[test]
fn jws_vector_of_cluster_bootstrap() {
    // kubernetes/cluster-bootstrap token/jws/jws_test.go.
    assert_eq!(
        kbc::review::detached_jws(
            "Hello from the other side. I must have called a thousand times.",
            "joshua",
            "my voice is my passcode"
        ),
        "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
    );
}

#[test]
fn diff_shows_a_changed_pod_subnet() {
    let dir = tempfile::tempdir().unwrap();
    let a = "fixtures/single-node.yaml";
    let src = std::fs::read_to_string(root().join(a)).unwrap();
    let changed = src.replace("podSubnet: 10.244.0.0/16", "podSubnet: 10.245.0.0/16");
    assert_ne!(src, changed);
    let b = dir.path().join("changed.yaml");
    std::fs::write(&b, changed).unwrap();
    let b = b.to_str().unwrap();

    let o = kbc(&["diff", a, b]);
    assert_eq!(o.status.code(), Some(0));
    let diff = String::from_utf8(o.stdout).unwrap();
    assert!(diff.starts_with(&format!("--- {a}\n+++ {b}\n")), "{diff}");
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---"))
        .filter(|l| !l.starts_with("+++"))
        .collect();
    assert!(
        changed
            .iter()
            .any(|l| l.starts_with('-') && l.contains("10.244.0.0/16")),
        "{diff}"
    );
    assert!(
        changed
            .iter()
            .any(|l| l.starts_with('+') && l.contains("10.245.0.0/16")),
        "{diff}"
    );
    // Nothing else changes but the subnet and the hashes of the configuration and of the
    // kube-proxy component config.
    assert!(
        changed.iter().all(|l| l.contains("10.24")
            || l.contains("configSha256")
            || l.contains("kubeadm.kubernetes.io/component-config.hash")),
        "{diff}"
    );
    assert_eq!(kbc(&["diff", "--exit-code", a, b]).status.code(), Some(3));

    // The same input: no output, exit 0 even with --exit-code.
    let same = kbc(&["diff", "--exit-code", a, a]);
    assert_eq!(same.status.code(), Some(0));
    assert!(same.stdout.is_empty());

    // A bundle against its own configuration: no difference.
    let bundle = dir.path().join("b.tgz");
    compile(a, &bundle, SECRETS, AT, &[]);
    let o = kbc(&["diff", "--exit-code", a, bundle.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn inspect_refuses_a_damaged_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.tgz");
    compile("fixtures/single-node.yaml", &out, SECRETS, AT, &[]);
    let mut bytes = std::fs::read(&out).unwrap();
    let n = bytes.len();
    bytes.truncate(n - 100);
    std::fs::write(&out, &bytes).unwrap();
    let o = kbc(&["inspect", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("verification: refused: "), "{stdout}");
    assert!(!stdout.contains(kbc::review::TITLE));
}
