//! The entry points of kbc's input readers, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`) and the property tests that run inside `cargo test`
//! (`tests/properties.rs`). Each takes arbitrary bytes and must return without panicking;
//! where a reader accepts its input, the invariants it promises are asserted too.

use std::path::PathBuf;
use std::sync::OnceLock;

use kbc::compile::{plan_bundle, CompileOptions};
use kbc::config::{load, Cluster, LoadOptions, Overrides, Source};
use kbc::pki::{self, IssueTime, PkiInput, Provided};
use kbc::render::patches::PatchSet;
use kbc::secrets::Secrets;

fn options(lenient: bool) -> LoadOptions {
    LoadOptions {
        overrides: Overrides {
            node_name: Some("cp-1".into()),
            advertise_address: Some("10.0.0.5".into()),
            ..Overrides::default()
        },
        allow_unknown_fields: lenient,
        systemd_resolved: false,
    }
}

/// Bytes → a validated cluster or diagnostics; an accepted configuration is planned and
/// rendered for review as `kbc render` does. The first byte picks strict or lenient mode.
pub fn config(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let src = Source {
        name: "fuzz.yaml".into(),
        text: text.into(),
    };
    match load(&src, &options(mode & 1 == 1)) {
        Ok(loaded) => {
            if let Ok(planned) = plan_bundle(&loaded.cluster, &CompileOptions::default(), None) {
                let _ = kbc::review::render(&kbc::review::ReviewInput::from_plan(&planned));
            }
        }
        Err(report) => {
            assert!(
                report.has_errors(),
                "a refused configuration without an error"
            );
            let _ = report.to_string();
        }
    }
}

/// A secrets file: accepted ones round-trip through the writer.
pub fn secrets(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Secrets::parse(text, "fuzz.yaml") {
        Ok(s) => {
            let again = Secrets::parse(&s.to_yaml(), "again.yaml").expect("written secrets parse");
            assert_eq!(again.seed, s.seed);
            assert_eq!(again.ca, s.ca);
            assert_eq!(again.service_account, s.service_account);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// The bundle verifier: an accepted bundle is written again byte for byte by the writer.
pub fn bundle_verify(data: &[u8]) {
    let Ok(bundle) = kbc_bundle::verify(data, None) else {
        return;
    };
    let files = bundle
        .files
        .iter()
        .map(|f| kbc_bundle::NewFile {
            path: f.path.clone(),
            mode: f.mode,
            secret: f.secret,
            data: f.data.clone(),
        })
        .collect();
    let (_, digest) = kbc_bundle::write(bundle.manifest.clone(), files, 0)
        .expect("a verified bundle is writable");
    assert_eq!(digest, bundle.digest);
}

/// The single-node cluster every patch is applied to.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let text = include_str!("../fixtures/single-node.yaml");
        let src = Source {
            name: "single-node.yaml".into(),
            text: text.into(),
        };
        load(&src, &options(false))
            .expect("the fixture loads")
            .cluster
    })
}

const PATCH_NAMES: &[&str] = &[
    "kube-apiserver.yaml",
    "kube-controller-manager+merge.yaml",
    "kube-scheduler+json.json",
    "etcd+strategic.yaml",
    "kubeletconfiguration.yaml",
    "kubeletconfiguration+json.yaml",
    "corednsdeployment+merge.json",
    "corednsdeployment.yaml",
];

/// One patch file (the first byte picks its name, so its target and type) applied to every
/// target of the single-node cluster, as `kbc compile --patches` does.
pub fn patches(data: &[u8]) {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let name = PATCH_NAMES[pick as usize % PATCH_NAMES.len()];
    let mut set = PatchSet::default();
    if set.add_file(PathBuf::from(name), text).is_err() {
        return;
    }
    let opts = CompileOptions {
        patches: set,
        ..CompileOptions::default()
    };
    let _ = plan_bundle(cluster(), &opts, None);
}

/// PEM and kubeconfig readers, then the bytes as `--pki-dir` files: split at the first NUL
/// into `ca.crt` and `ca.key` (the rest, if any, as `admin.conf`), planned and rendered with
/// ECDSA keys.
pub fn pem(data: &[u8]) {
    let _ = pki::x509::parse_pem_chain(data);
    let _ = pki::PrivateKey::from_pem(data);
    let _ = pki::kubeconfig::parse(data);
    let mut parts = data.splitn(3, |b| *b == 0);
    let crt = parts.next().unwrap_or_default();
    let key = parts.next().unwrap_or_default();
    let conf = parts.next();
    let mut files = vec![
        ("etc/kubernetes/pki/ca.crt", crt),
        ("etc/kubernetes/pki/ca.key", key),
    ];
    if let Some(conf) = conf {
        files.push(("etc/kubernetes/admin.conf", conf));
    }
    let provided = Provided::from_host_files(files, "etc/kubernetes/pki", "fuzz");
    let mut input = PkiInput::new("cp-1", "10.0.0.5".parse().expect("an address"));
    input.encryption_algorithm = pki::EncryptionAlgorithm::EcdsaP256;
    if pki::plan::plan(&input, &provided).is_err() {
        return;
    }
    let at = IssueTime::from_unix(1_767_225_600).expect("a valid time");
    let secrets = Secrets::from_seed([7; 32]);
    let _ = secrets
        .pki(&provided)
        .and_then(|s| pki::render(&input, &s, at, &pki::KeyCache::new(1)));
}
