//! The `kbc config`, `token` and `certs certificate-key` commands as a user runs them:
//! exit codes, stdin, output files.

use crate::common::{kbc, root};
use std::io::Write;
use std::process::{Command, Stdio};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn exit_codes_follow_the_table() {
    let ok = kbc(&["config", "validate", "fixtures/single-node.yaml"]);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(text(&ok.stdout), "ok\n");
    let refused = kbc(&["config", "validate", "fixtures/invalid/several-errors.yaml"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("7 errors"),
        "{}",
        text(&refused.stderr)
    );
    assert!(refused.stdout.is_empty());
    let usage = kbc(&["config", "validate", "--no-such-flag", "x.yaml"]);
    assert_eq!(usage.status.code(), Some(2));
    let missing = kbc(&["config", "validate", "fixtures/does-not-exist.yaml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("does-not-exist.yaml"));
    let help = kbc(&["config", "--help"]);
    assert!(text(&help.stdout).contains("Exit codes:"));
}

#[test]
fn reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(["config", "view", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = std::fs::read(root().join("fixtures/single-node.yaml")).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = kbc(&["config", "view", "fixtures/single-node.yaml"]);
    assert_eq!(out.stdout, file.stdout);
    let bad = Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(["config", "validate", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("<stdin>"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn view_is_deterministic_and_ordered() {
    let a = kbc(&["config", "view", "fixtures/component-configs.yaml"]);
    let b = kbc(&["config", "view", "fixtures/component-configs.yaml"]);
    assert_eq!(a.stdout, b.stdout);
    let kinds: Vec<_> = text(&a.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        kinds,
        [
            "InitConfiguration",
            "ClusterConfiguration",
            "KubeletConfiguration",
            "KubeProxyConfiguration"
        ]
    );
}

#[test]
fn migrate_v1beta3_to_v1beta4() {
    let dir = std::env::temp_dir().join(format!("kbc-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("new.yaml");
    let out = kbc(&[
        "config",
        "migrate",
        "--old-config",
        "fixtures/v1beta3.yaml",
        "--new-config",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let migrated = std::fs::read_to_string(&out_file).unwrap();
    assert!(!migrated.contains("v1beta3"));
    assert!(
        migrated.contains("- name: audit-log-path\n    value: '-'")
            || migrated.contains("- name: audit-log-path\n    value: \"-\""),
        "{migrated}"
    );
    assert!(
        migrated.contains("controlPlaneComponentHealthCheck: 6m0s"),
        "{migrated}"
    );
    assert!(migrated.contains("imagePullSerial: true"));
    assert!(migrated.contains("encryptionAlgorithm: RSA-2048"));
    // The migrated file is itself a valid v1beta4 configuration with no deprecation warning.
    let check = kbc(&["config", "validate", out_file.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(!text(&check.stderr).contains("deprecated API spec"));
    // Refused input leaves no output file behind.
    let refused_file = dir.join("refused.yaml");
    let refused = kbc(&[
        "config",
        "migrate",
        "--old-config",
        "fixtures/invalid/old-api-version.yaml",
        "--new-config",
        refused_file.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(!refused_file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_list_follows_kubeadm_rules() {
    let default = kbc(&[
        "config",
        "images",
        "list",
        "--kubernetes-version",
        "v1.31.2",
    ]);
    assert_eq!(
        text(&default.stdout),
        "registry.k8s.io/kube-apiserver:v1.31.2\nregistry.k8s.io/kube-controller-manager:v1.31.2\nregistry.k8s.io/kube-scheduler:v1.31.2\nregistry.k8s.io/kube-proxy:v1.31.2\nregistry.k8s.io/coredns/coredns:v1.11.3\nregistry.k8s.io/pause:3.10\nregistry.k8s.io/etcd:3.5.15-0\n"
    );
    let custom = kbc(&[
        "config",
        "images",
        "list",
        "--config",
        "fixtures/custom-registry.yaml",
    ]);
    assert_eq!(
        text(&custom.stdout),
        "registry.internal:5000/k8s/kube-apiserver:v1.31.2\nregistry.internal:5000/k8s/kube-controller-manager:v1.31.2\nregistry.internal:5000/k8s/kube-scheduler:v1.31.2\nregistry.internal:5000/k8s/kube-proxy:v1.31.2\nregistry.internal:5000/dns/coredns:v1.11.3-patched\nregistry.internal:5000/k8s/pause:3.10\nregistry.internal:5000/etcd-mirror/etcd:3.5.15-0\n"
    );
    let disabled = kbc(&[
        "config",
        "images",
        "list",
        "--config",
        "fixtures/feature-gates.yaml",
    ]);
    assert_eq!(
        text(&disabled.stdout),
        "registry.k8s.io/kube-apiserver:v1.31.2\nregistry.k8s.io/kube-controller-manager:v1.31.2\nregistry.k8s.io/kube-scheduler:v1.31.2\nregistry.k8s.io/pause:3.10\nregistry.k8s.io/etcd:3.5.15-0\n"
    );
    let external = text(
        &kbc(&[
            "config",
            "images",
            "list",
            "--config",
            "fixtures/external-etcd.yaml",
        ])
        .stdout,
    );
    assert!(!external.contains("etcd"), "{external}");
    // No version: kubeadm's default label stable-1, which offline falls back to kubeadm's
    // own release (kbc's KUBEADM_VERSION) with kubeadm's two warnings.
    let no_version = kbc(&["config", "images", "list"]);
    assert_eq!(no_version.status.code(), Some(0));
    let stderr = text(&no_version.stderr);
    assert!(stderr.contains("could not fetch a Kubernetes version from the internet: unable to get URL \"https://dl.k8s.io/release/stable-1.txt\""), "{stderr}");
    let v = kbc::config::release::KUBEADM_VERSION;
    assert!(
        stderr.contains(&format!("falling back to the local client version: {v}")),
        "{stderr}"
    );
    assert!(text(&no_version.stdout).starts_with(&format!("registry.k8s.io/kube-apiserver:{v}\n")));
}

#[test]
fn token_and_certificate_key_formats() {
    let token_re = regex::Regex::new(r"^[a-z0-9]{6}\.[a-z0-9]{16}\n$").unwrap();
    let a = text(&kbc(&["token", "generate"]).stdout);
    let b = text(&kbc(&["token", "generate"]).stdout);
    assert!(token_re.is_match(&a), "{a:?}");
    assert_ne!(a, b);
    let key = text(&kbc(&["certs", "certificate-key"]).stdout);
    assert!(
        regex::Regex::new(r"^[0-9a-f]{64}\n$")
            .unwrap()
            .is_match(&key),
        "{key:?}"
    );
}

/// A closed stdout (the reader of the pipe is gone, as with `| head -0`) is exit 3 with a
/// message, never a panic (exit 101); compile has still written its bundle.
#[test]
fn closed_stdout_is_exit_3_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.tgz");
    let bundle_arg = bundle.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "compile",
            "fixtures/single-node.yaml",
            "--secrets",
            "fixtures/secrets/test-secrets.yaml",
            "--issued-at",
            "2026-11-25T12:00:00Z",
            "-o",
            bundle_arg,
        ],
        vec!["render", "fixtures/single-node.yaml"],
        vec!["inspect", "fixtures/bundles/single-node.tgz"],
        vec![
            "diff",
            "fixtures/single-node.yaml",
            "fixtures/dual-stack.yaml",
        ],
        vec!["config", "view", "fixtures/single-node.yaml"],
        vec!["config", "validate", "fixtures/single-node.yaml"],
        vec![
            "config",
            "images",
            "list",
            "--config",
            "fixtures/single-node.yaml",
        ],
        vec!["config", "print", "init-defaults"],
        vec!["token", "generate"],
        vec!["certs", "certificate-key"],
        vec![
            "certs",
            "check-expiration",
            "--bundle",
            "fixtures/bundles/single-node.tgz",
        ],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_kbc"))
            .args(&args)
            .current_dir(root())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(bundle.exists(), "compile wrote its bundle before printing");
}

/// A closed stderr (warnings and errors have nowhere to go) never panics (exit 101): the
/// command ends with its own exit code, as if stderr had been read.
#[test]
fn closed_stderr_is_not_a_panic() {
    for (args, code) in [
        // Warnings (v1beta3, no kubernetesVersion) on stderr, then `ok` on stdout.
        (vec!["config", "validate", "fixtures/v1beta3.yaml"], 0),
        (
            vec!["config", "validate", "fixtures/invalid/several-errors.yaml"],
            1,
        ),
        (
            vec![
                "compile",
                "fixtures/single-node.yaml",
                "-o",
                "/nonexistent/dir/b.tgz",
            ],
            1,
        ),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_kbc"))
            .args(&args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}

/// Issue 8: one set of node-fact flags on every command that reads a configuration.
#[test]
fn every_command_that_reads_a_configuration_takes_the_node_facts() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).display().to_string();
    let (bundle, certs) = (out("b.tgz"), out("certs"));
    let facts = [
        "--node-name",
        "CP-9",
        "--advertise-address",
        "10.0.0.9",
        "--cri-socket",
        "unix:///run/crio/crio.sock",
        "--kubernetes-version",
        "v1.31.1",
        "--host-name",
        "cp-9",
        "--systemd-resolved",
        "--ca-cert-dirs",
        "/etc/ssl/certs",
        "--allow-unknown-fields",
    ];
    let f = "fixtures/feature-gates.yaml";
    let secrets = [
        "--secrets",
        "fixtures/secrets/test-secrets.yaml",
        "--issued-at",
        "2026-11-25T12:00:00Z",
    ];
    let commands: Vec<Vec<&str>> = vec![
        vec!["config", "validate", f],
        vec!["config", "view", f],
        vec!["config", "migrate", "--old-config", f],
        vec!["config", "images", "list", "--config", f],
        [&["certs", "render", f, "-o", &certs][..], &secrets[..]].concat(),
        vec!["render", f],
        [&["compile", f, "-o", &bundle][..], &secrets[..]].concat(),
        vec!["diff", f, f],
    ];
    for mut args in commands {
        args.extend_from_slice(&facts);
        let o = kbc(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
        let stdout = text(&o.stdout);
        match args[..2] {
            ["config", "view"] => {
                assert!(stdout.contains("name: cp-9"), "{stdout}");
                assert!(stdout.contains("advertiseAddress: 10.0.0.9"), "{stdout}");
                assert!(
                    stdout.contains("criSocket: unix:///run/crio/crio.sock"),
                    "{stdout}"
                );
                assert!(stdout.contains("kubernetesVersion: v1.31.1"), "{stdout}");
                // Since 1.31 resolvConf is the node's, not the cluster's KubeletConfiguration.
                assert!(!stdout.contains("resolvConf"), "{stdout}");
            }
            ["config", "images"] => assert!(stdout.contains("kube-apiserver:v1.31.1"), "{stdout}"),
            ["render", _] => {
                // In the node's config.yaml only, not in the kubelet-config ConfigMap.
                let resolv = "resolvConf: /run/systemd/resolve/resolv.conf";
                assert_eq!(stdout.matches(resolv).count(), 1, "{stdout}");
                assert!(stdout.contains("--advertise-address=10.0.0.9"), "{stdout}");
                assert!(stdout.contains("/etc/ssl/certs"), "{stdout}");
            }
            _ => {}
        }
    }
}

/// Issue 8: a file without criSocket and kubernetesVersion validates, with kubeadm's warnings.
#[test]
fn a_file_without_cri_socket_and_version_validates_with_warnings() {
    let o = kbc(&["config", "validate", "fixtures/minimal.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "ok\n");
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains(
            "criSocket: empty: using kubeadm's default unix:///var/run/containerd/containerd.sock"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("could not fetch a Kubernetes version from the internet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("falling back to the local client version"),
        "{stderr}"
    );
}

/// The configuration's warnings (here: an unknown field under --allow-unknown-fields) reach
/// standard error, located, from every command that resolves a configuration, and the
/// command still does its work.
#[test]
fn compile_render_and_diff_print_the_configurations_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/single-node.yaml"))
        .unwrap()
        .replacen(
            "kind: ClusterConfiguration\n",
            "kind: ClusterConfiguration\nbogusField: 1\n",
            1,
        );
    assert!(text.contains("bogusField"));
    let file = dir.path().join("lenient.yaml");
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let out = dir.path().join("b.tgz");
    let compile = [
        "compile",
        f,
        "--allow-unknown-fields",
        "--secrets",
        "fixtures/secrets/test-secrets.yaml",
        "--issued-at",
        "2026-11-25T12:00:00Z",
        "-o",
        out.to_str().unwrap(),
    ];
    let render = ["render", f, "--allow-unknown-fields"];
    let diff = ["diff", f, f, "--allow-unknown-fields"];
    for args in [&compile[..], &render[..], &diff[..]] {
        let o = kbc(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("warning: bogusField: unknown field \"bogusField\"")
                && err.contains("lenient.yaml:"),
            "{args:?}: {err}"
        );
    }
    assert!(out.is_file());
}
