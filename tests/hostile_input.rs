//! `kbc` against hostile input (reproductions of crashes, hangs and leaks found by review): every case ends
//! with exit 1, a message naming the culprit, and nothing written — never a hang, a crash or
//! unbounded memory.

use crate::common::root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    root().join("fixtures").join(name).display().to_string()
}

fn kbc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(args)
        .output()
        .unwrap()
}

/// Compiles the single-node fixture (or `config`) with `extra` flags into `dir/out.tgz`.
fn compile(dir: &Path, config: &str, extra: &[&str]) -> (Output, PathBuf) {
    let out = dir.join("out.tgz");
    let mut args = vec![
        "compile",
        config,
        "--issued-at",
        "2026-11-25T12:00:00Z",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (kbc(&args), out)
}

#[track_caller]
fn assert_refused(o: &Output, out: &Path, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(needle), "{needle:?} not in: {err}");
    assert!(!out.exists(), "a bundle was written");
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

/// A patches directory in `dir` holding `files`, and a copy of the single-node fixture that
/// names it in `patches.directory` (kubeadm refuses `--patches` beside a file).
fn patch_dir(dir: &Path, files: &[(&str, String)]) -> String {
    let p = dir.join("patches");
    std::fs::create_dir_all(&p).unwrap();
    for (name, text) in files {
        std::fs::write(p.join(name), text).unwrap();
    }
    let config = std::fs::read_to_string(fixture("single-node.yaml"))
        .unwrap()
        .replacen(
            "kind: InitConfiguration\n",
            &format!(
                "kind: InitConfiguration\npatches:\n  directory: {}\n",
                p.display()
            ),
            1,
        );
    let path = dir.join("with-patches.yaml");
    std::fs::write(&path, config).unwrap();
    path.display().to_string()
}

/// A10: a configuration over the input limit is refused before any work.
#[test]
fn an_oversized_configuration_is_refused_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("single-node.yaml"))
        .unwrap()
        .replace(
            "clusterName: kubernetes",
            &format!("clusterName: \"{}\"", "a".repeat(2 << 20)),
        );
    let config = dir.path().join("big.yaml");
    std::fs::write(&config, text).unwrap();
    let (o, out) = compile(dir.path(), config.to_str().unwrap(), &[]);
    assert_refused(&o, &out, "larger than 1 MiB");
}

/// C24/B24/B32: FIFOs (and devices) are not read: they would block or never end.
#[test]
fn fifos_and_devices_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    mkfifo(&fifo);
    let (o, out) = compile(dir.path(), fifo.to_str().unwrap(), &[]);
    assert_refused(&o, &out, "not a regular file");

    let secrets = ["--secrets", "/dev/zero"];
    let (o, out) = compile(dir.path(), &fixture("single-node.yaml"), &secrets);
    assert_refused(&o, &out, "not a regular file");

    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    std::os::unix::fs::symlink("/dev/zero", pki.join("ca.key")).unwrap();
    mkfifo(&pki.join("ca.crt"));
    let (o, out) = compile(
        dir.path(),
        &fixture("single-node.yaml"),
        &["--pki-dir", pki.to_str().unwrap()],
    );
    assert_refused(&o, &out, "not a regular file");

    let patches = patch_dir(dir.path(), &[]);
    mkfifo(&dir.path().join("patches/kube-scheduler.yaml"));
    let (o, out) = compile(dir.path(), &patches, &[]);
    assert_refused(&o, &out, "not a regular file");

    let inspect = kbc(&["inspect", fifo.to_str().unwrap()]);
    assert_eq!(inspect.status.code(), Some(1));
}

