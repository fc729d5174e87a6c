//! `kbc compile` end to end: a deterministic bundle (same bytes across processes, thread
//! counts, time zones and umasks; a pinned digest), its layout and modes, atomic output, and
//! every Kubernetes object in it validated against the 1.31 schemas.

use crate::common::root;
use std::path::Path;
use std::process::{Command, Output};

const SECRETS: &str = "fixtures/secrets/test-secrets.yaml";
const AT: &str = "2026-11-25T12:00:00Z";

/// The digest of `fixtures/single-node.yaml` with the public test seed at AT. A change here
/// means every user's bundle changes: say why in the commit.
const PINNED_SINGLE_NODE: &str =
    "sha256:f3ab8033a78f59062d8a018fc97a4d89cc5c034cce857094b6eb2af864231769";

fn kbc(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .output()
        .unwrap()
}

/// `fixtures/single-node.yaml` with `patches.directory` set to `patches` (relative to the
/// repository), written into `dir`: kubeadm refuses `--patches` beside `--config`, so a file
/// names its patches itself.
fn with_patches(dir: &Path, patches: &str) -> String {
    let text = std::fs::read_to_string(root().join("fixtures/single-node.yaml")).unwrap();
    let text = text.replacen(
        "kind: InitConfiguration\n",
        &format!(
            "kind: InitConfiguration\npatches:\n  directory: {}\n",
            root().join(patches).display()
        ),
        1,
    );
    let path = dir.join(format!("{}.yaml", patches.replace('/', "-")));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn compile(fixture: &str, out: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "compile",
        fixture,
        "--secrets",
        SECRETS,
        "--issued-at",
        AT,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = kbc(&args, envs);
    assert!(
        o.status.success(),
        "{fixture}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn same_inputs_same_bytes_across_processes_threads_tz_and_umask() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tgz");
    let b = dir.path().join("b.tgz");
    let out_a = compile(
        "fixtures/single-node.yaml",
        &a,
        &[],
        &[("KBC_THREADS", "1"), ("TZ", "UTC")],
    );
    // A second process: other thread count, time zone and umask.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 0002; exec '{}' compile fixtures/single-node.yaml --secrets {SECRETS} --issued-at {AT} -o '{}'",
            env!("CARGO_BIN_EXE_kbc"),
            b.display()
        ))
        .env("KBC_THREADS", "7")
        .env("TZ", "Pacific/Kiritimati")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(ba == bb, "two compiles differ");
    let digest = text(&out_a.stdout).lines().next().unwrap().to_string();
    assert_eq!(text(&o.stdout).lines().next().unwrap(), digest);
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        digest, PINNED_SINGLE_NODE,
        "the bundle of fixtures/single-node.yaml changed: if intended, update PINNED_SINGLE_NODE"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&b).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn another_seed_or_time_gives_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tgz");
    let b = dir.path().join("b.tgz");
    compile("fixtures/single-node.yaml", &a, &[], &[]);
    let o = kbc(
        &[
            "compile",
            "fixtures/single-node.yaml",
            "--secrets",
            SECRETS,
            "--issued-at",
            "2026-11-26T12:00:00Z",
            "-o",
            b.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success());
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn layout_modes_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.tgz");
    let o = compile("fixtures/single-node.yaml", &out, &["--upload-certs"], &[]);
    let digest = text(&o.stdout).lines().next().unwrap().to_string();
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), Some(&digest)).unwrap();
    let m = &bundle.manifest;
    assert_eq!(m.format, "kbc.bundle/v1");
    assert_eq!(m.derivation, "kbc-kdf-v1");
    assert_eq!(m.kubernetes_version, "v1.31.2");
    assert_eq!(m.node_name, "cp-1");
    assert_eq!(m.issued_at, AT);
    let paths: Vec<&str> = bundle.files.iter().map(|f| f.path.as_str()).collect();
    for want in [
        "api/00-cluster-admins.yaml",
        "api/10-upload-config-kubeadm.yaml",
        "api/20-upload-config-kubelet.yaml",
        "api/30-upload-certs.yaml",
        "api/40-bootstrap-token.yaml",
        "api/50-cluster-info.yaml",
        "api/70-addon-coredns.yaml",
        "api/80-addon-kube-proxy.yaml",
        "images.txt",
        "join/commands.txt",
        "join/join-worker.sh",
        "rootfs/var/lib/kubelet/config.yaml",
        "rootfs/var/lib/kubelet/kubeadm-flags.env",
        "rootfs/etc/kubernetes/admin.conf",
        "rootfs/etc/kubernetes/super-admin.conf",
        "rootfs/etc/kubernetes/kubelet.conf",
        "rootfs/etc/kubernetes/controller-manager.conf",
        "rootfs/etc/kubernetes/scheduler.conf",
        "rootfs/etc/kubernetes/manifests/etcd.yaml",
        "rootfs/etc/kubernetes/manifests/kube-apiserver.yaml",
        "rootfs/etc/kubernetes/manifests/kube-controller-manager.yaml",
        "rootfs/etc/kubernetes/manifests/kube-scheduler.yaml",
        "rootfs/etc/kubernetes/pki/ca.crt",
        "rootfs/etc/kubernetes/pki/ca.key",
        "rootfs/etc/kubernetes/pki/sa.key",
        "rootfs/etc/kubernetes/pki/sa.pub",
        "rootfs/etc/kubernetes/pki/etcd/ca.crt",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    for f in &bundle.files {
        if f.path.ends_with(".key") || f.path.ends_with(".conf") {
            assert_eq!(f.mode, 0o600, "{}", f.path);
            assert!(f.secret, "{}", f.path);
        }
        if f.path.ends_with(".crt") {
            assert_eq!(f.mode, 0o644, "{}", f.path);
            assert!(!f.secret, "{}", f.path);
        }
    }
    let secret_api: Vec<_> = bundle
        .files
        .iter()
        .filter(|f| f.path.starts_with("api/") && f.secret)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        secret_api,
        ["api/30-upload-certs.yaml", "api/40-bootstrap-token.yaml"]
    );
    let plan = m.apply_plan().unwrap();
    assert_eq!(plan.api_files.len(), 8);
    assert!(plan.upload_certs);
    assert_eq!(plan.node.name, "cp-1");
    assert_eq!(
        plan.bootstrap_tokens.len(),
        2,
        "the config's token and upload-certs' proxy token"
    );
    // The summary masks the token secret unless asked.
    let summary = text(&o.stdout);
    assert!(summary.contains(".****************"), "{summary}");
}

