//! Same inputs ⇒ same bytes (other process, thread count, TZ, umask); other seed ⇒ other
//! keys; golden public-key fingerprints pin the `kbc-kdf-v1` derivation.

use crate::pki_support as support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kbc::pki::{EncryptionAlgorithm, KeyCache, PrivateKey, Provided, Seed};
use sha2::{Digest, Sha256};
use support::*;

/// The configuration the child processes render (`kbc certs render`), RSA or ECDSA.
fn config(dir: &Path, ecdsa: bool) -> std::path::PathBuf {
    let path = dir.join(if ecdsa { "ecdsa.yaml" } else { "rsa.yaml" });
    let algorithm = if ecdsa { "ECDSA-P256" } else { "RSA-2048" };
    std::fs::write(
        &path,
        format!(
            "apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.168.0.10
nodeRegistration:
  name: cp-1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.31.2
controlPlaneEndpoint: k8s.example.com:6443
encryptionAlgorithm: {algorithm}
apiServer:
  certSANs: [10.0.0.5, api.internal, 192.168.0.10]
"
        ),
    )
    .unwrap();
    path
}

fn snapshot(dir: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, (u32, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(base).unwrap().display().to_string();
            let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{rel}/"), (mode, Vec::new()));
                walk(base, &e.path(), out);
            } else {
                out.insert(rel, (mode, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `kbc certs render` in its own process, under `umask`, with `KBC_THREADS`, `TZ` and a
/// locale of its own.
fn spawn_child(config: &Path, out: &Path, threads: &str, tz: &str, umask: &str) {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_kbc"))
        .args(["certs", "render"])
        .arg(config)
        .args([
            "--secrets",
            "fixtures/secrets/test-secrets.yaml",
            "--issued-at",
            "2026-11-25T12:00:00Z",
            "-o",
        ])
        .arg(out)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .env("KBC_THREADS", threads)
        .env("TZ", tz)
        .env("LC_ALL", if threads == "1" { "C" } else { "de_DE.UTF-8" });
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "child failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn two_processes(ecdsa: bool) {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (da, db) = (a.path().join("out"), b.path().join("out"));
    let config = config(a.path(), ecdsa);
    spawn_child(&config, &da, "1", "UTC", "022");
    spawn_child(&config, &db, "4", "Pacific/Kiritimati", "077");
    let (sa, sb) = (snapshot(&da), snapshot(&db));
    assert_eq!(sa.len(), 29, "{:?}", sa.keys().collect::<Vec<_>>());
    assert_eq!(sa.keys().collect::<Vec<_>>(), sb.keys().collect::<Vec<_>>());
    for (k, v) in &sa {
        assert_eq!(v, &sb[k], "{k} differs between the two processes");
    }
    assert_eq!(sa["pki/"].0, 0o755);
    assert_eq!(sa["pki/etcd/"].0, 0o755);
    assert_eq!(sa["pki/ca.key"].0, 0o600);
    assert_eq!(sa["pki/ca.crt"].0, 0o644);
}

#[test]
fn two_processes_other_threads_tz_umask_same_bytes_rsa() {
    two_processes(false);
}

#[test]
fn two_processes_other_threads_tz_umask_same_bytes_ecdsa() {
    two_processes(true);
}

#[test]
fn thread_count_does_not_matter_in_process() {
    let a = crate::pki_support::render_pki(
        &input(),
        &secrets(),
        at(),
        &Provided::default(),
        &KeyCache::new(1),
    )
    .unwrap();
    let b = crate::pki_support::render_pki(
        &input(),
        &secrets(),
        at(),
        &Provided::default(),
        &KeyCache::new(7),
    )
    .unwrap();
    assert_eq!(a.artifacts, b.artifacts);
}

#[test]
fn another_seed_gives_other_keys_and_certs() {
    let a = render(&input(), &secrets());
    let mut other = seed_bytes();
    other[31] ^= 1;
    let b = render(&input(), &kbc::secrets::Secrets::from_seed(other));
    assert_eq!(a.artifacts.len(), b.artifacts.len());
    for (x, y) in a.artifacts.iter().zip(&b.artifacts) {
        assert_eq!(x.path, y.path);
        assert_ne!(x.bytes, y.bytes, "{} did not change with the seed", x.path);
    }
    // The review summaries do not depend on the seed.
    assert_eq!(a.certificates, b.certificates);
    // Another issue time changes certificates but not keys.
    let c = crate::pki_support::render_pki(
        &input(),
        &secrets(),
        kbc::pki::IssueTime::parse_rfc3339("2030-01-01T00:00:00Z").unwrap(),
        &Provided::default(),
        &crate::common::keys(),
    )
    .unwrap();
    for (x, y) in a.artifacts.iter().zip(&c.artifacts) {
        if x.path.ends_with(".key") || x.path.ends_with(".pub") {
            assert_eq!(x.bytes, y.bytes, "{}", x.path);
        } else {
            assert_ne!(x.bytes, y.bytes, "{}", x.path);
        }
    }
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// SHA-256 of each key's SubjectPublicKeyInfo for the test seed, RSA-2048 (the default).
/// If this fails, the derivation `kbc-kdf-v1` changed: every cluster's keys would change.
/// That must never happen silently; a new derivation needs a new version name.
const GOLDEN_RSA2048: &[(&str, &str)] = &[
    (
        "pki/ca.key",
        "8a25579c0ee94d20c61a3255e6565442824c44df6e28b9427e5cfa179fdfd7dc",
    ),
    (
        "pki/apiserver.key",
        "42eea4482ca3cc0a4c350cde4b7019c6d209317193c1b3ce194f86892e52fa0d",
    ),
    (
        "pki/apiserver-kubelet-client.key",
        "8111e73eadef8213ddaf742fd5abd4142736c691538bb559ace1f84f8a90ae3e",
    ),
    (
        "pki/front-proxy-ca.key",
        "7b4e628a290bc1a2456e2f728d605e51e7be49c3cfe3bf203aa3d1b1f03f338f",
    ),
    (
        "pki/front-proxy-client.key",
        "618c2c5a94bff65a58ff12d223aca4bf976c76832d345ca1f2ac196874bb8aa5",
    ),
    (
        "pki/etcd/ca.key",
        "8dea175461842ee69cdd338e9cda7aca0c3bd2238af6cc3dd210694a547c464a",
    ),
    (
        "pki/etcd/server.key",
        "bdcb158217024d8abf93392cad3d607d82be79a9c35697f7f398e2a20896b1d2",
    ),
    (
        "pki/etcd/peer.key",
        "a67d41c9ec91fc9776b7c9fec0bb3c27c22ed84f3e65fe8f567ff6f304e0d9fe",
    ),
    (
        "pki/etcd/healthcheck-client.key",
        "d7b7f2db3b749ba30fd7128c9c299dfb1768aa85b3a1a1e0079b23e07cc26c2c",
    ),
    (
        "pki/apiserver-etcd-client.key",
        "e136eb4ce9f9110ffd1a278fcb62c6e2c6cb097e68c32082e22fdf93854f118e",
    ),
    (
        "pki/sa.key",
        "4ca45987f719bc4f346397417f92f14cbec0ce3d98eb6bf56bdbc8ba439c1693",
    ),
    (
        "admin.conf",
        "eb128c19fb85ec3e0a05893f6dd40de334034282cb6cf79d46a326a64ae8066d",
    ),
    (
        "super-admin.conf",
        "ecebae2e3c4f0b7c168829bed53f8098dc5a9dd73ab3c41449f6e161aec341f7",
    ),
    (
        "kubelet.conf",
        "812087e1922ce1064abce0b31a7a639203c1ad0ecc2c2e9f803279494a67cb29",
    ),
    (
        "controller-manager.conf",
        "ed35a107fbde726054ff5b9386723ea2d4af5f88335d66c8e7e5ea2896786408",
    ),
    (
        "scheduler.conf",
        "c675a3829826d75c7076d433fb5b569078f1991d7103dcb34b32b87df4af31e6",
    ),
];

const GOLDEN_OTHER: &[(&str, &str, &str)] = &[
    (
        "RSA-3072",
        "kbc/v1/pki/ca.key/RSA-3072",
        "59b25c6d277025b7b19755725ab81341078b10603d05566bca4aa6d06ea3176f",
    ),
    (
        "RSA-4096",
        "kbc/v1/pki/ca.key/RSA-4096",
        "e0850af3c4a7307ff7c59a5fdb9690a9512163e2bf9ee1e5f221a1f6e0fb4bfb",
    ),
    (
        "ECDSA-P256",
        "kbc/v1/pki/ca.key/ECDSA-P256",
        "8e2652e7efa3e7c6e98d29f535798170359fd3f926fb7c863ee54e85ae64fea6",
    ),
];

/// SHA-256 over every artifact (path, mode, bytes) of the RSA-2048 and ECDSA renders:
/// pins certificate encoding, PEM and YAML as well.
const GOLDEN_TREE: &[(&str, &str)] = &[
    (
        "RSA-2048",
        "888afe08c1755f4ef8de5d8ff4f028532d5e4df3a77ef4be879aa7b03fe00ece",
    ),
    (
        "ECDSA-P256",
        "066e9b12086f68c2e3d677d7fac7a754e26db7e492fe5da4c93951c5414db73b",
    ),
];

fn key_fingerprints(out: &kbc::pki::PkiOutput) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for a in &out.artifacts {
        if a.kubeadm_path.ends_with(".key") {
            let k = PrivateKey::from_pem(&a.bytes).unwrap();
            v.push((a.kubeadm_path.clone(), sha256_hex(&k.spki_der())));
        }
        if a.kubeadm_path.ends_with(".conf") {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("f"), &a.bytes).unwrap();
            let (_, key) = kubeconfig_client(&dir.path().join("f"), dir.path(), "c");
            let k = PrivateKey::from_pem(&std::fs::read(key).unwrap()).unwrap();
            v.push((a.kubeadm_path.clone(), sha256_hex(&k.spki_der())));
        }
    }
    v
}

fn tree_hash(out: &kbc::pki::PkiOutput) -> String {
    let mut h = Sha256::new();
    for a in &out.artifacts {
        h.update(a.path.as_bytes());
        h.update(format!(" {:o} {}\n", a.mode, a.bytes.len()).as_bytes());
        h.update(&a.bytes);
    }
    h.finalize().iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn golden_fingerprints() {
    let out = render(&input(), &secrets());
    let got = key_fingerprints(&out);
    let want: Vec<(String, String)> = GOLDEN_RSA2048
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let mut ecdsa_input = input();
    ecdsa_input.encryption_algorithm = EncryptionAlgorithm::EcdsaP256;
    let ecdsa = render(&ecdsa_input, &secrets());
    let seed = Seed(seed_bytes());
    let mut other = Vec::new();
    for alg in [
        EncryptionAlgorithm::Rsa3072,
        EncryptionAlgorithm::Rsa4096,
        EncryptionAlgorithm::EcdsaP256,
    ] {
        let label = format!("kbc/v1/pki/ca.key/{alg}");
        let k = PrivateKey::derive(&seed, &label, alg);
        other.push((alg.as_str().to_string(), label, sha256_hex(&k.spki_der())));
    }
    let trees = vec![
        ("RSA-2048".to_string(), tree_hash(&out)),
        ("ECDSA-P256".to_string(), tree_hash(&ecdsa)),
    ];
    let print = || {
        let mut s = String::from("const GOLDEN_RSA2048: &[(&str, &str)] = &[\n");
        for (a, b) in &got {
            s += &format!("    (\"{a}\", \"{b}\"),\n");
        }
        s += "];\n\nconst GOLDEN_OTHER: &[(&str, &str, &str)] = &[\n";
        for (a, b, c) in &other {
            s += &format!("    (\"{a}\", \"{b}\", \"{c}\"),\n");
        }
        s += "];\n\nconst GOLDEN_TREE: &[(&str, &str)] = &[\n";
        for (a, b) in &trees {
            s += &format!("    (\"{a}\", \"{b}\"),\n");
        }
        s + "];\n"
    };
    let other_want: Vec<(String, String, String)> = GOLDEN_OTHER
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    let trees_want: Vec<(String, String)> = GOLDEN_TREE
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert!(
        got == want && other == other_want && trees == trees_want,
        "the key derivation or the encoding changed; current values:\n{}",
        print()
    );
    assert_eq!(
        got.len(),
        16,
        "16 keys: 10 PKI keys, sa.key, 5 kubeconfig keys"
    );
}