/// B21: a JSON-patch copy bomb stops at the size limit instead of filling memory.
#[test]
fn a_json_patch_copy_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut ops = vec![
        serde_json::json!({"op": "add", "path": "/metadata/annotations", "value": {"x": "y".repeat(1000)}}),
    ];
    for i in 0..40 {
        ops.push(serde_json::json!({"op": "copy", "from": "/metadata/annotations", "path": format!("/metadata/annotations/a{i}")}));
    }
    let patches = patch_dir(
        dir.path(),
        &[(
            "kube-scheduler+json.json",
            serde_json::to_string(&ops).unwrap(),
        )],
    );
    let secrets = fixture("secrets/test-secrets.yaml");
    let (o, out) = compile(dir.path(), &patches, &["--secrets", &secrets]);
    assert_refused(&o, &out, "would make the document larger than 4 MiB");

    let many: Vec<_> = (0..1001)
        .map(|i| serde_json::json!({"op": "add", "path": format!("/metadata/labels/l{i}"), "value": "v"}))
        .collect();
    let patches = patch_dir(
        dir.path(),
        &[(
            "kube-scheduler+json.json",
            serde_json::to_string(&many).unwrap(),
        )],
    );
    let (o, out) = compile(dir.path(), &patches, &["--secrets", &secrets]);
    assert_refused(&o, &out, "kbc takes at most 1000 in one patch");
}

/// The patch files of one directory are bounded in sum, not only one by one.
#[test]
fn a_patch_directory_over_its_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!(
        "metadata:\n  annotations:\n    a: \"{}\"\n",
        "x".repeat(1000 << 10)
    );
    let files: Vec<(String, String)> = (0..9)
        .map(|i| (format!("kube-scheduler{i}.yaml"), big.clone()))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let patches = patch_dir(dir.path(), &files);
    let (o, out) = compile(dir.path(), &patches, &[]);
    assert_refused(&o, &out, "add up to more than 8 MiB");
}

/// B28: a kubelet patch cannot turn config.yaml into another kind, null or a list.
#[test]
fn a_kubelet_patch_cannot_change_the_kind() {
    let cases = [
        (
            "kubeletconfiguration+merge.yaml",
            "apiVersion: v1\nkind: Secret\n",
        ),
        (
            "kubeletconfiguration+json.json",
            r#"[{"op": "replace", "path": "", "value": null}]"#,
        ),
        (
            "kubeletconfiguration+json.json",
            r#"[{"op": "replace", "path": "", "value": [1]}]"#,
        ),
    ];
    for (name, text) in cases {
        let dir = tempfile::tempdir().unwrap();
        let patches = patch_dir(dir.path(), &[(name, text.to_string())]);
        let (o, out) = compile(dir.path(), &patches, &[]);
        assert_refused(&o, &out, "is not a valid KubeletConfiguration");
    }
}

/// C28 for compile: the temporary file a killed compile left is removed by the next one.
#[test]
fn a_killed_compiles_temp_file_is_swept_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".out.tgz.kbc-tmp-4242-0");
    std::fs::write(&stale, b"a whole bundle, keys included").unwrap();
    let secrets = fixture("secrets/test-secrets.yaml");
    let (o, out) = compile(
        dir.path(),
        &fixture("feature-gates.yaml"),
        &["--secrets", &secrets],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.exists());
    assert!(!stale.exists(), "the stale temporary file is still there");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.tgz")]);
}

fn openssl(args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A self-signed CA made by openssl in `dir` as `name.crt`/`name.key`.
fn openssl_ca(dir: &Path, name: &str, bits: &str, ext: &[&str]) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let mut args = vec![
        "req",
        "-x509",
        "-new",
        "-newkey",
        bits,
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=test-ca",
    ];
    args.extend_from_slice(&[
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        crt.to_str().unwrap(),
    ]);
    for e in ext {
        args.extend_from_slice(&["-addext", e]);
    }
    openssl(&args);
}

