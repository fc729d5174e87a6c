//! Joining more nodes and upload-certs: `join/commands.txt` byte for byte, the native worker
//! join script run for real with `sh` (under `KBC_ROOT`) and checked by `shellcheck`, and the
//! `kubeadm-certs` objects decrypted back, as `kubeadm join --control-plane` would.
//!
//! Needs `openssl`, `kubectl` and `shellcheck` (installed by `tests/setup.sh`); a missing tool
//! fails the test, it never skips it.

use kbc::config::{self, LoadOptions, Source};
use kbc::render::join::{self, JoinCommandsInput, JoinInput};
use kbc::render::upload_certs::{self, UploadCertsError, UploadToken};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HASH: &str = "sha256:9c8b6f5d4e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c";
const TOKEN: &str = "abcdef.0123456789abcdef";
const KEY_HEX: &str = "4b1e5a0e3f6c2d9b8a7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a291";

// ---------------------------------------------------------------------------------------------
// commands.txt

#[test]
fn commands_with_upload_certs_are_kubeadms_text() {
    let text = join::join_commands("cp.example.com:6443", TOKEN, HASH, Some(KEY_HEX));
    let expected = format!(
        "You can now join any number of the control-plane node running the following command on each as root:\n\
         \n\
         \x20 kubeadm join cp.example.com:6443 --token {TOKEN} \\\n\
         \t--discovery-token-ca-cert-hash {HASH} \\\n\
         \t--control-plane --certificate-key {KEY_HEX}\n\
         \n\
         Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n\
         As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n\
         \"kubeadm init phase upload-certs --upload-certs\" to reload certs afterward.\n\
         \n\
         Then you can join any number of worker nodes by running the following on each as root:\n\
         \n\
         kubeadm join cp.example.com:6443 --token {TOKEN} \\\n\
         \t--discovery-token-ca-cert-hash {HASH} \n"
    );
    assert_eq!(text, expected);
}

#[test]
fn commands_without_upload_certs_ask_to_copy_the_cas() {
    let text = join::join_commands("cp.example.com:6443", TOKEN, HASH, None);
    let expected = format!(
        "You can now join any number of control-plane nodes by copying certificate authorities\n\
         and service account keys on each node and then running the following as root:\n\
         \n\
         \x20 kubeadm join cp.example.com:6443 --token {TOKEN} \\\n\
         \t--discovery-token-ca-cert-hash {HASH} \\\n\
         \t--control-plane \n\
         \n\
         Then you can join any number of worker nodes by running the following on each as root:\n\
         \n\
         kubeadm join cp.example.com:6443 --token {TOKEN} \\\n\
         \t--discovery-token-ca-cert-hash {HASH} \n"
    );
    assert_eq!(text, expected);
}

#[test]
fn commands_without_control_plane_endpoint_show_only_the_worker() {
    let text = join::render_join_commands(&JoinCommandsInput {
        endpoint: "https://[fd00::10]:6443",
        token: TOKEN,
        ca_hashes: &[HASH, "sha256:00"],
        certificate_key: Some(KEY_HEX),
        control_plane_endpoint: false,
    });
    assert_eq!(
        text,
        format!(
            "Then you can join any number of worker nodes by running the following on each as root:\n\
             \n\
             kubeadm join [fd00::10]:6443 --token {TOKEN} \\\n\
             \t--discovery-token-ca-cert-hash {HASH} --discovery-token-ca-cert-hash sha256:00 \n"
        )
    );
}

#[test]
fn single_commands_match_kubeadms_template() {
    assert_eq!(
        join::worker_join_command("10.0.0.10:6443", "<value withheld>", &[HASH]),
        format!(
            "kubeadm join 10.0.0.10:6443 --token <value withheld> \\\n\t--discovery-token-ca-cert-hash {HASH} "
        ),
        "kubeadm passes the withheld marker as template.HTML"
    );
    assert_eq!(
        join::control_plane_join_command("10.0.0.10:6443", TOKEN, &[HASH], None),
        format!(
            "kubeadm join 10.0.0.10:6443 --token {TOKEN} \\\n\t--discovery-token-ca-cert-hash {HASH} \\\n\t--control-plane "
        )
    );
}

