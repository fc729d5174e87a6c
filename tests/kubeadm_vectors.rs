//! kubeadm's own test vectors (fixtures/kubeadm, origins in INDEX.md) under kbc's rules.

use kbc::config::{self, LoadOptions, Source};
use std::path::{Path, PathBuf};
use test_case::test_case;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("fixtures/kubeadm")
        .join(rel)
}

fn report_for(text: &str) -> String {
    let src = Source {
        name: "vector.yaml".into(),
        text: text.into(),
    };
    match config::load(&src, &LoadOptions::default()) {
        Ok(l) => format!("OK\n{}", l.warnings),
        Err(r) => r.to_string(),
    }
}

/// Each `invalid_*` strict vector fails as kubeadm's strict check does (here as an error).
#[test_case("invalid_casesensitive_field.yaml", "unknown field \"ControlPlaneEndpoint\""; "case sensitive")]
#[test_case("invalid_duplicate_field_clustercfg.yaml", "duplicate field \"controlPlaneEndpoint\""; "dup cluster")]
#[test_case("invalid_duplicate_field_initcfg.yaml", "duplicate field \"bootstrapTokens\""; "dup init")]
#[test_case("invalid_duplicate_field_joincfg.yaml", "duplicate field \"caCertPath\""; "dup join")]
#[test_case("invalid_duplicate_field_kubeletcfg.yaml", "duplicate field \"address\""; "dup kubelet")]
#[test_case("invalid_duplicate_field_kubeproxycfg.yaml", "duplicate field \"portRange\""; "dup kubeproxy")]
#[test_case("invalid_unknown_field_clustercfg.yaml", "unknown field \"unknownField\""; "unknown cluster")]
#[test_case("invalid_unknown_field_initcfg.yaml", "unknown field \"unknownField\""; "unknown init")]
#[test_case("invalid_unknown_field_kubeletcfg.yaml", "unknown field \"unknownField\""; "unknown kubelet")]
#[test_case("invalid_unknown_field_kubeproxycfg.yaml", "unknown field \"unknownField\""; "unknown kubeproxy")]
#[test_case("invalid_unknown_field_joincfg.yaml", "old API spec: \"kubeadm.k8s.io/v1beta1\""; "old join version")]
fn strict_invalid_vectors_fail(file: &str, expected: &str) {
    let text = std::fs::read_to_string(fixture(&format!("strict/{file}"))).unwrap();
    let report = report_for(&text);
    assert!(!report.starts_with("OK"), "{file} must fail:\n{report}");
    assert!(
        report.contains(expected),
        "{file}: expected {expected:?} in:\n{report}"
    );
}

/// The strict rule itself, for vectors stored with an apiVersion 1.31 refuses: the same
/// document as v1beta4 still fails on its unknown field.
#[test]
fn strict_unknown_field_in_join_as_v1beta4() {
    let text =
        std::fs::read_to_string(fixture("strict/invalid_unknown_field_joincfg.yaml")).unwrap();
    let text = text.replace("kubeadm.k8s.io/v1beta1", "kubeadm.k8s.io/v1beta4");
    let report = report_for(&text);
    assert!(
        report.contains("unknown field \"unknownField\""),
        "{report}"
    );
}

/// `valid_*` vectors decode; alone they hold no Init/ClusterConfiguration, which kubeadm
/// init refuses with its own message; the old-versioned one hits the version gate.
#[test_case("valid_clustercfg.yaml", None; "cluster")]
#[test_case("valid_joincfg.yaml", Some("no InitConfiguration or ClusterConfiguration kind was found"); "join")]
#[test_case("valid_kubeletcfg.yaml", Some("no InitConfiguration or ClusterConfiguration kind was found"); "kubelet")]
#[test_case("valid_kubeproxycfg.yaml", Some("no InitConfiguration or ClusterConfiguration kind was found"); "kubeproxy")]
#[test_case("valid_initcfg.yaml", Some("old API spec: \"kubeadm.k8s.io/v1beta2\""); "old init version")]
fn strict_valid_vectors_decode(file: &str, refusal: Option<&str>) {
    let text = std::fs::read_to_string(fixture(&format!("strict/{file}"))).unwrap();
    let src = Source {
        name: file.into(),
        text,
    };
    let mut report = config::Report::default();
    let docs = config::documents::read(&src.text, false, &mut report);
    let _ = docs;
    match refusal {
        None => {
            // Host inputs are flags for kbc; with them the vector is a complete init config.
            let opts = LoadOptions {
                overrides: config::Overrides {
                    node_name: Some("node".into()),
                    advertise_address: Some("10.0.0.1".into()),
                    cri_socket: Some("unix:///var/run/containerd/containerd.sock".into()),
                    kubernetes_version: Some("v1.31.0".into()),
                    skip_phases: None,
                },
                ..LoadOptions::default()
            };
            let c = config::load(&src, &opts)
                .unwrap_or_else(|r| panic!("{r}"))
                .cluster;
            assert_eq!(c.config.control_plane_endpoint, "202.0.100.1:6443");
        }
        Some(msg) => {
            if !msg.contains("old API spec") {
                assert!(
                    !report.has_errors(),
                    "{file} must pass the strict check:\n{report}"
                );
            }
            let all = report_for(&src.text);
            assert!(all.contains(msg), "{file}: expected {msg:?} in:\n{all}");
        }
    }
}

