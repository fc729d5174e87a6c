//! The kubelet's files: `kubeadm-flags.env` for every fixture, checked against strings written
//! from kubeadm's kubelet phase (and a real v1.31.2 kubeadm-flags.env line), and a
//! snapshot of `config.yaml` for every valid fixture.

use kbc::config::{Cluster, Source};
use kbc::render::kubelet::{go_quote, kubeadm_flags_env, kubelet_config_yaml, KubeletHostInputs};
use kbc::render::patches::PatchSet;
use std::path::Path;

use crate::fixtures;
use fixtures::{fixture, load, source};

/// A v1beta4 config with the given nodeRegistration body (name cp-1 and containerd unless
/// the body sets them) and ClusterConfiguration body.
fn inline(node_registration: &str, cluster: &str) -> Cluster {
    let text = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 192.0.2.10\nnodeRegistration:\n{node_registration}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\n{cluster}\n"
    );
    load(&Source {
        name: "inline.yaml".into(),
        text,
    })
}

/// kubeadm's bytes on a machine whose host name is the node name.
fn on_own_host(c: &Cluster) -> String {
    kubeadm_flags_env(
        c,
        &KubeletHostInputs {
            host_name: Some(c.node_name().to_string()),
        },
    )
}

#[test]
fn single_node_matches_real_kubeadm_1_31_2_output() {
    // kubeadm's `cmd/kubeadm/app/phases/kubelet/flags.go`: a real v1.31.2 /var/lib/kubelet/kubeadm-flags.env.
    assert_eq!(
        on_own_host(&fixture("single-node.yaml")),
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n"
    );
}

#[test]
fn flags_for_every_fixture() {
    let cases = [
        ("single-node.yaml", "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"),
        // kubeletExtraArgs merge in and everything sorts by name.
        ("component-configs.yaml", "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --node-labels=zone=a --pod-infra-container-image=registry.k8s.io/pause:3.10"),
        // pause follows imageRepository (never the etcd or DNS overrides).
        ("custom-registry.yaml", "--container-runtime-endpoint=unix:///var/run/crio/crio.sock --pod-infra-container-image=registry.internal:5000/k8s/pause:3.10"),
        ("dual-stack.yaml", "--container-runtime-endpoint=unix:///run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"),
        ("external-etcd.yaml", "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"),
        // No --register-with-taints on init, whatever the taints.
        ("feature-gates.yaml", "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"),
        // No criSocket: kubeadm's default containerd socket.
        ("minimal.yaml", "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"),
        // v1beta3: the socket gets unix://, the map of extra args becomes a list.
        ("v1beta3.yaml", "--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-labels=tier=control --pod-infra-container-image=registry.k8s.io/pause:3.10 --v=2"),
    ];
    for (name, flags) in cases {
        let c = fixture(name);
        assert_eq!(
            on_own_host(&c),
            format!("KUBELET_KUBEADM_ARGS=\"{flags}\"\n"),
            "{name}"
        );
    }
}

#[test]
fn every_valid_fixture_is_covered_above() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(root.join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "component-configs.yaml",
            "custom-registry.yaml",
            "dual-stack.yaml",
            "external-etcd.yaml",
            "feature-gates.yaml",
            "minimal.yaml",
            "single-node.yaml",
            "v1beta3.yaml"
        ]
    );
}

#[test]
fn host_name_unknown_always_overrides_with_the_node_name() {
    assert_eq!(
        kubeadm_flags_env(&fixture("single-node.yaml"), &KubeletHostInputs::default()),
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --hostname-override=cp-1 --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n"
    );
    // v1beta3.yaml's node name "Legacy-CP" is lower-cased by kubeadm.
    assert!(
        kubeadm_flags_env(&fixture("v1beta3.yaml"), &KubeletHostInputs::default())
            .contains(" --hostname-override=legacy-cp ")
    );
}

#[test]
fn host_name_rule_of_kubeadm() {
    let c = fixture("single-node.yaml");
    let with = |h: &str| {
        kubeadm_flags_env(
            &c,
            &KubeletHostInputs {
                host_name: Some(h.into()),
            },
        )
    };
    // GetHostname trims and lower-cases the host name before comparing.
    assert!(!with(" CP-1\n").contains("hostname-override"));
    assert!(with("machine-7").contains(" --hostname-override=cp-1 "));
}

