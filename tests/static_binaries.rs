//! `kbc-apply` as it ships (README, "Release binaries"): `scripts/release.sh` builds it as a
//! static executable for x86_64 and aarch64 musl; each must have no dynamic loader, weigh
//! at most 4 MB stripped, and `verify` and `install --root` a fixture bundle exactly as the
//! development build does, the arm64 one under qemu-aarch64. Also the applier's own CLI
//! conventions: completions that load in bash, man pages, `verify --output json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BUNDLE: &str = "fixtures/bundles/single-node.tgz";
const TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];
const MAX_SIZE: u64 = 4_000_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `cmd` (in the repository unless it has its own directory); it must succeed.
fn run(cmd: &mut Command) -> Output {
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// The command that runs a binary built for `target` on this machine.
fn runner(target: &str, binary: &Path) -> Command {
    if target.starts_with(std::env::consts::ARCH) {
        Command::new(binary)
    } else {
        let mut c = Command::new("qemu-aarch64-static");
        c.arg(binary);
        c
    }
}

/// Every file under `dir` with its mode and content, relative paths sorted.
fn tree(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            if meta.is_dir() {
                out.push((rel, meta.permissions().mode() & 0o7777, Vec::new()));
                stack.push(path);
            } else {
                let data = std::fs::read(&path).unwrap();
                out.push((rel, meta.permissions().mode() & 0o7777, data));
            }
        }
    }
    out.sort();
    out
}

/// `install --root` into a fresh directory; returns the installed tree and the log, with
/// the root written as `<root>`.
fn install_with(mut cmd: Command) -> (Vec<(String, u32, Vec<u8>)>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(cmd.args(["install", BUNDLE, "--root"]).arg(dir.path()));
    let log = String::from_utf8(out.stdout).unwrap();
    let log = log.replace(&dir.path().display().to_string(), "<root>");
    (tree(dir.path()), log)
}

#[test]
fn static_release_binaries_run_where_they_will_run() {
    let dist = tempfile::tempdir().unwrap();
    let mut release = Command::new("scripts/release.sh");
    // Without the variables cargo sets for a test process (CARGO_PKG_NAME, CARGO_MANIFEST_DIR,
    // ...): build scripts that watch them would make the release build tests/setup.sh
    // already made look stale and rebuild it.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO") && name != "CARGO_HOME" {
            release.env_remove(&name);
        }
    }
    run(release
        .args(["--only", "kbc-apply", "--out"])
        .arg(dist.path()));
    let sums = std::fs::read_to_string(dist.path().join("SHA256SUMS")).unwrap();
    run(Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(dist.path()));

    let dev = Command::new(env!("CARGO_BIN_EXE_kbc-apply"));
    let (want_tree, want_log) = install_with(dev);
    let want_verify =
        run(Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
            .args(["verify", "--output", "json", BUNDLE]))
        .stdout;
    for target in TARGETS {
        let binary = dist.path().join(target).join("kbc-apply");
        assert!(sums.contains(&format!("  {target}/kbc-apply\n")), "{sums}");
        let size = std::fs::metadata(&binary).unwrap().len();
        assert!(size <= MAX_SIZE, "{target}: {size} bytes");

        // No dynamic loader: no PT_INTERP program header, no dynamic section needing libs.
        let headers = run(Command::new("readelf")
            .args(["--program-headers", "--dynamic"])
            .arg(&binary));
        let headers = String::from_utf8_lossy(&headers.stdout);
        assert!(!headers.contains("INTERP"), "{target}: {headers}");
        assert!(!headers.contains("(NEEDED)"), "{target}: {headers}");
        let kind = run(Command::new("file").arg("-b").arg(&binary));
        let kind = String::from_utf8_lossy(&kind.stdout);
        assert!(
            kind.contains("statically linked") || kind.contains("static-pie linked"),
            "{kind}"
        );
        let arch = if target.starts_with("x86_64") {
            "x86-64"
        } else {
            "aarch64"
        };
        assert!(kind.contains(arch) && kind.contains(", stripped"), "{kind}");

        let verify = run(runner(target, &binary).args(["verify", "--output", "json", BUNDLE]));
        assert_eq!(verify.stdout, want_verify, "{target}: verify");
        let (got_tree, got_log) = install_with(runner(target, &binary));
        assert_eq!(got_log, want_log, "{target}: install log");
        assert!(
            got_tree == want_tree,
            "{target}: the installed files differ from the dev build's"
        );
    }
}