/// kubeadm's defaulting pair, translated to v1beta4 (see INDEX.md): every field of kbc's
/// defaulted documents equals kubeadm's expected output.
#[test]
fn defaulting_pair_matches_field_by_field() {
    let input = std::fs::read_to_string(fixture(
        "defaulting/controlplane/incomplete.v1beta4-input.yaml",
    ))
    .unwrap();
    let expected = std::fs::read_to_string(fixture(
        "defaulting/controlplane/defaulted.v1beta4-expected.yaml",
    ))
    .unwrap();
    let src = Source {
        name: "incomplete.v1beta4-input.yaml".into(),
        text: input,
    };
    let c = config::load(&src, &LoadOptions::default())
        .unwrap_or_else(|r| panic!("{r}"))
        .cluster;
    let ours = [
        serde_json::to_value(&c.init).unwrap(),
        serde_json::to_value(&c.config).unwrap(),
        serde_json::to_value(&c.kubelet).unwrap(),
        serde_json::to_value(&c.kube_proxy).unwrap(),
    ];
    let theirs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&expected).unwrap();
    let theirs: Vec<_> = theirs.into_iter().filter(|v| !v.is_null()).collect();
    for doc in &theirs {
        let kind = doc["kind"].as_str().unwrap();
        let ours = ours
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"));
        let mut diffs = Vec::new();
        diff(kind, ours, doc, &mut diffs);
        assert!(
            diffs.is_empty(),
            "{kind} differs from kubeadm's defaulted output:\n{}",
            diffs.join("\n")
        );
    }
    assert_eq!(theirs.len(), 4);
}

fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x
                .keys()
                .chain(y.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(a), Some(b)) => diff(&p, a, b, out),
                    (a, b) => out.push(format!("{p}: kbc {a:?}, kubeadm {b:?}")),
                }
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        _ if a != b => out.push(format!("{path}: kbc {a}, kubeadm {b}")),
        _ => {}
    }
}

/// `kbc config print init-defaults` is kubeadm 1.31's published output, byte for byte.
#[test]
fn print_init_defaults_matches_kubeadm() {
    let expected = std::fs::read_to_string(fixture("print-init-defaults-1.31.yaml")).unwrap();
    let expected: String = expected
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let ours = kbc::cli::config::init_defaults(&[]).unwrap();
    assert_eq!(ours, expected);
}

/// With component configs: the kubeadm documents byte for byte, the component documents
/// field by field against the reconstruction (see INDEX.md; resolvConf is host-dependent in
/// kubeadm and assumes systemd-resolved there).
#[test]
fn print_init_defaults_with_component_configs() {
    let expected =
        std::fs::read_to_string(fixture("print-init-defaults-component-configs-1.31.yaml"))
            .unwrap();
    let ours = kbc::cli::config::init_defaults(&[
        "KubeletConfiguration".into(),
        "KubeProxyConfiguration".into(),
    ])
    .unwrap();
    let ours: Vec<serde_json::Value> = serde_saphyr::from_multiple(&ours).unwrap();
    let mut theirs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&expected).unwrap();
    theirs.retain(|v| !v.is_null());
    assert_eq!(theirs.len(), 4);
    theirs[2].as_object_mut().unwrap().remove("resolvConf");
    for (o, t) in ours.iter().zip(&theirs) {
        let mut diffs = Vec::new();
        diff(t["kind"].as_str().unwrap(), o, t, &mut diffs);
        assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    }
}

/// The historical validation vectors are refused.
#[test_case("validation/invalid_controlplanecfg.yaml", "old API spec"; "old controlplane")]
#[test_case("validation/invalid_nodecfg.yaml", "duplicate field"; "two headers in one document")]
fn validation_vectors_fail(file: &str, expected: &str) {
    let report = report_for(&std::fs::read_to_string(fixture(file)).unwrap());
    assert!(report.contains(expected), "{report}");
}

/// The same input as v1beta4 fails validation on its dnsDomain, as kubeadm's test expected.
#[test]
fn invalid_dns_domain_vector_as_v1beta4() {
    let text = std::fs::read_to_string(fixture("validation/invalid_controlplanecfg.yaml")).unwrap();
    let text = text.replace("kubeadm.k8s.io/v1beta1", "kubeadm.k8s.io/v1beta4");
    // Its removed `useHyperKubeImage` field is an error unless allowed, as kubeadm allows it.
    assert!(report_for(&text).contains("unknown field \"useHyperKubeImage\""));
    let src = Source {
        name: "v.yaml".into(),
        text,
    };
    let opts = LoadOptions {
        allow_unknown_fields: true,
        ..LoadOptions::default()
    };
    let report = config::load(&src, &opts).unwrap_err();
    assert!(
        report.errors().any(|e| e.path == "networking.dnsDomain"),
        "{report}"
    );
}