/// The worker command is a shell command: with the line continuation it parses to the flags
/// kubeadm expects.
#[test]
fn worker_command_is_one_shell_command() {
    let cmd = join::worker_join_command("10.0.0.10:6443", TOKEN, &[HASH]);
    let out = Command::new("sh")
        .args([
            "-c",
            &format!(
                "set -- {}\nprintf '%s\\n' \"$@\"",
                cmd.trim_start_matches("kubeadm join ")
            ),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("10.0.0.10:6443\n--token\n{TOKEN}\n--discovery-token-ca-cert-hash\n{HASH}\n")
    );
}

// ---------------------------------------------------------------------------------------------
// join-worker.sh

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} (is it installed? run tests/setup.sh): {e}")
    });
    out
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A real self-signed CA from openssl.
fn ca_pem(dir: &Path) -> String {
    let key = dir.join("ca.key");
    let crt = dir.join("ca.crt");
    let out = run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=kubernetes",
        "-days",
        "1",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        crt.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read_to_string(crt).unwrap()
}

const KUBELET_CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\nkind: KubeletConfiguration\nrotateCertificates: true\n";
const FLAGS_ENV: &str = "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n";

fn input(ca: &str) -> JoinInput {
    JoinInput {
        server: "https://cp.example.com:6443".into(),
        ca_cert_pem: ca.into(),
        token: TOKEN.into(),
        kubelet_config_yaml: KUBELET_CONFIG.into(),
        kubeadm_flags_env: FLAGS_ENV.into(),
    }
}

struct Sandbox {
    _dir: tempfile::TempDir,
    script: PathBuf,
    root: PathBuf,
    bin: PathBuf,
}

fn sandbox(input: &JoinInput) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("join-worker.sh");
    std::fs::write(&script, join::join_worker_script(input)).unwrap();
    let root = dir.path().join("root");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&bin).unwrap();
    Sandbox {
        _dir: dir,
        script,
        root,
        bin,
    }
}

fn join_cmd(sb: &Sandbox) -> Command {
    let mut c = Command::new("sh");
    c.arg(&sb.script)
        .env("KBC_ROOT", &sb.root)
        .env_remove("KBC_SKIP_SYSTEMCTL")
        .env_remove("KBC_TLS_BOOTSTRAP_TIMEOUT");
    c
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// (path, mode, content) of every file the script installs.
fn expected_files(input: &JoinInput) -> Vec<(&'static str, u32, String)> {
    vec![
        (
            "etc/kubernetes/pki/ca.crt",
            0o644,
            input.ca_cert_pem.clone(),
        ),
        (
            "etc/kubernetes/bootstrap-kubelet.conf",
            0o600,
            join::bootstrap_kubelet_conf(&input.server, &input.ca_cert_pem, &input.token),
        ),
        (
            "var/lib/kubelet/config.yaml",
            0o644,
            input.kubelet_config_yaml.clone(),
        ),
        (
            "var/lib/kubelet/kubeadm-flags.env",
            0o644,
            input.kubeadm_flags_env.clone(),
        ),
    ]
}

/// Every regular file under `root` with its inode, mtime and mode.
fn tree(root: &Path) -> BTreeMap<PathBuf, (u64, i64, i64, u32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.insert(
                p.strip_prefix(root).unwrap().to_path_buf(),
                (m.ino(), m.mtime(), m.mtime_nsec(), m.mode() & 0o7777),
            );
        }
    }
    out
}

#[test]
fn bootstrap_kubeconfig_has_kubeadms_shape() {
    let conf = join::bootstrap_kubelet_conf("https://10.0.0.10:6443", "PEM\n", TOKEN);
    assert_eq!(
        conf,
        format!(
            "apiVersion: v1\n\
             clusters:\n\
             - cluster:\n    certificate-authority-data: UEVNCg==\n    server: https://10.0.0.10:6443\n  name: kubernetes\n\
             contexts:\n\
             - context:\n    cluster: kubernetes\n    user: tls-bootstrap-token-user\n  name: tls-bootstrap-token-user@kubernetes\n\
             current-context: tls-bootstrap-token-user@kubernetes\n\
             kind: Config\n\
             preferences: {{}}\n\
             users:\n\
             - name: tls-bootstrap-token-user\n  user:\n    token: {TOKEN}\n"
        )
    );
}

