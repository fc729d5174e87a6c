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
