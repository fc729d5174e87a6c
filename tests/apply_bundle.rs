//! kbc-apply's host-side half (issue 5, first part) against the bundle format (`bundle/src/lib.rs`):
//! `verify`, `install`, `reset`, run as the real binary on bundles written here.
//!
//! The bundle writer below follows docs/bundle-format.md on its own (it does not use kbc-apply's
//! `bundle` module), so that the two can only agree by both following docs/bundle-format.md:
//! deterministic ustar (sorted, uid/gid 0, fixed mtime), gzip with mtime 0 and a fixed
//! level, the canonical manifest first.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_kbc-apply");
const ISSUED_AT: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

// ---------------------------------------------------------------------------------------
// The bundle writer

#[derive(Clone, Debug)]
struct Entry {
    /// Raw header name bytes (so that unsafe names can be written at all).
    name: Vec<u8>,
    kind: tar::EntryType,
    mode: u32,
    data: Vec<u8>,
    link: Option<&'static str>,
}

impl Entry {
    fn file(name: &str, mode: u32, data: &[u8]) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            mode,
            data: data.to_vec(),
            link: None,
        }
    }
}

/// A bundle before packing: the manifest (as JSON, editable) and the entries after it.
#[derive(Clone, Debug)]
struct Fixture {
    manifest: Value,
    entries: Vec<Entry>,
}