#[test]
fn worker_script_passes_sh_n_and_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_pem(dir.path());
    // Also the printf path: contents without a final newline, with quotes and a line that
    // looks like the here-document delimiter.
    let mut odd = input(&ca);
    odd.kubelet_config_yaml = "a: 'b'\nKBC_EOF\nc: \"$HOME\" `x`".into();
    odd.kubeadm_flags_env = "KBC_EOF\n".into();
    for (name, inp) in [("plain", input(&ca)), ("odd", odd)] {
        let script = dir.path().join(format!("{name}.sh"));
        std::fs::write(&script, join::join_worker_script(&inp)).unwrap();
        let out = run(Command::new("sh").arg("-n").arg(&script));
        assert!(out.status.success(), "sh -n {name}: {}", text(&out));
        let out = run(Command::new("shellcheck").args(["-s", "sh"]).arg(&script));
        assert!(out.status.success(), "shellcheck {name}: {}", text(&out));
    }
}

#[test]
fn worker_script_installs_every_file_then_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inp = input(&ca_pem(dir.path()));
    let sb = sandbox(&inp);

    let out = run(&mut join_cmd(&sb));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("[kbc-join] 4 file(s) written"), "{stdout}");
    assert!(stdout.contains("not restarting the kubelet"), "{stdout}");
    for (path, want_mode, content) in expected_files(&inp) {
        let p = sb.root.join(path);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), content, "{path}");
        assert_eq!(mode(&p), want_mode, "{path}: mode {:o}", mode(&p));
    }
    assert_eq!(mode(&sb.root.join("var/lib/kubelet")), 0o700);
    assert_eq!(mode(&sb.root.join("etc/kubernetes/pki")), 0o755);
    assert_eq!(mode(&sb.root.join("etc/kubernetes")), 0o755);
    let before = tree(&sb.root);
    assert!(
        !before
            .keys()
            .any(|p| p.to_string_lossy().contains("kbc-tmp")),
        "no temporary file left: {before:?}"
    );

    // kubectl reads the bootstrap kubeconfig and sees kubeadm's names.
    let conf = sb.root.join("etc/kubernetes/bootstrap-kubelet.conf");
    let out = run(Command::new("kubectl").args([
        "config",
        "view",
        "--raw",
        "--kubeconfig",
        conf.to_str().unwrap(),
        "-o",
        "jsonpath={.current-context} {.clusters[0].cluster.server} {.users[0].user.token}",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("tls-bootstrap-token-user@kubernetes https://cp.example.com:6443 {TOKEN}")
    );

    // Second run: success, nothing rewritten (same inodes, mtimes and modes).
    let out = run(&mut join_cmd(&sb));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("[kbc-join] 0 file(s) written"), "{stdout}");
    assert_eq!(tree(&sb.root), before);

    // A changed file is put back, atomically (new inode), and only that one.
    let flags = sb.root.join("var/lib/kubelet/kubeadm-flags.env");
    std::fs::write(&flags, "KUBELET_KUBEADM_ARGS=\"\"\n").unwrap();
    let out = run(&mut join_cmd(&sb));
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[kbc-join] 1 file(s) written"));
    assert_eq!(std::fs::read_to_string(&flags).unwrap(), FLAGS_ENV);

    // Once the kubelet has joined (kubelet.conf exists) the script says so and does nothing.
    std::fs::write(sb.root.join("etc/kubernetes/kubelet.conf"), "x").unwrap();
    std::fs::remove_file(&flags).unwrap();
    let out = run(&mut join_cmd(&sb));
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already joined"));
    assert!(!flags.exists());
}

