//! Secrets never reach stdout or stderr: broken secrets files, `--pki-dir` keys and
//! kubeconfigs that hold a known seed and a real private key are fed to `kbc compile` and
//! `kbc certs render`; each must be refused (exit 1, the file and a position named), and no
//! run of 8 characters of the seed or of the key's base64 body may appear in the output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kbc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kbc"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

/// A secrets file made by kbc itself, with a random seed and a CA pair made by openssl.
struct Material {
    dir: tempfile::TempDir,
    secrets: String,
    seed: String,
    key_body: Vec<String>,
}

fn material() -> Material {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("ca.crt"), dir.path().join("ca.key"));
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        ])
        .args(["-subj", "/CN=kubernetes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args([
            "-addext",
            "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        ])
        .output()
        .expect("openssl runs (tests/setup.sh installs it)");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = dir.path().join("secrets.yaml");
    let gen = kbc()
        .args(["secrets", "generate", "-o"])
        .arg(&out)
        .arg("--ca-cert")
        .arg(&crt)
        .arg("--ca-key")
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let secrets = std::fs::read_to_string(&out).unwrap();
    let seed = secrets
        .lines()
        .find_map(|l| l.strip_prefix("seed: "))
        .unwrap()
        .to_string();
    let key_body = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_string)
        .collect();
    Material {
        dir,
        secrets,
        seed,
        key_body,
    }
}

/// Every run of 8 characters of the seed and of each base64 line of the key.
fn leaked(m: &Material, output: &str) -> Option<String> {
    std::iter::once(&m.seed)
        .chain(&m.key_body)
        .flat_map(|s| {
            let chars: Vec<char> = s.chars().collect();
            chars
                .windows(8)
                .map(|w| w.iter().collect::<String>())
                .collect::<Vec<_>>()
        })
        .find(|run| output.contains(run.as_str()))
}

/// Runs `args` and checks: exit 1, `must_name` in stderr, no secret run in either stream.
fn assert_refused_quietly(m: &Material, case: &str, args: &[&std::ffi::OsStr], must_name: &str) {
    let out = kbc().args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{case}: {text}");
    assert!(
        text.contains(must_name),
        "{case}: {must_name:?} not named: {text}"
    );
    if let Some(run) = leaked(m, &text) {
        panic!("{case}: the output quotes secret material ({run:?}):\n{text}");
    }
}

/// Broken variants of a secrets file, each a mistake a user makes.
fn broken_secrets(m: &Material) -> Vec<(&'static str, String)> {
    let s = &m.secrets;
    let seed_line = format!("seed: {}", m.seed);
    let key_line = &m.key_body[5];
    vec![
        ("typo'd field", format!("{s}frontProxyCa: {{}}\n")),
        (
            "syntax error after the seed",
            s.replace(&seed_line, &format!("{seed_line}\n  bad: : x")),
        ),
        (
            "duplicate seed",
            s.replace(&seed_line, &format!("{seed_line}\n{seed_line}")),
        ),
        (
            "syntax error at column 1 of the seed line",
            s.replace(&seed_line, &format!("]{seed_line}")),
        ),
        ("field after the key block", format!("{s}keyy: x\n")),
        (
            "misindented key line",
            s.replacen(&format!("    {key_line}"), &format!("  {key_line}"), 1),
        ),
        (
            "tab in the key block",
            s.replacen(&format!("    {key_line}"), &format!("\t{key_line}"), 1),
        ),
        (
            "seed as the version",
            s.replace("version: kbc.secrets/v1", &format!("version: {}", m.seed)),
        ),
        (
            "short seed",
            s.replace(&seed_line, &format!("seed: {}", &m.seed[..60])),
        ),
        (
            "seed with a non-hex digit",
            s.replace(&seed_line, &format!("seed: {}g", &m.seed[..63])),
        ),
        (
            "seed as a list",
            s.replace(&seed_line, &format!("seed: [{}]", m.seed)),
        ),
        (
            "key as a mapping",
            s.replacen(&format!("    {key_line}"), &format!("    {key_line}: x"), 1),
        ),
        ("two documents", format!("{s}---\n{seed_line}\n")),
        (
            "unclosed quote",
            s.replace(&seed_line, &format!("seed: \"{}", m.seed)),
        ),
        (
            "alias",
            s.replace(&seed_line, &format!("seed: *{}", &m.seed[..10])),
        ),
    ]
}