/// (path, mode, secret, content) of the valid fixture, in any order.
fn fixture_files() -> Vec<(&'static str, u32, bool, &'static [u8])> {
    vec![
        (
            "rootfs/etc/kubernetes/pki/ca.crt",
            0o644,
            false,
            b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
        ),
        (
            "rootfs/etc/kubernetes/pki/ca.key",
            0o600,
            true,
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIEfake\n-----END RSA PRIVATE KEY-----\n",
        ),
        (
            "rootfs/etc/kubernetes/pki/etcd/ca.crt",
            0o644,
            false,
            b"-----BEGIN CERTIFICATE-----\nMIIBetcd\n-----END CERTIFICATE-----\n",
        ),
        (
            "rootfs/etc/kubernetes/admin.conf",
            0o600,
            true,
            b"apiVersion: v1\nkind: Config\nclusters: []\n",
        ),
        (
            "rootfs/etc/kubernetes/manifests/kube-apiserver.yaml",
            0o600,
            false,
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n",
        ),
        (
            "rootfs/var/lib/kubelet/config.yaml",
            0o644,
            false,
            b"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
        ),
        (
            "api/10-upload-config.yaml",
            0o644,
            false,
            b"apiVersion: v1\nkind: ConfigMap\n",
        ),
        (
            "images.txt",
            0o644,
            false,
            b"registry.k8s.io/kube-apiserver:v1.31.0\n",
        ),
    ]
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_entry(path: &str, mode: u32, secret: bool, data: &[u8]) -> Value {
    json!({
        "path": path,
        "mode": format!("{mode:04o}"),
        "size": data.len(),
        "sha256": sha256_hex(data),
        "secret": secret,
    })
}

fn valid_fixture() -> Fixture {
    let sorted: BTreeMap<&str, (u32, bool, &[u8])> = fixture_files()
        .into_iter()
        .map(|(p, m, s, d)| (p, (m, s, d)))
        .collect();
    let files: Vec<Value> = sorted
        .iter()
        .map(|(p, (m, s, d))| file_entry(p, *m, *s, d))
        .collect();
    let entries = sorted
        .iter()
        .map(|(p, (m, _, d))| Entry::file(p, *m, d))
        .collect();
    let manifest = json!({
        "format": "kbc.bundle/v1",
        "kbcVersion": "0.1.0",
        "derivation": "kbc-kdf-v1",
        "kubernetesVersion": "v1.31.0",
        "clusterName": "kubernetes",
        "nodeName": "cp-1",
        "controlPlaneEndpoint": "10.0.0.10:6443",
        "issuedAt": "2026-01-01T00:00:00Z",
        "configSha256": sha256_hex(b"config"),
        "files": files,
        "apply": {"phases": ["upload-config"]},
    });
    Fixture { manifest, entries }
}

/// Canonical JSON: serde_json's `Value` keeps object keys in a sorted map (no
/// `preserve_order` in this workspace); compact; one trailing newline.
fn canonical(manifest: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(manifest).expect("JSON value serializes");
    bytes.push(b'\n');
    bytes
}

fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut header = tar::Header::new_ustar();
        {
            let name = &mut header.as_old_mut().name;
            assert!(e.name.len() < name.len(), "fixture name too long");
            name.fill(0);
            name[..e.name.len()].copy_from_slice(&e.name);
        }
        header.set_entry_type(e.kind);
        header.set_mode(e.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root").expect("short user name");
        header.set_groupname("root").expect("short group name");
        header.set_mtime(ISSUED_AT);
        header.set_size(e.data.len() as u64);
        if let Some(link) = e.link {
            header.set_link_name(link).expect("fixture link name");
        }
        header.set_cksum();
        builder
            .append(&header, e.data.as_slice())
            .expect("append to in-memory tar");
    }
    builder.into_inner().expect("finish in-memory tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(9));
    gz.write_all(data).expect("gzip to memory");
    gz.finish().expect("gzip to memory")
}

impl Fixture {
    fn manifest_bytes(&self) -> Vec<u8> {
        canonical(&self.manifest)
    }

    fn digest(&self) -> String {
        format!("sha256:{}", sha256_hex(&self.manifest_bytes()))
    }

    fn tar_with_manifest(&self, manifest_bytes: Vec<u8>) -> Vec<u8> {
        let mut all = vec![Entry::file("kbc-bundle.json", 0o644, &manifest_bytes)];
        all.extend(self.entries.iter().cloned());
        tar_of(&all)
    }

    fn tgz(&self) -> Vec<u8> {
        gzip(&self.tar_with_manifest(self.manifest_bytes()))
    }

    fn files_mut(&mut self) -> &mut Vec<Value> {
        self.manifest["files"]
            .as_array_mut()
            .expect("fixture manifest has files")
    }

    /// Adds a file to both the manifest and the tar, keeping both sorted.
    fn add(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.files_mut().push(file_entry(path, mode, false, data));
        self.files_mut()
            .sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        self.entries.push(Entry::file(path, mode, data));
        self.entries.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

// ---------------------------------------------------------------------------------------
// Running the binary and looking at the root

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("root")).expect("create root");
        Env { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn write_bundle(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        fs::write(&path, bytes).expect("write bundle");
        path
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(BIN)
            .args(args)
            .output()
            .expect("run kbc-apply");
        Run::from(output)
    }

    fn install(&self, bundle: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "install",
            bundle.to_str().expect("UTF-8 temp path"),
            "--root",
            self.root_str(),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn reset(&self, bundle: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "reset",
            bundle.to_str().expect("UTF-8 temp path"),
            "--root",
            self.root_str(),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn root_str(&self) -> &'static str {
        // Leaked once per call: tests are short-lived and this keeps the call sites simple.
        Box::leak(self.root().to_str().expect("UTF-8 temp path").into()) as &str
    }

    fn tree(&self) -> BTreeMap<String, String> {
        tree(&self.root())
    }

    fn mode(&self, rel: &str) -> u32 {
        fs::symlink_metadata(self.root().join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}"))
            .permissions()
            .mode()
            & 0o7777
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            // Killed by a signal: no code; -1 fails every assertion below.
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    fn ok(&self) -> &Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    #[track_caller]
    fn refused(&self, needle: &str) -> &Run {
        assert_eq!(self.code, 1, "expected exit 1: {self:#?}");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
        self
    }
}

/// Every path under `root` with its type, mode and content hash (or link target).
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).expect("metadata");
            let mode = meta.permissions().mode() & 0o7777;
            let desc = if meta.file_type().is_symlink() {
                format!("link {}", fs::read_link(&path).expect("readlink").display())
            } else if meta.is_dir() {
                walk(root, &path, out);
                format!("dir {mode:04o}")
            } else {
                let data = fs::read(&path).expect("read");
                format!("file {mode:04o} {}", sha256_hex(&data))
            };
            out.insert(rel, desc);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn installed_files() -> Vec<(&'static str, u32, &'static [u8])> {
    fixture_files()
        .into_iter()
        .filter_map(|(p, m, _, d)| p.strip_prefix("rootfs/").map(|rel| (rel, m, d)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// verify

#[test]
fn writer_is_deterministic() {
    assert_eq!(valid_fixture().tgz(), valid_fixture().tgz());
    // gzip header: no file name, mtime 0.
    let tgz = valid_fixture().tgz();
    assert_eq!(&tgz[..8], &[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]);
}

/// This file's writer and `kbc_apply::bundle::write` (which the compiler is to use)
/// produce the same bytes: both follow the same reading of docs/bundle-format.md.
#[test]
fn library_writer_matches_this_writer_byte_for_byte() {
    let fixture = valid_fixture();
    let manifest: kbc_apply::bundle::Manifest =
        serde_json::from_value(fixture.manifest.clone()).expect("fixture manifest is typed");
    let files = fixture_files()
        .into_iter()
        .map(|(path, mode, secret, data)| kbc_apply::bundle::NewFile {
            path: path.to_string(),
            mode,
            secret,
            data: data.to_vec(),
        })
        .collect();
    let (tgz, digest) =
        kbc_apply::bundle::write(manifest, files, ISSUED_AT).expect("library writes the fixture");
    assert_eq!(digest, fixture.digest());
    assert_eq!(tgz, fixture.tgz());
}

#[test]
fn verify_accepts_valid_bundle_and_prints_digest() {
    let env = Env::new();
    let fixture = valid_fixture();
    let bundle = env.write_bundle("b.tgz", &fixture.tgz());
    let b = bundle.to_str().expect("UTF-8");
    let run = env.run(&["verify", b]);
    run.ok();
    assert!(run.stdout.contains(&fixture.digest()), "{run:#?}");
    assert!(run.stdout.contains("8 files, 2 secret"), "{run:#?}");
    env.run(&["verify", b, "--expect-digest", &fixture.digest()])
        .ok();
    // Upper-case hex is the same digest.
    env.run(&[
        "verify",
        b,
        "--expect-digest",
        &fixture
            .digest()
            .to_uppercase()
            .replace("SHA256:", "sha256:"),
    ])
    .ok();
}

/// Every tampered bundle: (name, bundle bytes, pinned digest, expected stderr fragment).
fn tampered() -> Vec<(&'static str, Vec<u8>, Option<String>, &'static str)> {
    let valid = valid_fixture();
    let mut cases = Vec::new();

    let mut f = valid.clone();
    let key = f
        .entries
        .iter_mut()
        .find(|e| e.name.ends_with(b"ca.key"))
        .expect("fixture has ca.key");
    key.data[12] ^= 0x01;
    cases.push(("flipped byte in a file", f.tgz(), None, "has sha256"));

    let mut f = valid.clone();
    f.files_mut()[3]["sha256"] = json!(sha256_hex(b"something else"));
    cases.push(("manifest hash edited", f.tgz(), None, "the manifest says"));

    let mut f = valid.clone();
    f.files_mut()[3]["size"] = json!(1);
    cases.push(("manifest size edited", f.tgz(), None, "the manifest says 1"));

    let mut f = valid.clone();
    f.files_mut()[3]["mode"] = json!("0666");
    cases.push((
        "manifest mode edited",
        f.tgz(),
        None,
        "in the archive, the manifest says 0666",
    ));

    let f = valid.clone();
    let mut pretty = serde_json::to_vec_pretty(&f.manifest).expect("serialize");
    pretty.push(b'\n');
    cases.push((
        "manifest reformatted",
        gzip(&f.tar_with_manifest(pretty)),
        None,
        "not canonical JSON",
    ));

    let mut f = valid.clone();
    f.manifest["format"] = json!("kbc.bundle/v2");
    cases.push(("other format", f.tgz(), None, "unsupported bundle format"));

    let mut f = valid.clone();
    f.manifest
        .as_object_mut()
        .expect("object")
        .remove("nodeName");
    cases.push(("field missing", f.tgz(), None, "does not match format"));

    let f = valid.clone();
    cases.push((
        "manifest not JSON",
        gzip(&f.tar_with_manifest(b"{\"format\":\"kbc.bundle/v1\",".to_vec())),
        None,
        "not valid JSON",
    ));

    let mut f = valid.clone();
    f.entries.push(Entry::file(
        "rootfs/etc/kubernetes/zz-extra.conf",
        0o600,
        b"extra",
    ));
    cases.push((
        "extra entry",
        f.tgz(),
        None,
        "\"rootfs/etc/kubernetes/zz-extra.conf\" is not listed",
    ));

    let mut f = valid.clone();
    f.entries.pop();
    cases.push(("missing entry", f.tgz(), None, "missing from the archive"));

    let mut f = valid.clone();
    f.entries.swap(3, 4);
    cases.push(("entries out of order", f.tgz(), None, "out of order"));

    let mut f = valid.clone();
    f.files_mut().swap(3, 4);
    cases.push((
        "manifest not sorted",
        f.tgz(),
        None,
        "entries must be sorted",
    ));

    let mut f = valid.clone();
    f.add("rootfs/etc/kubernetes/pki/sa.key", 0o600, b"");
    let link = f
        .entries
        .iter_mut()
        .find(|e| e.name.ends_with(b"sa.key"))
        .expect("just added");
    link.kind = tar::EntryType::Symlink;
    link.link = Some("/etc/shadow");
    cases.push(("symlink entry", f.tgz(), None, "is a symbolic link"));

    let mut f = valid.clone();
    f.add("rootfs/etc/kubernetes/pki/sa.key", 0o600, b"");
    let link = f
        .entries
        .iter_mut()
        .find(|e| e.name.ends_with(b"sa.key"))
        .expect("just added");
    link.kind = tar::EntryType::Link;
    link.link = Some("rootfs/etc/kubernetes/pki/ca.key");
    cases.push(("hard link entry", f.tgz(), None, "is a hard link"));

    let mut f = valid.clone();
    f.add("rootfs/dev/kmem", 0o600, b"");
    f.entries
        .iter_mut()
        .find(|e| e.name.ends_with(b"kmem"))
        .expect("just added")
        .kind = tar::EntryType::Char;
    cases.push(("device entry", f.tgz(), None, "is a character device"));

    let mut f = valid.clone();
    f.entries.push(Entry::file(
        "rootfs/../../etc/cron.d/evil",
        0o644,
        b"* * * * * root sh\n",
    ));
    cases.push(("../ path in the tar", f.tgz(), None, "\"..\" components"));

    let mut f = valid.clone();
    f.add(
        "rootfs/../../etc/cron.d/evil",
        0o644,
        b"* * * * * root sh\n",
    );
    cases.push((
        "../ path in tar and manifest",
        f.tgz(),
        None,
        "\"..\" components",
    ));

    let mut f = valid.clone();
    f.entries.push(Entry::file(
        "/etc/cron.d/evil",
        0o644,
        b"* * * * * root sh\n",
    ));
    cases.push(("absolute path", f.tgz(), None, "absolute paths"));

    let mut f = valid.clone();
    f.add("/etc/cron.d/evil", 0o644, b"* * * * * root sh\n");
    cases.push(("absolute path in manifest", f.tgz(), None, "absolute paths"));

    let mut f = valid.clone();
    f.add("rootfs/etc/kubernetes/pki/ca.crt/x", 0o644, b"x");
    cases.push(("file used as directory", f.tgz(), None, "which is a file"));

    let f = valid.clone();
    let mut entries = f.entries.clone();
    entries.insert(
        0,
        Entry::file("images.txt", 0o644, b"registry.k8s.io/pause:3.10\n"),
    );
    entries.insert(
        1,
        Entry::file("kbc-bundle.json", 0o644, &f.manifest_bytes()),
    );
    cases.push((
        "manifest not first",
        gzip(&tar_of(&entries)),
        None,
        "first entry is \"images.txt\"",
    ));

    let tgz = valid.tgz();
    cases.push((
        "truncated gzip (end cut)",
        tgz[..tgz.len() - 9].to_vec(),
        None,
        "not a valid gzip stream",
    ));
    cases.push((
        "truncated gzip (half)",
        tgz[..tgz.len() / 2].to_vec(),
        None,
        "not a valid gzip stream",
    ));
    let mut corrupt = tgz.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    cases.push(("corrupt gzip", corrupt, None, "not a valid gzip stream"));
    let mut trailing = tgz.clone();
    trailing.extend_from_slice(&tgz);
    cases.push((
        "second gzip member",
        trailing,
        None,
        "after the end of the gzip stream",
    ));
    cases.push(("not gzip at all", b"hello".to_vec(), None, "gzip"));

    cases.push((
        "wrong pinned digest",
        valid.tgz(),
        Some(format!("sha256:{}", "0".repeat(64))),
        "this is not the pinned bundle",
    ));
    cases
}

#[test]
fn tampered_bundles_are_refused_and_the_root_is_untouched() {
    let env = Env::new();
    // A root that already holds an installed bundle plus a changed file: the strongest
    // temptation to write (install --force, reset --force).
    let good = env.write_bundle("good.tgz", &valid_fixture().tgz());
    env.install(&good, &[]).ok();
    fs::write(env.root().join("etc/kubernetes/admin.conf"), b"changed\n").expect("write");
    let before = env.tree();

    let cases = tampered();
    assert_eq!(cases.len(), 27);
    for (name, bytes, pin, needle) in cases {
        let bundle = env.write_bundle("bad.tgz", &bytes);
        let b = bundle.to_str().expect("UTF-8");
        let mut pinned = vec![];
        if let Some(pin) = &pin {
            pinned = vec!["--expect-digest", pin.as_str()];
        }
        for command in [
            vec!["verify", b],
            vec!["install", b, "--root", env.root_str(), "--force"],
            vec!["install", b, "--root", env.root_str(), "--dry-run"],
            vec!["reset", b, "--root", env.root_str(), "--force"],
        ] {
            let mut args = command.clone();
            args.extend_from_slice(&pinned);
            let run = env.run(&args);
            assert_eq!(run.code, 1, "{name}: {args:?}: {run:#?}");
            assert!(
                run.stderr.contains(needle) && run.stderr.starts_with("error: bundle"),
                "{name}: stderr lacks {needle:?}: {run:#?}"
            );
            assert!(run.stdout.is_empty(), "{name}: {run:#?}");
            assert_eq!(env.tree(), before, "{name}: {args:?} changed the root");
        }
    }
}

// ---------------------------------------------------------------------------------------
// install

#[test]
fn install_writes_every_file_with_its_mode_and_kubeadm_directory_modes() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let run = env.install(&bundle, &[]);
    run.ok();
    assert!(run.stdout.ends_with("install: changed\n"), "{run:#?}");
    let first = format!("verify: ok {} (8 files, 2 secret", valid_fixture().digest());
    assert!(run.stdout.starts_with(&first), "{run:#?}");

    for (rel, mode, data) in installed_files() {
        let path = env.root().join(rel);
        assert_eq!(fs::read(&path).expect(rel), data, "{rel}");
        assert_eq!(env.mode(rel), mode, "{rel}");
        let line = format!(
            "created {} mode={mode:04o} sha256={}",
            path.display(),
            sha256_hex(data)
        );
        assert!(run.stdout.contains(&line), "missing {line:?}: {run:#?}");
    }
    let dirs = [
        ("etc", 0o755),
        ("etc/kubernetes", 0o755),
        ("etc/kubernetes/pki", 0o755),
        ("etc/kubernetes/pki/etcd", 0o755),
        ("etc/kubernetes/manifests", 0o700),
        ("var", 0o755),
        ("var/lib", 0o755),
        ("var/lib/kubelet", 0o700),
    ];
    for (rel, mode) in dirs {
        assert_eq!(env.mode(rel), mode, "{rel}");
    }
    // Exactly the rootfs files and their directories: no api/, images.txt or temp files.
    let tree = env.tree();
    assert_eq!(
        tree.len(),
        installed_files().len() + dirs.len(),
        "{tree:#?}"
    );
}

#[test]
fn install_keeps_the_mode_of_existing_directories() {
    let env = Env::new();
    fs::create_dir_all(env.root().join("etc/kubernetes/manifests")).expect("mkdir");
    fs::set_permissions(
        env.root().join("etc/kubernetes/manifests"),
        fs::Permissions::from_mode(0o750),
    )
    .expect("chmod");
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    env.install(&bundle, &[]).ok();
    assert_eq!(env.mode("etc/kubernetes/manifests"), 0o750);
}

#[test]
fn second_install_reports_unchanged() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    env.install(&bundle, &[]).ok();
    let before = env.tree();
    let run = env.install(&bundle, &[]);
    run.ok();
    assert!(run.stdout.ends_with("install: unchanged\n"), "{run:#?}");
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("unchanged "))
            .count(),
        installed_files().len()
    );
    assert_eq!(env.tree(), before);
}

#[test]
fn differing_files_are_refused_without_force_and_nothing_is_written() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    env.install(&bundle, &[]).ok();
    let root = env.root();
    fs::write(root.join("etc/kubernetes/pki/ca.crt"), b"another CA\n").expect("write");
    fs::set_permissions(
        root.join("etc/kubernetes/pki/ca.key"),
        fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    fs::remove_file(root.join("etc/kubernetes/admin.conf")).expect("rm");
    fs::remove_dir_all(root.join("var/lib/kubelet")).expect("rm");
    let before = env.tree();

    let run = env.install(&bundle, &[]);
    run.refused("install refused; nothing was changed")
        .refused("pki/ca.crt\": content differs")
        .refused("pki/ca.key\": mode is 0644, the bundle has 0600")
        .refused("pass --force");
    assert!(!run.stderr.contains("admin.conf"), "{run:#?}");
    assert_eq!(env.tree(), before, "a refused install wrote something");
}

#[test]
fn force_replaces_differing_files_and_keeps_backups() {
    let env = Env::new();
    let fixture = valid_fixture();
    let bundle = env.write_bundle("b.tgz", &fixture.tgz());
    env.install(&bundle, &[]).ok();
    let root = env.root();
    fs::write(root.join("etc/kubernetes/pki/ca.crt"), b"another CA\n").expect("write");
    fs::set_permissions(
        root.join("etc/kubernetes/pki/ca.crt"),
        fs::Permissions::from_mode(0o640),
    )
    .expect("chmod");
    fs::remove_file(root.join("etc/kubernetes/admin.conf")).expect("rm");

    let run = env.install(&bundle, &["--force"]);
    run.ok();
    assert!(run.stdout.ends_with("install: changed\n"), "{run:#?}");
    for (rel, mode, data) in installed_files() {
        assert_eq!(fs::read(root.join(rel)).expect(rel), data, "{rel}");
        assert_eq!(env.mode(rel), mode, "{rel}");
    }
    let hex = fixture.digest().replace("sha256:", "");
    let backup_dir = format!("etc/kubernetes/tmp/kbc-backup-{hex}");
    let backup = format!("{backup_dir}/etc/kubernetes/pki/ca.crt");
    assert_eq!(
        fs::read(root.join(&backup)).expect("backup"),
        b"another CA\n"
    );
    assert_eq!(env.mode(&backup), 0o640, "backup keeps the old mode");
    assert_eq!(env.mode("etc/kubernetes/tmp"), 0o700);
    assert_eq!(env.mode(&backup_dir), 0o700);
    assert!(run.stdout.contains("replaced (backup "), "{run:#?}");
    // Only ca.crt was backed up (admin.conf was absent, the rest identical).
    let backups: Vec<_> = env
        .tree()
        .into_iter()
        .filter(|(p, d)| p.starts_with(&backup_dir) && d.starts_with("file"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:#?}");

    // A second forced replacement keeps the first backup.
    fs::write(root.join("etc/kubernetes/pki/ca.crt"), b"third CA\n").expect("write");
    env.install(&bundle, &["--force"]).ok();
    assert_eq!(
        fs::read(root.join(&backup)).expect("backup"),
        b"another CA\n"
    );
    assert_eq!(
        fs::read(root.join(format!("{backup}.1"))).expect("second backup"),
        b"third CA\n"
    );
    env.install(&bundle, &[]).ok();
}

#[test]
fn directories_and_symlinks_in_the_way_are_refused_even_with_force() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let root = env.root();
    fs::create_dir_all(root.join("etc/kubernetes/admin.conf")).expect("mkdir");
    fs::create_dir_all(root.join("var/lib")).expect("mkdir");
    fs::write(
        root.join("var/lib/kubelet"),
        b"a file where a directory goes",
    )
    .expect("write");
    fs::create_dir_all(root.join("etc/kubernetes/pki")).expect("mkdir");
    symlink("/etc/shadow", root.join("etc/kubernetes/pki/ca.key")).expect("symlink");
    let before = env.tree();
    let run = env.install(&bundle, &["--force"]);
    run.refused("admin.conf\": is a directory")
        .refused("kubelet\" is in the way and is not a directory")
        .refused("ca.key\": is a symbolic link");
    assert_eq!(env.tree(), before);
}

#[test]
fn dry_run_prints_every_action_and_changes_nothing() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let run = env.install(&bundle, &["--dry-run"]);
    run.ok();
    for (rel, mode, data) in installed_files() {
        let line = format!(
            "would create {} mode={mode:04o} sha256={}",
            env.root().join(rel).display(),
            sha256_hex(data)
        );
        assert!(run.stdout.contains(&line), "missing {line:?}: {run:#?}");
    }
    assert!(run.stdout.contains("nothing was written"), "{run:#?}");
    assert!(env.tree().is_empty(), "dry run wrote {:#?}", env.tree());

    env.install(&bundle, &[]).ok();
    fs::write(env.root().join("etc/kubernetes/pki/ca.crt"), b"x").expect("write");
    let before = env.tree();
    let run = env.install(&bundle, &["--dry-run", "--force"]);
    run.ok();
    assert!(
        run.stdout.contains("would replace (content differs"),
        "{run:#?}"
    );
    assert_eq!(env.tree(), before);
    // Without --force a dry run predicts the refusal.
    env.install(&bundle, &["--dry-run"])
        .refused("content differs");
    assert_eq!(env.tree(), before);
}

// ---------------------------------------------------------------------------------------
// reset

#[test]
fn reset_removes_what_install_wrote() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let root = env.root();
    // Something of the operator's that reset must keep.
    fs::create_dir_all(root.join("etc/kubernetes")).expect("mkdir");
    fs::write(root.join("etc/kubernetes/mine.txt"), b"keep").expect("write");
    env.install(&bundle, &[]).ok();

    let run = env.reset(&bundle, &[]);
    run.ok();
    assert!(run.stdout.ends_with("reset: changed\n"), "{run:#?}");
    for (rel, _, _) in installed_files() {
        assert!(!root.join(rel).exists(), "{rel} left behind");
    }
    let left: Vec<String> = env.tree().into_keys().collect();
    assert_eq!(
        left,
        [
            "etc",
            "etc/kubernetes",
            "etc/kubernetes/mine.txt",
            "var",
            "var/lib",
            "var/lib/kubelet"
        ],
        "{run:#?}"
    );

    let run = env.reset(&bundle, &[]);
    run.ok();
    assert!(run.stdout.ends_with("reset: unchanged\n"), "{run:#?}");
}

#[test]
fn reset_refuses_changed_files_unless_forced() {
    let env = Env::new();
    let fixture = valid_fixture();
    let bundle = env.write_bundle("b.tgz", &fixture.tgz());
    env.install(&bundle, &[]).ok();
    let root = env.root();
    fs::write(root.join("etc/kubernetes/admin.conf"), b"edited\n").expect("write");
    let before = env.tree();

    env.reset(&bundle, &[])
        .refused("reset refused; nothing was changed")
        .refused("admin.conf\": content differs")
        .refused("pass --force");
    assert_eq!(env.tree(), before);

    let run = env.reset(&bundle, &["--force"]);
    run.ok();
    assert!(!root.join("etc/kubernetes/admin.conf").exists());
    let hex = fixture.digest().replace("sha256:", "");
    assert_eq!(
        fs::read(root.join(format!(
            "etc/kubernetes/tmp/kbc-backup-{hex}/etc/kubernetes/admin.conf"
        )))
        .expect("backup"),
        b"edited\n"
    );
}

// ---------------------------------------------------------------------------------------
// command line

#[test]
fn usage_errors_exit_2_and_a_missing_root_exits_1() {
    let env = Env::new();
    assert_eq!(env.run(&[]).code, 2);
    assert_eq!(env.run(&["install"]).code, 2);
    assert_eq!(
        env.run(&["verify", "x.tgz", "--expect-digest", "md5:abc"])
            .code,
        2
    );
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let b = bundle.to_str().expect("UTF-8");
    env.run(&["install", b, "--root", "/nonexistent/kbc-root"])
        .refused("is not a directory");
    env.run(&["verify", "/nonexistent/b.tgz"])
        .refused("cannot read bundle");
    let help = env.run(&["--help"]);
    help.ok();
    assert!(help.stdout.contains("Exit codes:"), "{help:#?}");
}

/// Unmounts on drop, also when the test fails.
struct BindMount(PathBuf);

impl BindMount {
    fn new(source: &str, target: PathBuf) -> BindMount {
        fs::create_dir_all(&target).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["--bind", source])
            .arg(&target)
            .status()
            .expect("mount runs (the tests run as root)");
        assert!(ok.success(), "mount --bind {source} {}", target.display());
        BindMount(target)
    }
}