#[test]
fn worker_script_refuses_another_clusters_ca_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inp = input(&ca_pem(dir.path()));
    let sb = sandbox(&inp);
    let pki = sb.root.join("etc/kubernetes/pki");
    std::fs::create_dir_all(&pki).unwrap();
    std::fs::write(pki.join("ca.crt"), "another CA\n").unwrap();
    let out = run(&mut join_cmd(&sb));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not this cluster's CA"));
    assert_eq!(
        tree(&sb.root).len(),
        4,
        "only etc, etc/kubernetes, pki and ca.crt exist"
    );
    assert_eq!(
        std::fs::read_to_string(pki.join("ca.crt")).unwrap(),
        "another CA\n"
    );
}

/// A stand-in for systemctl that records its arguments and, on `restart kubelet`, does what
/// the kubelet's TLS bootstrap does to the file system (when `BOOTSTRAP=1`).
fn fake_systemctl(sb: &Sandbox) {
    let p = sb.bin.join("systemctl");
    std::fs::write(
        &p,
        "#!/bin/sh\necho \"$*\" >>\"$KBC_ROOT/systemctl.log\"\n\
         if [ \"$*\" = 'restart kubelet' ] && [ \"${BOOTSTRAP:-}\" = 1 ]; then\n\
         \tmkdir -p \"$KBC_ROOT/var/lib/kubelet/pki\"\n\
         \techo pem >\"$KBC_ROOT/var/lib/kubelet/pki/kubelet-client-current.pem\"\n\
         \techo conf >\"$KBC_ROOT/etc/kubernetes/kubelet.conf\"\n\
         fi\n",
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn with_fake_path(sb: &Sandbox, c: &mut Command) {
    let path = std::env::var("PATH").unwrap_or_default();
    c.env("PATH", format!("{}:{path}", sb.bin.display()))
        .env("KBC_SKIP_SYSTEMCTL", "0");
}

#[test]
fn worker_script_restarts_the_kubelet_and_removes_the_bootstrap_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(&input(&ca_pem(dir.path())));
    fake_systemctl(&sb);
    let mut c = join_cmd(&sb);
    with_fake_path(&sb, &mut c);
    c.env("BOOTSTRAP", "1");
    let out = run(&mut c);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(sb.root.join("systemctl.log")).unwrap(),
        "daemon-reload\nrestart kubelet\n"
    );
    assert!(sb.root.join("etc/kubernetes/kubelet.conf").exists());
    assert!(
        !sb.root
            .join("etc/kubernetes/bootstrap-kubelet.conf")
            .exists(),
        "kubeadm deletes the bootstrap credential after the TLS bootstrap"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("has joined the cluster"));
}

#[test]
fn worker_script_fails_with_2_when_the_tls_bootstrap_does_not_finish() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(&input(&ca_pem(dir.path())));
    fake_systemctl(&sb);
    let mut c = join_cmd(&sb);
    with_fake_path(&sb, &mut c);
    c.env("KBC_TLS_BOOTSTRAP_TIMEOUT", "1");
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("journalctl -xeu kubelet"));
    assert!(sb
        .root
        .join("etc/kubernetes/bootstrap-kubelet.conf")
        .exists());
}

#[test]
fn worker_script_snapshot() {
    let script = join::join_worker_script(&input(
        "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
    ));
    insta::assert_snapshot!("join_worker_sh", script);
}

// ---------------------------------------------------------------------------------------------
// upload-certs

fn key() -> [u8; 32] {
    kbc::config::validate::decode_certificate_key(KEY_HEX).unwrap()
}

fn proxy_token() -> UploadToken {
    UploadToken::parse("u7v8w9.a1b2c3d4e5f6g7h8").unwrap()
}

fn sample_files(external: bool) -> Vec<(String, Vec<u8>)> {
    upload_certs::transfer_keys(external)
        .iter()
        .map(|k| {
            (
                k.to_string(),
                format!("-----BEGIN X-----\ncontent of {k}\n-----END X-----\n").into_bytes(),
            )
        })
        .collect()
}

fn data_of(objects: &upload_certs::ApiObjects) -> BTreeMap<String, Vec<u8>> {
    use base64::Engine as _;
    let certs = &objects.objects[1];
    assert_eq!(certs["metadata"]["name"], "kubeadm-certs");
    certs["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let b = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap())
                .unwrap();
            (k.clone(), b)
        })
        .collect()
}