#[test]
fn kubelet_extra_args_override_every_base_entry_of_their_name() {
    let c = inline(
        "  name: cp-1\n  criSocket: unix:///var/run/containerd/containerd.sock\n  kubeletExtraArgs:\n  - name: pod-infra-container-image\n    value: mirror.example/pause:3.10\n  - name: node-ip\n    value: 192.0.2.10\n  - name: node-ip\n    value: 2001:db8::10\n  - name: hostname-override\n    value: cp-1.example.com",
        "",
    );
    // The node name is the extra arg's; the user's entries replace kubeadm's, repeats kept,
    // all sorted by name, then value.
    let expected = "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --hostname-override=cp-1.example.com --node-ip=192.0.2.10 --node-ip=2001:db8::10 --pod-infra-container-image=mirror.example/pause:3.10\"\n";
    assert_eq!(
        kubeadm_flags_env(&c, &KubeletHostInputs::default()),
        expected
    );
    // On a host named like the override kubeadm adds no base entry; the user's stays.
    let own = KubeletHostInputs {
        host_name: Some("cp-1.example.com".into()),
    };
    assert_eq!(kubeadm_flags_env(&c, &own), expected);
}

#[test]
fn values_are_quoted_with_go_percent_q() {
    let c = inline(
        "  name: cp-1\n  criSocket: unix:///var/run/containerd/containerd.sock\n  kubeletExtraArgs:\n  - name: node-labels\n    value: 'a=\"b\",c=d\\e'",
        "",
    );
    let own = KubeletHostInputs {
        host_name: Some("cp-1".into()),
    };
    assert_eq!(
        kubeadm_flags_env(&c, &own),
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --node-labels=a=\\\"b\\\",c=d\\\\e --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n"
    );
    assert_eq!(go_quote("tab\there"), "\"tab\\there\"");
}

#[test]
fn config_yaml_for_every_valid_fixture() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let src = source(path);
        let c = load(&src);
        let yaml = kubelet_config_yaml(&c, &PatchSet::default()).unwrap();
        insta::with_settings!({ description => src.text.clone(), omit_expression => true }, {
            insta::assert_snapshot!(yaml);
        });
    });
}

#[test]
fn default_config_yaml_has_the_spec_field_list() {
    // kubeadm's `cmd/kubeadm/app/componentconfigs/kubelet.go`: the serialized default file of 1.31, in key order (top level),
    // here with systemd-resolved inactive (LoadOptions::default), so without resolvConf.
    let yaml = kubelet_config_yaml(&fixture("single-node.yaml"), &PatchSet::default()).unwrap();
    let top: Vec<&str> = yaml
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('-'))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        top,
        [
            "apiVersion",
            "authentication",
            "authorization",
            "cgroupDriver",
            "clusterDNS",
            "clusterDomain",
            "containerRuntimeEndpoint",
            "cpuManagerReconcilePeriod",
            "evictionPressureTransitionPeriod",
            "fileCheckFrequency",
            "healthzBindAddress",
            "healthzPort",
            "httpCheckFrequency",
            "imageMaximumGCAge",
            "imageMinimumGCAge",
            "kind",
            "logging",
            "memorySwap",
            "nodeStatusReportFrequency",
            "nodeStatusUpdateFrequency",
            "rotateCertificates",
            "runtimeRequestTimeout",
            "shutdownGracePeriod",
            "shutdownGracePeriodCriticalPods",
            "staticPodPath",
            "streamingConnectionIdleTimeout",
            "syncFrequency",
            "volumeStatsAggPeriod",
        ]
    );
    for line in [
        "apiVersion: kubelet.config.k8s.io/v1beta1\n",
        "  anonymous:\n    enabled: false\n",
        "  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
        "authorization:\n  mode: Webhook\n",
        "cgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\ncontainerRuntimeEndpoint: \"\"\n",
        "healthzBindAddress: 127.0.0.1\nhealthzPort: 10248\n",
        "kind: KubeletConfiguration\n",
        "rotateCertificates: true\n",
        "staticPodPath: /etc/kubernetes/manifests\n",
    ] {
        assert!(yaml.contains(line), "{line:?} missing from:\n{yaml}");
    }
}