impl Drop for BindMount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A failure after some files were written exits 2 and lists what was done. Running as
/// root, permissions cannot make a write fail, so `/proc` is bind-mounted on `var` (a
/// symlink would be refused before anything is written: `--root` is a boundary), where
/// nobody can create directories: the `etc/` files are written first, then `var/lib` fails.
#[test]
fn a_failure_while_acting_exits_2_and_lists_what_was_done() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let mount = BindMount::new("/proc", env.root().join("var"));
    let run = env.install(&bundle, &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    let admin = env.root().join("etc/kubernetes/admin.conf");
    for needle in [
        "error: install failed while acting: could not create the directories of".to_string(),
        "var/lib/kubelet/config.yaml\"".to_string(),
        "done before the failure:".to_string(),
        format!("created {}", admin.display()),
        format!(
            "created directory {} 0700",
            env.root().join("etc/kubernetes/manifests").display()
        ),
        "caused by:".to_string(),
    ] {
        assert!(
            run.stderr.contains(&needle),
            "stderr lacks {needle:?}: {run:#?}"
        );
    }
    assert!(
        run.stdout.contains(&format!("created {}", admin.display())),
        "{run:#?}"
    );
    assert!(!run.stdout.contains("install:"), "{run:#?}");
    // Running again after the cause is gone completes.
    drop(mount);
    fs::remove_dir(env.root().join("var")).expect("rm mount point");
    let run = env.install(&bundle, &[]);
    run.ok();
    assert!(run.stdout.contains("unchanged "), "{run:#?}");
    assert!(run.stdout.ends_with("install: changed\n"), "{run:#?}");
}

