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

/// Validates Kubernetes objects (YAML files) against the 1.31 schemas with
/// `kubernetes-validate --strict` (tests/setup.sh installs it); panics with its report.
pub fn kubernetes_validate(files: &[String]) {
    let o = Command::new("kubernetes-validate")
        .args(["--strict", "-k", "1.31.0"])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubernetes-validate is required (tests/setup.sh installs it): {e}")
        });
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