#[test]
fn refused_config_writes_nothing_and_keeps_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.tgz");
    let o = kbc(
        &[
            "compile",
            "fixtures/invalid/several-errors.yaml",
            "--secrets",
            SECRETS,
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
    std::fs::write(&out, b"previous").unwrap();
    let o = kbc(
        &[
            "compile",
            "fixtures/invalid/token.yaml",
            "--secrets",
            SECRETS,
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

/// Every static Pod and API object of every valid fixture's bundle validates strictly.
#[test]
fn every_object_validates_against_kubernetes_1_31() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let out = dir.path().join(format!("{name}.tgz"));
        let bytes = crate::common::compile_bundle_in_process(&[
            "compile",
            &format!("fixtures/{name}.yaml"),
            "--secrets",
            SECRETS,
            "--issued-at",
            AT,
            "--upload-certs",
            "-o",
            out.to_str().unwrap(),
        ]);
        let bundle = kbc_bundle::verify(&bytes, None).unwrap();
        for f in bundle.files.iter().filter(|f| {
            f.path.starts_with("api/") || f.path.starts_with("rootfs/etc/kubernetes/manifests/")
        }) {
            n += 1;
            let file = dir.path().join(format!("{name}-{n}.yaml"));
            std::fs::write(&file, &f.data).unwrap();
            files.push(file.display().to_string());
        }
    }
    assert!(n > 50, "{n}");
    crate::common::kubernetes_validate(&files);
}

#[test]
fn patches_reach_the_bundle_and_bad_patches_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.tgz");
    compile(
        &with_patches(dir.path(), "fixtures/patches/strategic"),
        &out,
        &[],
        &[],
    );
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    let pod = bundle
        .files
        .iter()
        .find(|f| f.path == "rootfs/etc/kubernetes/manifests/kube-apiserver.yaml")
        .unwrap();
    let pod = text(&pod.data);
    assert!(pod.contains("example.com/patched: \"true\""), "{pod}");
    assert!(pod.contains("name: audit-shipper"), "{pod}");
    let bad = dir.path().join("bad.tgz");
    let o = kbc(
        &[
            "compile",
            &with_patches(dir.path(), "fixtures/patches/bad-yaml"),
            "--secrets",
            SECRETS,
            "-o",
            bad.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("fixtures/patches/bad-yaml/kube-apiserver.yaml:"),
        "{}",
        text(&o.stderr)
    );
    assert!(!bad.exists());
}

/// Bad secrets, a patch that does not apply and an unwritable output: a clear error that
/// names the culprit, exit 1, no bundle (and no temporary file) left behind.
#[test]
fn bad_inputs_are_refused_without_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.tgz");
    let out_s = out.to_str().unwrap();
    let damaged = dir.path().join("damaged-secrets.yaml");
    std::fs::write(&damaged, "version: kbc.secrets/v1\nseed: 0011\n").unwrap();
    let unknown = dir.path().join("unknown-secrets.yaml");
    std::fs::write(&unknown, "version: kbc.secrets/v9\nseed: 00\n").unwrap();
    let apply_fails = with_patches(dir.path(), "fixtures/patches/apply-fails");
    let no_such_dir = with_patches(dir.path(), "fixtures/patches/no-such-dir");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--secrets", "fixtures/secrets/no-such-file.yaml"],
            "no-such-file.yaml",
        ),
        (
            vec!["--secrets", damaged.to_str().unwrap()],
            "damaged-secrets.yaml",
        ),
        (
            vec!["--secrets", unknown.to_str().unwrap()],
            "unknown-secrets.yaml",
        ),
        (
            vec!["--secrets", SECRETS, "--config", &apply_fails],
            "fixtures/patches/apply-fails/",
        ),
        (
            vec!["--secrets", SECRETS, "--config", &no_such_dir],
            "no-such-dir",
        ),
    ];
    for (extra, culprit) in cases {
        // The configuration is a case's `--config` (a file naming its patches), else the
        // single-node fixture.
        let mut args = vec!["compile", "-o", out_s];
        if !extra.contains(&"--config") {
            args.push("fixtures/single-node.yaml");
        }
        args.extend(extra.iter().copied());
        let o = kbc(&args, &[]);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(culprit),
            "{extra:?}: {}",
            text(&o.stderr)
        );
        assert!(!out.exists(), "{extra:?} left a bundle");
    }
    // An output directory that does not exist / cannot be written.
    let o = kbc(
        &[
            "compile",
            "fixtures/single-node.yaml",
            "--secrets",
            SECRETS,
            "-o",
            "/proc/kbc-cannot-write/b.tgz",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("/proc/kbc-cannot-write/b.tgz"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "no digest is printed for a bundle that was not written"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with("secrets.yaml") && !n.starts_with("fixtures-patches-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// With the node's facts given (`--host-name`, `--ca-cert-dirs` of a Debian/Ubuntu host), the
/// kubelet flags are kubeadm's real v1.31.2 line (kubeadm's `cmd/kubeadm/app/phases/kubelet/flags.go`) and the API server
/// mounts exactly what kubeadm mounts on such a host.
#[test]
fn host_inputs_reproduce_kubeadm_on_a_debian_node() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.tgz");
    compile(
        "fixtures/single-node.yaml",
        &out,
        &[
            "--host-name",
            "CP-1",
            "--ca-cert-dirs",
            "/etc/ca-certificates,/usr/share/ca-certificates,/usr/local/share/ca-certificates",
        ],
        &[],
    );
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    let file = |p: &str| text(&bundle.files.iter().find(|f| f.path == p).unwrap().data);
    assert_eq!(
        file("rootfs/var/lib/kubelet/kubeadm-flags.env"),
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n"
    );
    let pod = file("rootfs/etc/kubernetes/manifests/kube-apiserver.yaml");
    let mounts: Vec<&str> = pod
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- mountPath: "))
        .collect();
    assert_eq!(
        mounts,
        [
            "/etc/ssl/certs",
            "/etc/ca-certificates",
            "/etc/kubernetes/pki",
            "/usr/local/share/ca-certificates",
            "/usr/share/ca-certificates"
        ]
    );
}

/// With a controlPlaneEndpoint the summary also shows the control-plane join command, with
/// the token secret and the certificate key masked unless `--show-secrets`.
#[test]
fn summary_masks_secrets_in_both_join_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.tgz");
    let o = compile(
        "fixtures/external-etcd.yaml",
        &out,
        &["--upload-certs"],
        &[],
    );
    let summary = text(&o.stdout);
    let cp = summary
        .lines()
        .find(|l| l.starts_with("join (control plane)"))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(cp.contains(".**************** "), "{cp}");
    assert!(
        cp.ends_with(&format!(
            "--control-plane --certificate-key {}",
            "*".repeat(64)
        )),
        "{cp}"
    );
    let shown = text(
        &compile(
            "fixtures/external-etcd.yaml",
            &out,
            &["--upload-certs", "--show-secrets"],
            &[],
        )
        .stdout,
    );
    assert!(!shown.contains("****"), "{shown}");
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    let commands = text(
        &bundle
            .files
            .iter()
            .find(|f| f.path == "join/commands.txt")
            .unwrap()
            .data,
    );
    let key = commands
        .split("--certificate-key ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(
        shown.contains(key),
        "the summary shows the bundle's certificate key"
    );
}