#[test]
fn broken_secrets_files_are_refused_without_quoting_them() {
    let m = material();
    let config = fixture("single-node.yaml");
    for (case, text) in broken_secrets(&m) {
        assert_ne!(text, m.secrets, "{case}: the mutation did not apply");
        let file = m.dir.path().join("broken.yaml");
        std::fs::write(&file, &text).unwrap();
        let out_file = m.dir.path().join("out.tgz");
        let compile = [
            "compile".as_ref(),
            config.as_os_str(),
            "--secrets".as_ref(),
            file.as_os_str(),
            "-o".as_ref(),
            out_file.as_os_str(),
        ];
        assert_refused_quietly(&m, case, &compile, "broken.yaml");
        assert!(!out_file.exists(), "{case}: a bundle was written");
        let out_dir = m.dir.path().join("certs");
        let render = [
            "certs".as_ref(),
            "render".as_ref(),
            config.as_os_str(),
            "--secrets".as_ref(),
            file.as_os_str(),
            "--issued-at".as_ref(),
            "2026-11-25T12:00:00Z".as_ref(),
            "-o".as_ref(),
            out_dir.as_os_str(),
        ];
        assert_refused_quietly(&m, case, &render, "broken.yaml");
    }
}

#[test]
fn broken_keys_and_kubeconfigs_in_a_pki_dir_are_refused_without_quoting_them() {
    let m = material();
    let config = fixture("single-node.yaml");
    let key_pem = std::fs::read_to_string(m.dir.path().join("ca.key")).unwrap();
    let good_key_line = &m.key_body[5];
    // A kubeconfig whose client-key-data is the base64 of the key PEM, and the key itself
    // as the token: both must stay hidden whatever breaks.
    use base64::Engine as _;
    let key_b64 = base64::engine::general_purpose::STANDARD.encode(&key_pem);
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\ncurrent-context: x\n\
         users:\n- name: x\n  user:\n    token: {good_key_line}\n    client-key-data: {key_b64}\n"
    );
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "key with a broken base64 line",
            "pki/ca.key",
            key_pem.replacen(good_key_line, &format!("{good_key_line}!"), 1),
        ),
        (
            "key without its END line",
            "pki/ca.key",
            key_pem.replace("-----END PRIVATE KEY-----", ""),
        ),
        (
            "key with mismatched tags",
            "pki/ca.key",
            key_pem.replace("END PRIVATE KEY", "END RSA PRIVATE KEY"),
        ),
        (
            "kubeconfig with a duplicate key",
            "admin.conf",
            kubeconfig.replace("kind: Config\n", "kind: Config\nkind: Config\n"),
        ),
        (
            "kubeconfig with a token list",
            "admin.conf",
            kubeconfig.replace(
                &format!("token: {good_key_line}"),
                &format!("token: [{good_key_line}]"),
            ),
        ),
        (
            "kubeconfig with a syntax error",
            "admin.conf",
            kubeconfig.replace("client-key-data: ", "client-key-data: : "),
        ),
        (
            "kubeconfig with users as a string",
            "admin.conf",
            kubeconfig.replace("users:\n- name: x\n  user:\n    token: ", "users: "),
        ),
    ];
    let crt = std::fs::read(m.dir.path().join("ca.crt")).unwrap();
    for (case, rel, text) in cases {
        let root = tempfile::tempdir().unwrap();
        let pki = root.path().join("pki");
        std::fs::create_dir_all(&pki).unwrap();
        std::fs::write(pki.join("ca.crt"), &crt).unwrap();
        std::fs::write(pki.join("ca.key"), &key_pem).unwrap();
        std::fs::write(root.path().join(rel), &text).unwrap();
        let out_file = root.path().join("out.tgz");
        let args = [
            "compile".as_ref(),
            config.as_os_str(),
            "--pki-dir".as_ref(),
            pki.as_os_str(),
            "--issued-at".as_ref(),
            "2026-11-25T12:00:00Z".as_ref(),
            "-o".as_ref(),
            out_file.as_os_str(),
        ];
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        assert_refused_quietly(&m, case, &args, name);
        assert!(!out_file.exists(), "{case}: a bundle was written");
    }
}
