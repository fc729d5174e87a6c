//! Helpers every module of the compiler's test binary shares.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (fixtures are named relative to it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the compiler crate lives in the workspace")
        .to_path_buf()
}

/// Runs the `kbc` binary in the workspace root.
pub fn kbc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kbc"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the kbc binary runs")
}

/// Runs `kbc args`, which must succeed; its standard output.
pub fn kbc_ok(args: &[&str]) -> String {
    let o = kbc(args);
    assert!(
        o.status.success(),
        "kbc {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("kbc prints UTF-8")
}

/// The test process's one key cache: every key derived once per seed, label and algorithm,
/// however many tests render a PKI from the test seed (RSA key generation is most of the
/// work of a render).
pub fn keys() -> std::sync::Arc<kbc::pki::KeyCache> {
    use kbc::pki::KeyCache;
    use std::sync::{Arc, LazyLock};
    static KEYS: LazyLock<Arc<KeyCache>> = LazyLock::new(|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(KeyCache::new(threads))
    });
    KEYS.clone()
}

/// `kbc compile ARGS` in this process: writes what the `kbc` binary would write (the bundle,
/// or a cluster's directory) and returns the summary it would print, deriving its keys
/// through [`keys`]; tests that run the binary cover the command itself. Relative paths are taken from the workspace root,
/// like [`kbc`]'s; warnings are dropped.
pub fn compile_in_process(args: &[&str]) -> String {
    use clap::Parser;
    let args = args.iter().map(|a| match root().join(a) {
        p if !a.starts_with('-') && p.exists() => p.display().to_string(),
        _ => a.to_string(),
    });
    let cli = kbc::cli::Cli::try_parse_from(std::iter::once("kbc".to_string()).chain(args))
        .unwrap_or_else(|e| panic!("{e}"));
    let kbc::cli::Command::Compile(a) = cli.command else {
        panic!("compile_in_process runs `kbc compile` only")
    };
    let done = kbc::cli::compile::Job::new(&a, Some(keys()))
        .and_then(|job| job.write(&a))
        .unwrap_or_else(|e| panic!("kbc compile {:?}: exit {}", a.config, e.0));
    done.summary
}

/// [`compile_in_process`] of one bundle: its bytes.
pub fn compile_bundle_in_process(args: &[&str]) -> Vec<u8> {
    compile_in_process(args);
    let out = args
        .iter()
        .position(|a| *a == "-o")
        .map(|i| args[i + 1])
        .expect("-o names the bundle");
    std::fs::read(root().join(out)).unwrap()
}

/// Validates Kubernetes objects (YAML files, one object each) strictly against the 1.31
/// schemas with `kubernetes-validate` (tests/setup.sh installs it; a missing tool fails the
/// test); panics with its report. Files with equal bytes are validated once, and the tool
/// runs through `tests/support/validate_objects.py`, which reads each schema once per run.
/// Every object must report "passed": the tool only warns about a kind it has no schema for.
pub fn kubernetes_validate<P: AsRef<Path>>(files: &[P]) {
    let mut seen = std::collections::BTreeSet::new();
    let distinct: Vec<&Path> = files
        .iter()
        .map(|f| f.as_ref())
        .filter(|f| seen.insert(std::fs::read(f).expect("the file to validate exists")))
        .collect();
    assert!(!distinct.is_empty(), "nothing to validate");
    let o = Command::new("python3")
        .arg(root().join("tests/support/validate_objects.py"))
        .args(["--strict", "-k", "1.31.0"])
        .args(&distinct)
        .output()
        .unwrap_or_else(|e| panic!("python3 runs kubernetes-validate (tests/setup.sh): {e}"));
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "kubernetes-validate failed:\n{report}");
    let passed = report.matches(" passed for resource ").count();
    assert!(
        passed >= distinct.len() && !report.lines().any(|l| l.starts_with("WARN")),
        "every object passes, none is skipped:\n{report}"
    );
}