#[test]
fn every_file_decrypts_back_local_and_external_etcd() {
    for external in [false, true] {
        let files = sample_files(external);
        let objs =
            upload_certs::upload_certs_objects(external, &key(), &files, &proxy_token()).unwrap();
        let data = data_of(&objs);
        assert_eq!(data.keys().cloned().collect::<Vec<_>>(), {
            let mut k: Vec<String> = upload_certs::transfer_keys(external)
                .iter()
                .map(|s| s.to_string())
                .collect();
            k.sort();
            k
        });
        assert_eq!(
            data.len(),
            if external { 9 } else { 8 },
            "the upload-certs data keys (`copycerts.go`)"
        );
        for (k, plain) in &files {
            let blob = &data[k];
            assert_eq!(
                blob.len(),
                12 + plain.len() + 16,
                "nonce ‖ ciphertext ‖ tag"
            );
            assert_eq!(&upload_certs::decrypt(&key(), blob).unwrap(), plain, "{k}");
        }
    }
}

#[test]
fn nonces_differ_per_file_and_outputs_are_reproducible() {
    let files = sample_files(false);
    let a = upload_certs::upload_certs_objects(false, &key(), &files, &proxy_token()).unwrap();
    let b = upload_certs::upload_certs_objects(false, &key(), &files, &proxy_token()).unwrap();
    assert_eq!(a.to_yaml(), b.to_yaml(), "same inputs, same bytes");
    let nonces: std::collections::BTreeSet<Vec<u8>> =
        data_of(&a).values().map(|b| b[..12].to_vec()).collect();
    assert_eq!(nonces.len(), files.len(), "one distinct nonce per file");

    // The same plaintext under two data keys gets two nonces; a changed plaintext a new one.
    let same = b"same bytes".to_vec();
    let two = vec![
        ("ca.crt".to_string(), same.clone()),
        ("sa.pub".to_string(), same.clone()),
    ];
    let d =
        data_of(&upload_certs::upload_certs_objects(false, &key(), &two, &proxy_token()).unwrap());
    assert_ne!(d["ca.crt"][..12], d["sa.pub"][..12]);
    assert_ne!(
        upload_certs::nonce(&key(), "ca.crt", b"v1"),
        upload_certs::nonce(&key(), "ca.crt", b"v2")
    );
    // The documented rule, recomputed independently with openssl.
    let msg_file = tempfile::NamedTempFile::new().unwrap();
    let mut msg = b"kbc/v1/upload-certs/nonce\0ca.crt\0".to_vec();
    msg.extend_from_slice(b"v1");
    std::fs::write(msg_file.path(), &msg).unwrap();
    let out = run(Command::new("openssl").args([
        "dgst",
        "-sha256",
        "-mac",
        "HMAC",
        "-macopt",
        &format!("hexkey:{KEY_HEX}"),
        "-r",
        msg_file.path().to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let hex: String = upload_certs::nonce(&key(), "ca.crt", b"v1")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&hex),
        "{}",
        text(&out)
    );
}

/// AES-256-GCM known answers (McGrew & Viega, "The Galois/Counter Mode of Operation", test
/// cases 14 and 15: 96-bit IV, no additional data), laid out as kubeadm stores them
/// (`gcm.Seal(nonce, nonce, data, nil)`): whatever kubeadm's Go code sealed, `decrypt` opens.
#[test]
fn decrypt_opens_go_layout_known_answers() {
    fn h(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    let cases = [
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "000000000000000000000000",
            "00000000000000000000000000000000",
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919",
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c",
        ),
    ];
    for (k, iv, p, c, t) in cases {
        let key: [u8; 32] = h(k).try_into().unwrap();
        let blob = [h(iv), h(c), h(t)].concat();
        assert_eq!(upload_certs::decrypt(&key, &blob).unwrap(), h(p));
        let mut bad = blob.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            upload_certs::decrypt(&key, &bad),
            Err(UploadCertsError::Decrypt)
        );
    }
    assert_eq!(
        upload_certs::decrypt(&key(), &[0; 5]),
        Err(UploadCertsError::TooShort(5))
    );
    let other = [7u8; 32];
    let blob = upload_certs::encrypt(&key(), "ca.key", b"secret");
    assert_eq!(
        upload_certs::decrypt(&other, &blob),
        Err(UploadCertsError::Decrypt)
    );
}