/// Review C19-C21: `--root` is a boundary. A directory symlink under it, absolute or
/// relative, is refused before anything is written, and nothing outside changes.
#[test]
fn symlinks_under_the_root_are_never_written_through() {
    for (link, target) in [
        ("etc/kubernetes", "ABS"),
        ("etc/kubernetes/pki", "ABS"),
        ("var", "../escape"),
    ] {
        let env = Env::new();
        let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
        let outside = env.dir.path().join("escape");
        fs::create_dir_all(&outside).unwrap();
        let link_path = env.root().join(link);
        fs::create_dir_all(link_path.parent().unwrap()).unwrap();
        let target = if target == "ABS" {
            outside.clone()
        } else {
            PathBuf::from(target)
        };
        symlink(&target, &link_path).unwrap();
        let before = env.tree();
        env.install(&bundle, &["--force"]).refused("symbolic link");
        assert_eq!(env.tree(), before, "{link}: the root changed");
        assert_eq!(
            fs::read_dir(&outside).unwrap().count(),
            0,
            "{link}: wrote outside the root"
        );
    }
}

/// Review C22: paths the apply plan names are checked like rootfs paths.
#[test]
fn plan_paths_that_leave_the_root_are_refused() {
    let env = Env::new();
    let mut f = valid_fixture();
    let mut plan = serde_json::to_value(kbc_apply::bundle::apply::ApplyPlan::default()).unwrap();
    plan["phases"] = json!(["kubelet-finalize/enable-client-cert-rotation"]);
    plan["kubeletKubeconfig"] = json!("/../escape/kubelet.conf");
    f.manifest["apply"] = plan;
    let bundle = env.write_bundle("b.tgz", &f.tgz());
    let before = env.tree();
    let run = env.run(&[
        "apply",
        bundle.to_str().unwrap(),
        "--root",
        env.root_str(),
        "--systemctl",
        "/bin/true",
    ]);
    run.refused("apply.kubeletKubeconfig \"/../escape/kubelet.conf\"");
    assert_eq!(env.tree(), before);
}