/// B13, B15, B16: CAs and keys that cannot work are refused, as the TLS clients would
/// refuse what they sign (kubeadm accepts them).
#[test]
fn cas_and_keys_that_cannot_work_are_refused() {
    let ca = "basicConstraints=critical,CA:TRUE";
    let cases: [(&str, &[&str], &str); 2] = [
        (
            "rsa:1024",
            &[
                ca,
                "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
            ],
            "the RSA key has 1024 bits",
        ),
        (
            "rsa:2048",
            &[ca, "keyUsage=critical,digitalSignature,keyEncipherment"],
            "does not include keyCertSign",
        ),
    ];
    for (bits, ext, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        std::fs::create_dir(&pki).unwrap();
        openssl_ca(&pki, "ca", bits, ext);
        let (o, out) = compile(
            dir.path(),
            &fixture("feature-gates.yaml"),
            &["--pki-dir", pki.to_str().unwrap()],
        );
        assert_refused(&o, &out, needle);
    }

    // An intermediate CA under a root with pathlen:0, given as the chain in ca.crt.
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    let usage = "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign";
    openssl_ca(
        dir.path(),
        "root",
        "rsa:2048",
        &["basicConstraints=critical,CA:TRUE,pathlen:0", usage],
    );
    let p = |n: &str| dir.path().join(n).display().to_string();
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=intermediate",
        "-keyout",
        &p("pki/ca.key"),
        "-out",
        &p("ca.csr"),
    ]);
    std::fs::write(
        dir.path().join("ext.cnf"),
        format!("basicConstraints=critical,CA:TRUE\n{usage}\n"),
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("ca.csr"),
        "-CA",
        &p("root.crt"),
        "-CAkey",
        &p("root.key"),
        "-CAcreateserial",
        "-days",
        "365",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("int.crt"),
    ]);
    let chain = std::fs::read_to_string(p("int.crt")).unwrap()
        + &std::fs::read_to_string(p("root.crt")).unwrap();
    std::fs::write(pki.join("ca.crt"), chain).unwrap();
    let (o, out) = compile(
        dir.path(),
        &fixture("feature-gates.yaml"),
        &["--pki-dir", pki.to_str().unwrap()],
    );
    assert_refused(&o, &out, "the path length constraint is exceeded");
}

/// E8: `secrets generate --force` replaces a symbolic link at the output, never writes
/// through it; without --force a link (even a dangling one) is an existing file.
#[test]
fn secrets_generate_never_writes_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.txt");
    std::fs::write(&target, b"not yours").unwrap();
    let link = dir.path().join("secrets.yaml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = kbc(&["secrets", "generate", "-o", link.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = kbc(&[
        "secrets",
        "generate",
        "--force",
        "-o",
        link.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&target).unwrap(), b"not yours");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was not replaced by a file"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dangling = dir.path().join("dangling.yaml");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let o = kbc(&["secrets", "generate", "-o", dangling.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("nowhere").exists());
}

/// B14: a passphrase-protected key gets a message that says so.
#[test]
fn an_encrypted_key_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    let usage = "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign";
    openssl_ca(
        &pki,
        "plain",
        "rsa:2048",
        &["basicConstraints=critical,CA:TRUE", usage],
    );
    std::fs::rename(pki.join("plain.crt"), pki.join("ca.crt")).unwrap();
    let p = |n: &str| pki.join(n).display().to_string();
    openssl(&[
        "pkey",
        "-in",
        &p("plain.key"),
        "-aes256",
        "-passout",
        "pass:x",
        "-out",
        &p("ca.key"),
    ]);
    std::fs::remove_file(pki.join("plain.key")).unwrap();
    let (o, out) = compile(
        dir.path(),
        &fixture("feature-gates.yaml"),
        &["--pki-dir", pki.to_str().unwrap()],
    );
    assert_refused(&o, &out, "the private key is encrypted");
}

