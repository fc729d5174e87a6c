//! Every `fixtures/*.yaml` loads and its `config view` output is a snapshot; every
//! `fixtures/invalid/*.yaml` is refused and its whole error report is a snapshot.

use kbc::config::{self, LoadOptions, Source};
use std::path::Path;

use crate::fixtures;
use fixtures::source;

#[test]
fn valid_fixtures_view() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let src = source(path);
        let loaded = config::load(&src, &LoadOptions::default())
            .unwrap_or_else(|r| panic!("{} must be valid:\n{r}", src.name));
        let c = &loaded.cluster;
        let view = kbc::config::documents(&c.init, &c.config, Some((&c.kubelet, &c.kube_proxy)));
        let warnings: String = loaded
            .warnings
            .warnings()
            .map(|w| format!("{w}\n"))
            .collect();
        insta::with_settings!({ description => src.text.clone(), omit_expression => true }, {
            insta::assert_snapshot!(format!("{warnings}---\n{view}"));
        });
    });
}

#[test]
fn invalid_fixtures_report() {
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
        let src = source(path);
        let report = match config::load(&src, &LoadOptions::default()) {
            Ok(_) => panic!("{} must be refused", src.name),
            Err(r) => r,
        };
        assert!(report.has_errors());
        for e in report.errors() {
            assert_eq!(e.file, src.name);
        }
        insta::with_settings!({ description => src.text.clone(), omit_expression => true }, {
            insta::assert_snapshot!(report.to_string());
        });
    });
}

#[test]
fn several_errors_are_reported_in_one_run_with_positions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let src = source(&root.join("fixtures/invalid/several-errors.yaml"));
    let report = config::load(&src, &LoadOptions::default()).unwrap_err();
    let located: Vec<_> = report
        .errors()
        .map(|e| (e.path.as_str(), e.pos.map(|p| p.line)))
        .collect();
    assert_eq!(
        located,
        vec![
            ("bootstrapTokens[0].token", Some(5)),
            ("localAPIEndpoint.bindPort", Some(8)),
            ("nodeRegistration.criSocket", Some(11)),
            ("nodeRegistration.imagePullPolicy", Some(12)),
            ("certificatesDir", Some(17)),
            ("networking.dnsDomain", Some(21)),
            ("imageRepository", Some(22)),
        ]
    );
}

#[test]
fn allow_unknown_fields_turns_field_errors_into_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for name in ["unknown-fields", "duplicate-fields"] {
        let src = source(&root.join(format!("fixtures/invalid/{name}.yaml")));
        let opts = LoadOptions {
            allow_unknown_fields: true,
            ..LoadOptions::default()
        };
        let loaded = config::load(&src, &opts).unwrap_or_else(|r| panic!("{name}: {r}"));
        let warnings: Vec<_> = loaded.warnings.warnings().collect();
        assert!(!warnings.is_empty());
        assert!(warnings.iter().all(|w| w
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("kubeadm accepts the file")));
    }
    // Go's reader keeps the last of duplicated keys; so does kbc.
    let src = source(&root.join("fixtures/invalid/duplicate-fields.yaml"));
    let opts = LoadOptions {
        allow_unknown_fields: true,
        ..LoadOptions::default()
    };
    let c = config::load(&src, &opts).unwrap().cluster;
    assert_eq!(c.config.cluster_name, "two");
    assert_eq!(c.config.networking.pod_subnet, "10.245.0.0/16");
}

#[test]
fn flags_replace_host_lookups() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let src = source(&root.join("fixtures/invalid/missing-host-inputs.yaml"));
    let opts = LoadOptions {
        overrides: config::Overrides {
            node_name: Some("  Node-A ".into()),
            advertise_address: Some("10.1.2.3".into()),
            cri_socket: Some("unix:///run/containerd/containerd.sock".into()),
            kubernetes_version: Some("1.31.4".into()),
            skip_phases: None,
        },
        ..LoadOptions::default()
    };
    let c = config::load(&src, &opts)
        .unwrap_or_else(|r| panic!("{r}"))
        .cluster;
    assert_eq!(c.node_name(), "node-a");
    assert_eq!(c.advertise_address.to_string(), "10.1.2.3");
    assert_eq!(c.version.to_string(), "v1.31.4");
    assert_eq!(c.config.kubernetes_version, "v1.31.4");
}

