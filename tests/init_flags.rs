//! kubeadm init's flags on `kbc compile` / `kbc render`: for every flag, the review rendering
//! of a configuration made from flags equals that of the equivalent file (and differs from
//! the rendering without the flag, so the flag does something); every flag that kubeadm
//! refuses beside `--config` is refused with kubeadm's text.

use crate::common::{kbc, root};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `kbc render` with `args`; must succeed.
fn render(args: &[&str]) -> String {
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    let o = kbc(&all);
    assert!(o.status.success(), "{all:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

const NODE: [&str; 4] = ["--node-name", "cp-1", "--kubernetes-version", "v1.31.2"];
const ADDRESS: [&str; 2] = ["--advertise-address", "10.0.0.5"];
const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A flag, the file that says the same, and flags both sides pass (those kubeadm allows
/// beside `--config`).
struct Case {
    flags: Vec<&'static str>,
    init: String,
    cluster: String,
    both: Vec<&'static str>,
}

fn case(flags: &[&'static str], init: &str, cluster: &str, both: &[&'static str]) -> Case {
    Case {
        flags: flags.to_vec(),
        init: init.into(),
        cluster: cluster.into(),
        both: both.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    let patches = root()
        .join("fixtures/patches/strategic")
        .display()
        .to_string();
    let patches: &'static str = Box::leak(patches.into_boxed_str());
    vec![
        case(
            &["--apiserver-advertise-address", "10.0.0.7"],
            "localAPIEndpoint:\n  advertiseAddress: 10.0.0.7\n",
            "",
            &[],
        ),
        case(
            &["--apiserver-bind-port", "7443"],
            "localAPIEndpoint:\n  bindPort: 7443\n",
            "",
            &[],
        ),
        case(
            &["--apiserver-cert-extra-sans", "a.example.com,10.0.0.9"],
            "",
            "apiServer:\n  certSANs:\n  - a.example.com\n  - 10.0.0.9\n",
            &[],
        ),
        case(
            &["--cert-dir", "/etc/k8s/pki"],
            "",
            "certificatesDir: /etc/k8s/pki\n",
            &[],
        ),
        case(
            &["--certificate-key", KEY],
            &format!("certificateKey: {KEY}\n"),
            "",
            &["--upload-certs"],
        ),
        case(
            &["--control-plane-endpoint", "lb.example.com:6443"],
            "",
            "controlPlaneEndpoint: lb.example.com:6443\n",
            &[],
        ),
        case(
            &["--feature-gates", "ControlPlaneKubeletLocalMode=true"],
            "",
            "featureGates:\n  ControlPlaneKubeletLocalMode: true\n",
            &[],
        ),
        case(
            &["--image-repository", "nexus.local:8122"],
            "",
            "imageRepository: nexus.local:8122\n",
            &[],
        ),
        case(
            &["--patches", patches],
            &format!("patches:\n  directory: {patches}\n"),
            "",
            &[],
        ),
        case(
            &["--pod-network-cidr", "10.244.0.0/16"],
            "",
            "networking:\n  podSubnet: 10.244.0.0/16\n",
            &[],
        ),
        case(
            &["--service-cidr", "10.97.0.0/16"],
            "",
            "networking:\n  serviceSubnet: 10.97.0.0/16\n",
            &[],
        ),
        case(
            &["--service-dns-domain", "corp.internal"],
            "",
            "networking:\n  dnsDomain: corp.internal\n",
            &[],
        ),
        case(
            &["--control-plane-endpoint", "lb:6443"],
            "",
            "controlPlaneEndpoint: lb:6443\n",
            &["--upload-certs", "--skip-certificate-key-print"],
        ),
        case(
            &["--skip-phases", "addon/kube-proxy"],
            "skipPhases:\n- addon/kube-proxy\n",
            "",
            &[],
        ),
        case(&[], "", "", &["--skip-token-print"]),
        case(
            &["--token", "abcdef.0123456789abcdef"],
            "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n",
            "",
            &[],
        ),
        case(
            &["--token-ttl", "2h"],
            "bootstrapTokens:\n- ttl: 2h\n",
            "",
            &[],
        ),
        case(&[], "", "", &["--upload-certs"]),
        case(
            &["--cri-socket", "unix:///run/crio/crio.sock"],
            "nodeRegistration:\n  criSocket: unix:///run/crio/crio.sock\n",
            "",
            &[],
        ),
    ]
}

#[test]
fn every_init_flag_renders_as_its_equivalent_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = render(&[&NODE[..], &ADDRESS[..]].concat());
    for (i, c) in cases().into_iter().enumerate() {
        let address: &[&str] = if c.flags.first() == Some(&"--apiserver-advertise-address") {
            &[]
        } else {
            &ADDRESS
        };
        let from_flags = render(&[&NODE[..], address, &c.flags, &c.both].concat());
        let file = dir.path().join(format!("case-{i}.yaml"));
        std::fs::write(
            &file,
            format!(
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n{}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n{}",
                c.init, c.cluster
            ),
        )
        .unwrap();
        let from_file = render(&[&[file.to_str().unwrap()][..], &NODE, address, &c.both].concat());
        assert_eq!(from_flags, from_file, "{:?}", c.flags);
        // The skip-*-print flags change join/commands.txt, which the review redacts (tested
        // below on the bundle).
        let only_print = c.flags.is_empty() && c.both.iter().all(|f| f.ends_with("-print"));
        if !only_print {
            assert_ne!(from_flags, base, "{:?} changed nothing", c.flags);
        }
    }
}

/// `--skip-token-print` and `--skip-certificate-key-print` withhold the values in the join
/// commands, as kubeadm's printed text does.
#[test]
fn skip_print_flags_withhold_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.tgz");
    let args = [
        &[
            "compile",
            "-o",
            out.to_str().unwrap(),
            "--control-plane-endpoint",
            "lb:6443",
            "--upload-certs",
        ][..],
        &NODE,
        &ADDRESS,
        &["--skip-token-print", "--skip-certificate-key-print"],
    ]
    .concat();
    let o = kbc(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    let commands = bundle
        .files
        .iter()
        .find(|f| f.path == "join/commands.txt")
        .unwrap();
    let commands = text(&commands.data);
    assert!(commands.contains("--token <value withheld>"), "{commands}");
    assert!(
        commands.contains("--certificate-key <value withheld>"),
        "{commands}"
    );
}

/// The README's example: a bundle from flags alone equals (in review) the equivalent file's.
#[test]
fn a_bundle_from_flags_alone_matches_the_equivalent_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.tgz"), dir.path().join("b.tgz"));
    let file = dir.path().join("c.yaml");
    std::fs::write(&file, "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.244.0.0/16\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n").unwrap();
    let secrets = [
        "--secrets",
        "fixtures/secrets/test-secrets.yaml",
        "--issued-at",
        "2026-11-25T12:00:00Z",
    ];
    let flags = [
        &[
            "compile",
            "--pod-network-cidr",
            "10.244.0.0/16",
            "-o",
            a.to_str().unwrap(),
        ][..],
        &NODE,
        &ADDRESS,
        &secrets,
    ]
    .concat();
    let with_file = [
        &["compile", file.to_str().unwrap(), "-o", b.to_str().unwrap()][..],
        &NODE,
        &ADDRESS,
        &secrets,
    ]
    .concat();
    for args in [&flags, &with_file] {
        let o = kbc(args);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let diff = kbc(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(diff.status.success(), "{}", text(&diff.stderr));
    assert_eq!(text(&diff.stdout), "", "the two bundles differ in review");
}

/// kubeadm's `ValidateMixedArguments`: every init flag but `--upload-certs` and the `skip-*`
/// ones is refused beside a file, listed in name order; node facts are always allowed.
#[test]
fn mixing_a_file_with_init_flags_is_refused_as_kubeadm_does() {
    let file = "fixtures/single-node.yaml";
    let refused: [(&[&str], &str); 15] = [
        (
            &["--apiserver-advertise-address", "10.0.0.7"],
            "[apiserver-advertise-address]",
        ),
        (&["--apiserver-bind-port", "7443"], "[apiserver-bind-port]"),
        (
            &["--apiserver-cert-extra-sans", "a.example.com"],
            "[apiserver-cert-extra-sans]",
        ),
        (&["--cert-dir", "/x"], "[cert-dir]"),
        (&["--certificate-key", KEY], "[certificate-key]"),
        (
            &["--control-plane-endpoint", "lb:6443"],
            "[control-plane-endpoint]",
        ),
        (&["--feature-gates", "A=true"], "[feature-gates]"),
        (
            &["--image-repository", "r.example.com"],
            "[image-repository]",
        ),
        (&["--patches", "fixtures/patches/strategic"], "[patches]"),
        (
            &["--pod-network-cidr", "10.244.0.0/16"],
            "[pod-network-cidr]",
        ),
        (&["--service-cidr", "10.97.0.0/16"], "[service-cidr]"),
        (
            &["--service-dns-domain", "corp.internal"],
            "[service-dns-domain]",
        ),
        (&["--token", "abcdef.0123456789abcdef"], "[token]"),
        (&["--token-ttl", "2h"], "[token-ttl]"),
        (
            &[
                "--token-ttl",
                "2h",
                "--pod-network-cidr",
                "10.244.0.0/16",
                "--cert-dir",
                "/x",
            ],
            "[cert-dir pod-network-cidr token-ttl]",
        ),
    ];
    for (flags, list) in refused {
        for config in [&[file][..], &["--config", file]] {
            let o = kbc(&["render"]
                .into_iter()
                .chain(config.iter().copied())
                .chain(flags.iter().copied())
                .collect::<Vec<_>>());
            assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", text(&o.stderr));
            let want = format!("can not mix '--config' with arguments {list}");
            assert!(
                text(&o.stderr).contains(&want),
                "{flags:?}: {}",
                text(&o.stderr)
            );
        }
    }
    let allowed = [
        file,
        "--upload-certs",
        "--skip-phases",
        "addon/kube-proxy",
        "--skip-token-print",
        "--skip-certificate-key-print",
        "--node-name",
        "cp-2",
        "--advertise-address",
        "10.0.0.8",
        "--cri-socket",
        "unix:///run/crio/crio.sock",
        "--kubernetes-version",
        "v1.31.1",
        "--host-name",
        "cp-2",
        "--systemd-resolved",
        "--ca-cert-dirs",
        "/etc/ssl/certs",
    ];
    render(&allowed);
    let o = kbc(&["render", file, "--config", "fixtures/dual-stack.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

/// Issue 8: one skip rule (kubeadm's runner): a skipped phase ships nothing, parents skip
/// their children, the deprecated kubelet-finalize name is an alias, and a name that is no
/// phase is kubeadm's error.
#[test]
fn skipped_phases_ship_nothing_and_unknown_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = [
        "--secrets",
        "fixtures/secrets/test-secrets.yaml",
        "--issued-at",
        "2026-11-25T12:00:00Z",
    ];
    let bundle = |skip: &str| {
        let out = dir.path().join("b.tgz");
        let args = [
            &[
                "compile",
                "fixtures/single-node.yaml",
                "-o",
                out.to_str().unwrap(),
                "--upload-certs",
                "--skip-phases",
                skip,
            ][..],
            &secrets,
        ]
        .concat();
        let bytes = crate::common::compile_bundle_in_process(&args);
        kbc_bundle::verify(&bytes, None).unwrap()
    };
    let has = |b: &kbc_bundle::VerifiedBundle, p: &str| b.files.iter().any(|f| f.path == p);
    let plan = |b: &kbc_bundle::VerifiedBundle| b.manifest.apply_plan().unwrap();

    let b = bundle("upload-certs");
    assert!(!has(&b, "api/30-upload-certs.yaml"));
    assert!(!plan(&b).upload_certs);
    assert!(!plan(&b).phases.iter().any(|p| p == "upload-certs"));

    let b = bundle("addon");
    assert!(!has(&b, "api/70-addon-coredns.yaml") && !has(&b, "api/80-addon-kube-proxy.yaml"));
    assert!(!plan(&b).phases.iter().any(|p| p.starts_with("addon")));

    // `all` only runs its siblings from the command line: skipping it skips nothing.
    let b = bundle("addon/all");
    assert!(has(&b, "api/70-addon-coredns.yaml"));

    let full = plan(&bundle("show-join-command")).phases;
    assert!(
        full.iter()
            .any(|p| p == "kubelet-finalize/enable-client-cert-rotation"),
        "{full:?}"
    );
    for name in [
        "kubelet-finalize/experimental-cert-rotation",
        "kubelet-finalize",
    ] {
        let phases = plan(&bundle(name)).phases;
        assert!(
            !phases.iter().any(|p| p.starts_with("kubelet-finalize")),
            "{name}: {phases:?}"
        );
    }

    let o = kbc(&[
        "config",
        "validate",
        "fixtures/single-node.yaml",
        "--allow-unknown-fields",
    ]);
    assert!(o.status.success());
    let out = dir.path().join("x.tgz");
    let args = [
        &[
            "compile",
            "fixtures/single-node.yaml",
            "-o",
            out.to_str().unwrap(),
            "--skip-phases",
            "addons",
        ][..],
        &secrets,
    ]
    .concat();
    let o = kbc(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("skipPhases[0]: invalid phase name: addons"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
}
