//! The compiled bundles committed under `fixtures/bundles/` (test data of kbc-apply, which
//! must not depend on the compiler) are exactly what `kbc compile` makes today: each is
//! compiled afresh and compared byte for byte, so they can never drift from the compiler.

use crate::common::root;
use std::path::Path;
use std::process::Command;

const AT: &str = "2026-11-25T12:00:00Z";

/// (bundle, config, public test seed), as in `fixtures/bundles/README.md`.
const BUNDLES: [(&str, &str, &str); 2] = [
    (
        "fixtures/bundles/single-node.tgz",
        "fixtures/single-node.yaml",
        "fixtures/secrets/test-secrets.yaml",
    ),
    (
        "fixtures/bundles/other-cluster.tgz",
        "fixtures/single-node.yaml",
        "fixtures/secrets/other-test-secrets.yaml",
    ),
];

fn regenerate_command(bundle: &str, config: &str, secrets: &str) -> String {
    format!(
        "cargo run -p kbc -- compile {config} --secrets {secrets} --issued-at {AT} --upload-certs -o {bundle}"
    )
}

#[test]
fn committed_fixture_bundles_are_what_the_compiler_makes() {
    let dir = tempfile::tempdir().unwrap();
    let mut stale = Vec::new();
    for (bundle, config, secrets) in BUNDLES {
        let out = dir.path().join(Path::new(bundle).file_name().unwrap());
        let o = Command::new(env!("CARGO_BIN_EXE_kbc"))
            .args(["compile", config, "--secrets", secrets, "--issued-at", AT])
            .arg("--upload-certs")
            .arg("-o")
            .arg(&out)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{bundle}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let fresh = std::fs::read(&out).unwrap();
        let committed = std::fs::read(root().join(bundle)).unwrap_or_default();
        if fresh != committed {
            stale.push(format!(
                "{bundle} ({} bytes committed, {} compiled)\n    {}",
                committed.len(),
                fresh.len(),
                regenerate_command(bundle, config, secrets)
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "committed fixture bundles differ from what the compiler makes now; if the change is \
         intended, regenerate them from the repository root (fixtures/bundles/README.md) and \
         update kbc-apply's snapshots (tests/snapshots/apply_e2e__*):\n  {}",
        stale.join("\n  ")
    );
}
