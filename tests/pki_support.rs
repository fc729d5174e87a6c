//! Shared fixtures of the `pki_*` tests (included with `#[path]`, not a test of its own).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kbc::pki::{IssueTime, PkiInput, PkiOutput, Provided};
use kbc::secrets::Secrets;

/// The fixed test seed: bytes 0, 1, …, 31.
pub fn seed_bytes() -> [u8; 32] {
    let mut s = [0u8; 32];
    for (i, b) in s.iter_mut().enumerate() {
        *b = i as u8;
    }
    s
}

pub fn secrets() -> Secrets {
    Secrets::from_seed(seed_bytes())
}

/// 2026-11-25T12:00:00Z.
pub fn at() -> IssueTime {
    IssueTime::parse_rfc3339("2026-11-25T12:00:00Z").unwrap()
}

/// A worked example of kubeadm's SAN rules (`GetAPIServerAltNames`).
pub fn input() -> PkiInput {
    let mut i = PkiInput::new("cp-1", "192.168.0.10".parse().unwrap());
    i.control_plane_endpoint = Some("k8s.example.com:6443".into());
    i.service_subnets = vec![
        "10.96.0.0/12".parse().unwrap(),
        "fd00:10:96::/112".parse().unwrap(),
    ];
    i.api_server_cert_sans = vec![
        "10.0.0.5".into(),
        "api.internal".into(),
        "192.168.0.10".into(),
    ];
    i
}

/// `kbc::pki::render` of `input` with `secrets`' seed and pairs and the `provided` files, as
/// the compiler calls it.
pub fn render_pki(
    input: &PkiInput,
    secrets: &Secrets,
    at: kbc::pki::IssueTime,
    provided: &Provided,
    keys: &kbc::pki::KeyCache,
) -> Result<PkiOutput, kbc::pki::PkiError> {
    secrets
        .pki(provided)
        .and_then(|s| kbc::pki::render(input, &s, at, keys))
}

/// Renders `input` at [`at`] with nothing provided. Deterministic, so each distinct
/// (input, secrets) pair is rendered once per test process and cloned after that: the PKI
/// tests ask for the same few PKIs dozens of times.
pub fn render(input: &PkiInput, secrets: &Secrets) -> PkiOutput {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<HashMap<String, Arc<OnceLock<PkiOutput>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    // Secrets' Debug hides the seed; a derived label stands for it.
    let key = format!(
        "{input:?}{secrets:?}{:?}",
        secrets.seed.bytes("test-cache-key", 16)
    );
    let cell = {
        let mut map = CACHE.get_or_init(Default::default).lock().unwrap();
        Arc::clone(map.entry(key).or_default())
    };
    cell.get_or_init(|| {
        render_pki(
            input,
            secrets,
            at(),
            &Provided::default(),
            &crate::common::keys(),
        )
        .unwrap()
    })
    .clone()
}

/// Renders into a fresh temporary directory (kubeadm layout).
pub fn render_dir(input: &PkiInput, secrets: &Secrets) -> (tempfile::TempDir, PkiOutput) {
    let dir = tempfile::tempdir().unwrap();
    let out = render(input, secrets);
    kbc::edge::write_kubeadm_layout(&out, dir.path()).unwrap();
    (dir, out)
}

/// Runs a tool and returns its output; panics (never skips) when it cannot start.
pub fn run(tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install it; tests/setup.sh): {e}"))
}

/// Runs a tool and asserts success; returns stdout.
pub fn ok(tool: &str, args: &[&str]) -> String {
    let o = run(tool, args);
    assert!(
        o.status.success(),
        "{tool} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn p(dir: &Path, rel: &str) -> String {
    dir.join(rel).display().to_string()
}

/// Extracts a kubeconfig's client certificate and key into `dir` (as `<name>.crt/.key`).
pub fn kubeconfig_client(conf: &Path, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(conf).unwrap();
    let field = |k: &str| -> Vec<u8> {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(k))
            .unwrap_or_else(|| panic!("{k} missing in {}", conf.display()));
        let v = line.split_once(": ").unwrap().1.trim();
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(v).unwrap()
    };
    let crt = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&crt, field("client-certificate-data:")).unwrap();
    std::fs::write(&key, field("client-key-data:")).unwrap();
    (crt, key)
}