#[test]
fn missing_files_are_empty_and_unknown_keys_are_refused() {
    let files = vec![
        ("ca.crt".to_string(), b"pem".to_vec()),
        ("ca.key".to_string(), Vec::new()),
    ];
    let objs = upload_certs::upload_certs_objects(true, &key(), &files, &proxy_token()).unwrap();
    let data = data_of(&objs);
    assert!(
        data["external-etcd.key"].is_empty(),
        "kubeadm stores a missing file as empty"
    );
    assert_eq!(
        data["ca.key"].len(),
        28,
        "an existing empty file is encrypted"
    );
    assert_eq!(upload_certs::decrypt(&key(), &data["ca.key"]).unwrap(), b"");

    let err = upload_certs::upload_certs_objects(
        true,
        &key(),
        &[("etcd-ca.crt".into(), vec![])],
        &proxy_token(),
    )
    .unwrap_err();
    assert!(
        matches!(err, UploadCertsError::UnknownDataKey { .. }),
        "{err}"
    );
    let dup = vec![
        ("ca.crt".to_string(), vec![]),
        ("ca.crt".to_string(), vec![]),
    ];
    assert_eq!(
        upload_certs::upload_certs_objects(false, &key(), &dup, &proxy_token()).unwrap_err(),
        UploadCertsError::DuplicateDataKey("ca.crt".into())
    );
}

#[test]
fn objects_follow_kubeadm_and_leave_uid_and_expiration_to_the_applier() {
    let token = proxy_token();
    let objs =
        upload_certs::upload_certs_objects(false, &key(), &sample_files(false), &token).unwrap();
    let kinds: Vec<String> = objs
        .objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Secret/bootstrap-token-u7v8w9",
            "Secret/kubeadm-certs",
            "Role/kubeadm:kubeadm-certs",
            "RoleBinding/kubeadm:kubeadm-certs"
        ]
    );
    let t = &objs.objects[0];
    assert_eq!(t["type"], "bootstrap.kubernetes.io/token");
    let keys: Vec<&String> = t["data"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["description", "token-id", "token-secret"],
        "no usages, groups or expiration"
    );
    let owner = &objs.objects[1]["metadata"]["ownerReferences"];
    assert_eq!(owner.as_array().unwrap().len(), 1);
    assert_eq!(owner[0]["name"], "bootstrap-token-u7v8w9");
    assert_eq!(owner[0]["controller"], true);
    assert_eq!(owner[0]["blockOwnerDeletion"], true);
    assert_eq!(
        owner[0]["uid"],
        "kbc:uid-of:kube-system/bootstrap-token-u7v8w9"
    );
    assert!(
        objs.objects[1].get("type").is_none(),
        "kubeadm sets no type; the API server says Opaque"
    );
    assert_eq!(objs.owner_uids.len(), 1);
    assert_eq!(objs.owner_uids[0].placeholder, owner[0]["uid"]);
    assert_eq!(
        objs.owner_uids[0].owner,
        "kube-system/bootstrap-token-u7v8w9"
    );
    assert_eq!(objs.tokens[0].secret_name, "bootstrap-token-u7v8w9");
    assert_eq!(objs.tokens[0].ttl_seconds, 7200);
    assert!(objs.secret);
    let debug = format!("{objs:?}");
    assert!(
        !debug.contains("YTFiMmMzZDRlNWY2ZzdoOA") && !debug.contains("a1b2c3d4e5f6g7h8"),
        "Debug leaks no token: {debug}"
    );

    insta::assert_snapshot!("upload_certs_yaml", objs.to_yaml());
}