/// Review D1: one kbc-apply per root; a second one says so and changes nothing.
#[test]
fn a_second_kbc_apply_on_the_same_root_is_refused_while_the_first_holds_the_lock() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let held = fs::File::open(env.root()).unwrap();
    held.lock().unwrap();
    env.install(&bundle, &[])
        .refused("another kbc-apply is working on root");
    env.reset(&bundle, &[])
        .refused("another kbc-apply is working on root");
    assert!(env.tree().is_empty());
    drop(held);
    env.install(&bundle, &[]).ok();
}

/// Review C28: temporary files of a killed run (any pid) are removed by the next install
/// and by reset; a live writer's (locked) file is left alone.
#[test]
fn stale_temporary_files_are_swept_by_install_and_reset() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    env.install(&bundle, &[]).ok();
    let kube = env.root().join("etc/kubernetes");
    let stale = kube.join(".admin.conf.kbc-tmp-424242-7");
    fs::write(&stale, b"cluster-admin credentials").unwrap();
    let run = env.install(&bundle, &[]);
    run.ok();
    assert!(!stale.exists(), "{run:#?}");
    assert!(
        run.stdout.contains("removed stale temporary file"),
        "{run:#?}"
    );
    let live = kube.join("pki/.ca.key.kbc-tmp-1-0");
    let held = fs::File::create(&live).unwrap();
    held.lock().unwrap();
    fs::write(&stale, b"again").unwrap();
    env.install(&bundle, &[]).ok();
    assert!(live.exists() && !stale.exists());
    drop(held);
    fs::write(&stale, b"and again").unwrap();
    env.reset(&bundle, &[]).ok();
    assert!(!stale.exists() && !live.exists());
    assert!(
        !env.root().join("etc/kubernetes/pki").exists(),
        "{:?}",
        env.tree()
    );
}