/// Issue 8: with external etcd, upload-certs uploads the files etcd.external names; they come
/// from the secrets file, are installed at those paths, and their absence is a clear error.
#[test]
fn external_etcd_client_files_come_from_the_secrets_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture("external-etcd.yaml");
    let bare = dir.path().join("seed-only.yaml");
    std::fs::write(&bare, "version: kbc.secrets/v1\nseed: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").unwrap();
    let (o, out) = compile(
        dir.path(),
        &config,
        &["--secrets", bare.to_str().unwrap(), "--upload-certs"],
    );
    assert_refused(&o, &out, "upload-certs with external etcd uploads the files etcd.external names (/etc/etcd/pki/ca.crt, /etc/etcd/pki/apiserver-etcd-client.crt, /etc/etcd/pki/apiserver-etcd-client.key)");
    // Without upload-certs the node has the files itself: nothing to ship.
    let (o, out) = compile(dir.path(), &config, &["--secrets", bare.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    assert!(!bundle
        .files
        .iter()
        .any(|f| f.path.starts_with("rootfs/etc/etcd/")));
    std::fs::remove_file(&out).unwrap();

    let secrets = fixture("secrets/test-secrets.yaml");
    let (o, out) = compile(
        dir.path(),
        &config,
        &["--secrets", &secrets, "--upload-certs"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = kbc_bundle::verify(&std::fs::read(&out).unwrap(), None).unwrap();
    let file = |p: &str| {
        bundle
            .files
            .iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    assert_eq!(file("rootfs/etc/etcd/pki/ca.crt").mode, 0o644);
    assert_eq!(
        file("rootfs/etc/etcd/pki/apiserver-etcd-client.crt").mode,
        0o644
    );
    let key = file("rootfs/etc/etcd/pki/apiserver-etcd-client.key");
    assert_eq!((key.mode, key.secret), (0o600, true));
    let upload = String::from_utf8(file("api/30-upload-certs.yaml").data.clone()).unwrap();
    for k in [
        "external-etcd-ca.crt",
        "external-etcd.crt",
        "external-etcd.key",
    ] {
        let line = upload
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{k}:")))
            .unwrap();
        assert!(
            line.trim_end().len() > k.len() + 10,
            "{k} uploaded empty: {line}"
        );
    }
}

/// Issue times X.509 cannot encode are input errors (exit 1, nothing written), never a panic
/// inside certificate signing: before 1950 (NotBefore is 5 minutes earlier), a negative
/// `SOURCE_DATE_EPOCH` that far back, one outside the calendar, and a validity period that
/// ends after year 9999.
#[test]
fn issue_times_outside_what_x509_encodes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let single = fixture("single-node.yaml");
    let secrets = fixture("secrets/test-secrets.yaml");
    let out = dir.path().join("out.tgz");
    let run = |env: Option<&str>, extra: &[&str]| {
        let mut args = vec!["compile", single.as_str(), "--secrets", secrets.as_str()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-o", out.to_str().unwrap()]);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbc"));
        cmd.args(&args);
        if let Some(v) = env {
            cmd.env("SOURCE_DATE_EPOCH", v);
        }
        cmd.output().unwrap()
    };
    let too_early = "is too early: certificates start 5 minutes before it";
    for (env, extra, needle) in [
        (None, vec!["--issued-at", "0000-01-01T00:00:00Z"], too_early),
        (None, vec!["--issued-at", "1950-01-01T00:04:59Z"], too_early),
        (Some("-100000000000"), vec![], too_early),
        (Some("-99999999999999999"), vec![], "outside the calendar"),
        (
            Some("12x"),
            vec![],
            "SOURCE_DATE_EPOCH=\"12x\" is not a number",
        ),
        (
            None,
            vec!["--issued-at", "9999-06-01T00:00:00Z"],
            "is after 9999-12-31T23:59:59Z",
        ),
    ] {
        let o = run(env, &extra);
        assert_refused(&o, &out, needle);
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    }
    // The edges themselves are fine: the earliest issue time, and a 1969 one.
    let o = run(None, &["--issued-at", "1950-01-01T00:05:00Z"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_file(&out).unwrap();
    let o = run(Some("-1"), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