#[test]
fn yaml11_strings_round_trip_through_config_view() {
    // A label value "yes" and an env value "on" must come back as strings.
    let text = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint: {advertiseAddress: 10.0.0.1}\nnodeRegistration:\n  name: node1\n  criSocket: unix:///c.sock\n  kubeletExtraArgs:\n  - name: node-labels\n    value: \"yes\"\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\napiServer:\n  extraEnvs:\n  - name: FLAG\n    value: \"on\"\n";
    let src = Source {
        name: "t.yaml".into(),
        text: text.into(),
    };
    let c = config::load(&src, &LoadOptions::default()).unwrap().cluster;
    let view = kbc::config::documents(&c.init, &c.config, None);
    assert!(view.contains("value: \"yes\""), "{view}");
    assert!(view.contains("value: \"on\""), "{view}");
    let again = Source {
        name: "view.yaml".into(),
        text: view,
    };
    let c2 = config::load(&again, &LoadOptions::default())
        .unwrap()
        .cluster;
    assert_eq!(c2.init.node_registration.kubelet_extra_args[0].value, "yes");
    assert_eq!(c2.config.api_server.extra_envs[0].value, "on");
}

/// Issue 8 item 5: everything kubeadm 1.31 `init` only warns about is an error by default
/// and kubeadm's warning with --allow-unknown-fields. Each case is the single-node fixture
/// with one change; `needle` must be in the error (strict) and in a warning (lenient).
#[test]
fn lenient_mode_warns_where_kubeadm_warns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let base = std::fs::read_to_string(root.join("fixtures/single-node.yaml")).unwrap();
    let cases: [(&str, String, &str); 6] = [
        ("unknown field", base.replace("clusterName: kubernetes", "clusterName: kubernetes\nclusterNmae: x"), "unknown field \"clusterNmae\""),
        ("duplicate field", base.replace("clusterName: kubernetes", "clusterName: kubernetes\nclusterName: kubernetes"), "duplicate field \"clusterName\""),
        ("misplaced field", base.replace("clusterName: kubernetes", "clusterName: kubernetes\npodSubnet: 10.244.0.0/16"), "unknown field \"podSubnet\""),
        ("unknown kind", format!("{base}---\napiVersion: example.com/v1\nkind: Widget\nsize: 3\n"), "GroupVersionKind example.com/v1, Kind=Widget"),
        ("known kind in a foreign group", format!("{base}---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: KubeProxyConfiguration\nmode: ipvs\n"), "GroupVersionKind kubeadm.k8s.io/v1beta3, Kind=KubeProxyConfiguration"),
        ("unknown kind of the kubeadm group", format!("{base}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: NodeConfiguration\n"), "Kind=NodeConfiguration"),
    ];
    for (case, text, needle) in cases {
        let src = config::Source {
            name: format!("{case}.yaml"),
            text,
        };
        let strict = config::load(&src, &LoadOptions::default()).expect_err(case);
        let errors: Vec<String> = strict.errors().map(|d| d.to_string()).collect();
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{case}: strict: {errors:?}"
        );
        let lenient = LoadOptions {
            allow_unknown_fields: true,
            ..LoadOptions::default()
        };
        let loaded =
            config::load(&src, &lenient).unwrap_or_else(|r| panic!("{case}: lenient: {r}"));
        let warnings: Vec<String> = loaded.warnings.warnings().map(|d| d.to_string()).collect();
        assert!(
            warnings.iter().any(|w| w.contains(needle)),
            "{case}: lenient: {warnings:?}"
        );
        // The ignored document changes nothing: kube-proxy keeps kubeadm's default mode.
        assert_eq!(loaded.cluster.kube_proxy.mode, "", "{case}");
    }
}