/// Review C23/C24: a bundle that is not a bounded regular file is refused at once.
#[test]
fn a_fifo_or_device_as_bundle_is_refused_not_read() {
    let env = Env::new();
    let fifo = env.dir.path().join("fifo.tgz");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        env.run(&["verify", path]).refused("not a regular file");
        env.install(Path::new(path), &[])
            .refused("not a regular file");
    }
}

/// Review E12: a closed stdout is exit 3, never a silent 0; the work itself was done.
#[test]
fn a_closed_stdout_is_exit_3() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    for args in [
        vec!["verify", bundle.to_str().unwrap()],
        vec![
            "install",
            bundle.to_str().unwrap(),
            "--root",
            env.root_str(),
        ],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(BIN)
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("cannot write to standard output"), "{err}");
    }
    assert!(env.root().join("etc/kubernetes/admin.conf").exists());
}

/// Review E12, the rest: help and version on a closed stdout are exit 3 too, and with
/// both stdout and stderr closed kbc-apply still ends with its own exit code, never a
/// panic (101).
#[test]
fn closed_stdout_and_stderr_never_panic() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    let b = bundle.to_str().unwrap();
    let missing = env.dir.path().join("missing.tgz");
    for (args, code) in [
        (vec!["--help"], 3),
        (vec!["--version"], 3),
        (vec!["install", "--help"], 3),
        (vec!["verify", b], 3),
        (vec!["reset", b, "--root", env.root_str()], 3),
        (vec!["verify", missing.to_str().unwrap()], 1),
        (vec!["install", b, "--bogus"], 2),
    ] {
        let (out_r, out_w) = std::io::pipe().unwrap();
        let (err_r, err_w) = std::io::pipe().unwrap();
        drop((out_r, err_r));
        let status = Command::new(BIN)
            .args(&args)
            .stdout(out_w)
            .stderr(err_w)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

/// Review C19-C21 for `--force`: a link in the way of the backup directory refuses
/// install and reset before anything changes (not halfway, after other files).
#[test]
fn a_link_in_the_way_of_the_backups_refuses_force_before_anything_changes() {
    let env = Env::new();
    let bundle = env.write_bundle("b.tgz", &valid_fixture().tgz());
    env.install(&bundle, &[]).ok();
    let root = env.root();
    let outside = env.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    symlink(&outside, root.join("etc/kubernetes/tmp")).unwrap();
    fs::write(root.join("etc/kubernetes/pki/ca.crt"), b"another CA\n").unwrap();
    fs::remove_file(root.join("etc/kubernetes/admin.conf")).unwrap();
    let before = env.tree();
    for run in [
        env.install(&bundle, &["--force"]),
        env.reset(&bundle, &["--force"]),
    ] {
        run.refused("ca.crt\": its backup cannot be kept")
            .refused("etc/kubernetes/tmp\" on the way is a symbolic link");
        assert_eq!(env.tree(), before, "{run:#?}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    }
}

/// Review C27/C28: a backup is never left partial under a backup's name. A killed
/// backup's temporary file is swept (at any depth of the backup directory), and a backup
/// that already holds the file's content and mode is used again instead of a copy `.1`.
#[test]
fn backups_are_atomic_and_a_completed_one_is_reused() {
    let env = Env::new();
    let fixture = valid_fixture();
    let bundle = env.write_bundle("b.tgz", &fixture.tgz());
    env.install(&bundle, &[]).ok();
    let root = env.root();
    let hex = fixture.digest().replace("sha256:", "");
    let dir = root.join(format!(
        "etc/kubernetes/tmp/kbc-backup-{hex}/etc/kubernetes/pki"
    ));
    fs::create_dir_all(&dir).unwrap();
    // What a run killed during and right after a backup leaves.
    let partial = dir.join(".ca.crt.kbc-tmp-424242-b0");
    fs::write(&partial, b"another").unwrap();
    fs::write(dir.join("ca.crt"), b"another CA\n").unwrap();
    fs::set_permissions(dir.join("ca.crt"), fs::Permissions::from_mode(0o640)).unwrap();
    fs::write(root.join("etc/kubernetes/pki/ca.crt"), b"another CA\n").unwrap();
    fs::set_permissions(
        root.join("etc/kubernetes/pki/ca.crt"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let run = env.install(&bundle, &["--force"]);
    run.ok();
    assert!(!partial.exists(), "{run:#?}");
    assert!(!dir.join("ca.crt.1").exists(), "{run:#?}");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "{run:#?}");
    assert!(
        run.stdout.contains(&format!(
            "replaced (backup {})",
            dir.join("ca.crt").display()
        )),
        "{run:#?}"
    );
}