fn kbc_apply(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn verify_json_states_the_texts_facts() {
    let text = String::from_utf8(kbc_apply(&["verify", BUNDLE]).stdout).unwrap();
    let out = kbc_apply(&["verify", BUNDLE, "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["apiVersion"], "kbc.output/v1");
    assert_eq!(doc["kind"], "BundleVerification");
    assert_eq!(doc["verification"], "ok");
    assert_eq!(
        text,
        format!(
            "verify: ok {} ({} files, {} secret, format {})\n",
            doc["digest"].as_str().unwrap(),
            doc["fileCount"],
            doc["secretFileCount"],
            doc["format"].as_str().unwrap()
        )
    );
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len() as u64, doc["fileCount"].as_u64().unwrap());
    let secret = files.iter().filter(|f| f["secret"] == true).count();
    assert_eq!(secret as u64, doc["secretFileCount"].as_u64().unwrap());
    let admin = files
        .iter()
        .find(|f| f["path"] == "rootfs/etc/kubernetes/admin.conf")
        .unwrap();
    assert_eq!(admin["mode"], "0600");
    assert_eq!(admin["secret"], true);
    assert_eq!(admin["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn verify_json_reports_a_refusal_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tgz");
    std::fs::write(&bad, b"not a bundle").unwrap();
    let out = kbc_apply(&["verify", "--output", "json", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verification"], "refused");
    assert!(doc["error"].as_str().unwrap().contains("gzip"), "{doc}");
    assert!(doc.get("digest").is_none());
    // The human message still goes to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: bundle"));
}

#[test]
fn bash_completion_loads_and_completes() {
    let out = kbc_apply(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), &out.stdout).unwrap();
    let complete = |words: &str, cword: usize| {
        let out = run(Command::new("bash").arg("-c").arg(format!(
            "set -e; source {}; fn=$(complete -p kbc-apply | sed -E 's/.* -F ([^ ]+) .*/\\1/'); \
             COMP_WORDS=({words}); COMP_CWORD={cword}; \
             \"$fn\" kbc-apply \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.path().display()
        )));
        String::from_utf8(out.stdout).unwrap()
    };
    let top = complete("kbc-apply ver", 1);
    assert_eq!(top.trim(), "verify");
    let flags = complete("kbc-apply install --expect", 2);
    assert!(flags.lines().any(|l| l == "--expect-digest"), "{flags}");
}

#[test]
fn man_pages_cover_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = kbc_apply(&["manpages", &dir.path().display().to_string()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    got.sort();
    let want = [
        "kbc-apply-apply.1",
        "kbc-apply-completions.1",
        "kbc-apply-install.1",
        "kbc-apply-manpages.1",
        "kbc-apply-reset.1",
        "kbc-apply-verify.1",
        "kbc-apply.1",
    ];
    assert_eq!(got, want);
    for page in &got {
        let rendered = run(Command::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .arg(dir.path().join(page)));
        assert!(rendered.stderr.is_empty(), "{page}");
    }
    let apply = std::fs::read_to_string(dir.path().join("kbc-apply-apply.1")).unwrap();
    assert!(apply.contains(r"\-\-expect\-digest"));
    // The implicit `apply` still works next to the new subcommands.
    let implicit = kbc_apply(&[
        BUNDLE,
        "--dry-run",
        "--root",
        &dir.path().display().to_string(),
    ]);
    assert!(String::from_utf8_lossy(&implicit.stdout).starts_with("verify: ok"));
}

#[test]
fn the_release_and_setup_scripts_pass_shellcheck() {
    run(Command::new("shellcheck").args(["scripts/release.sh", "tests/setup.sh"]));
}