/// The YAML text itself carries the data: parsed back with kbc's reader and decrypted.
#[test]
fn yaml_reads_back_and_decrypts() {
    use base64::Engine as _;
    let files = sample_files(false);
    let yaml = upload_certs::upload_certs_objects(false, &key(), &files, &proxy_token())
        .unwrap()
        .to_yaml();
    let docs = kbc::yaml::node::split_documents(&yaml).unwrap();
    assert_eq!(docs.len(), 4);
    let (node, _) = kbc::yaml::node::parse_document(&docs[1]).unwrap();
    let node = node.unwrap();
    let data = node.get("data").unwrap();
    for (k, plain) in &files {
        let v = data
            .value
            .get(k)
            .unwrap()
            .value
            .as_str()
            .unwrap()
            .to_string();
        let blob = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
        assert_eq!(&upload_certs::decrypt(&key(), &blob).unwrap(), plain);
    }
}

/// `upload_certs_file` reads the etcd mode from a validated config.
#[test]
fn upload_certs_file_follows_the_etcd_mode_of_the_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for (fixture, external) in [("single-node.yaml", false), ("external-etcd.yaml", true)] {
        let path = root.join("fixtures").join(fixture);
        let src = Source {
            name: format!("fixtures/{fixture}"),
            text: std::fs::read_to_string(&path).unwrap(),
        };
        let cluster = config::load(&src, &LoadOptions::default())
            .unwrap_or_else(|r| panic!("{fixture}: {r}"))
            .cluster;
        let objs = upload_certs::upload_certs_file(
            &cluster,
            &key(),
            &sample_files(external),
            &proxy_token(),
        )
        .unwrap();
        assert_eq!(
            data_of(&objs).len(),
            if external { 9 } else { 8 },
            "{fixture}"
        );
    }
}

/// The four objects validate strictly against the Kubernetes 1.31 schemas
/// (`kubernetes-validate`, installed by `tests/setup.sh`; a missing tool fails the test).
#[test]
fn upload_certs_objects_validate_strictly_against_kubernetes_1_31() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for external in [false, true] {
        let objs = upload_certs::upload_certs_objects(
            external,
            &key(),
            &sample_files(external),
            &proxy_token(),
        )
        .unwrap();
        for (i, o) in objs.objects.iter().enumerate() {
            let p = dir.path().join(format!("{external}-{i}.yaml"));
            std::fs::write(&p, kbc::yaml::ser::value_to_yaml(o)).unwrap();
            paths.push(p);
        }
    }
    crate::common::kubernetes_validate(&paths);
}

/// Contents that need the `printf` form (no final newline, quotes, `$`, backquotes) or a
/// longer here-document delimiter are installed byte for byte.
#[test]
fn worker_script_installs_awkward_contents_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut inp = input(&ca_pem(dir.path()));
    inp.kubelet_config_yaml = "a: 'b'\nKBC_EOF\nc: \"$HOME\" `x` \\n".into();
    inp.kubeadm_flags_env = "KBC_EOF\nKBC_EOF_\n".into();
    let sb = sandbox(&inp);
    let out = run(&mut join_cmd(&sb));
    assert!(out.status.success(), "{}", text(&out));
    for (path, _, content) in expected_files(&inp) {
        assert_eq!(
            std::fs::read_to_string(sb.root.join(path)).unwrap(),
            content,
            "{path}"
        );
    }
}

/// The pin in the join commands, from kbc's PKI code, is what the usual openssl pipeline
/// gives (`openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum`).
#[test]
fn discovery_hash_in_commands_matches_openssl() {
    let dir = tempfile::tempdir().unwrap();
    ca_pem(dir.path());
    let crt = dir.path().join("ca.crt");
    let der = run(Command::new("openssl")
        .args(["x509", "-outform", "der", "-in"])
        .arg(&crt));
    assert!(der.status.success(), "{}", text(&der));
    let pin = kbc::pki::spki_sha256_pin(&der.stdout).unwrap();
    let text_out = join::join_commands("10.0.0.10:6443", TOKEN, &pin, None);
    let shown: Vec<&str> = text_out
        .split_whitespace()
        .filter(|w| w.starts_with("sha256:"))
        .collect();
    let out = run(Command::new("sh").arg("-c").arg(format!(
        "openssl x509 -pubkey -noout -in '{}' | openssl pkey -pubin -outform der | sha256sum",
        crt.display()
    )));
    assert!(out.status.success(), "{}", text(&out));
    let hex = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(shown, [format!("sha256:{hex}"), format!("sha256:{hex}")]);
}
