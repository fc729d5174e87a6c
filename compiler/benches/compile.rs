//! `cargo bench -p kbc --bench compile`: `kbc compile` and `kbc render` as whole processes (what
//! a user waits for), medians over several runs with different seeds. Targets (issue 4):
//! compile of fixtures/single-node.yaml (RSA-2048) ≤ 0.5 s; ECDSA-P256 ≤ 50 ms; render ≤ 30 ms;
//! the five bundles of fixtures/cluster/ha.yaml (3 control-plane nodes, 2 workers, RSA-2048)
//! < 1 s (issue 10).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `kbc args` `n` times; each run gets its own secrets file (another seed) and writes
/// to `dir/out` when `out` is given.
fn time(label: &str, args: &[&str], n: usize, out: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("kbc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut times = Vec::new();
    for i in 0..n {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbc"));
        cmd.args(args).current_dir(root());
        if let Some(out) = out {
            let secrets = dir.join(format!("s{i}.yaml"));
            let _ = std::fs::remove_file(&secrets);
            let seed: String = (0..32)
                .map(|b| format!("{:02x}", (b * 7 + i * 13) % 256))
                .collect();
            std::fs::write(&secrets, format!("version: kbc.secrets/v1\nseed: {seed}\n"))
                .expect("secrets");
            cmd.arg("--secrets")
                .arg(&secrets)
                .arg("-o")
                .arg(dir.join(out));
        }
        let t = Instant::now();
        let out = cmd.output().expect("run kbc");
        times.push(t.elapsed());
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let min = *times.iter().min().expect("runs");
    let max = *times.iter().max().expect("runs");
    println!(
        "{label:<45} median {:>8.1} ms  (min {:.1}, max {:.1}, n={n})",
        median(times).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let at = "--issued-at=2026-11-25T12:00:00Z";
    time(
        "kbc compile single-node.yaml (RSA-2048)",
        &["compile", "fixtures/single-node.yaml", at],
        11,
        Some("b.tgz"),
    );
    time(
        "kbc compile cluster/ha.yaml (3 cp + 2 workers)",
        &["compile", "fixtures/cluster/ha.yaml", at],
        11,
        Some("cluster"),
    );
    time(
        "kbc compile feature-gates.yaml (ECDSA-P256)",
        &["compile", "fixtures/feature-gates.yaml", at],
        21,
        Some("b.tgz"),
    );
    time(
        "kbc render single-node.yaml",
        &["render", "fixtures/single-node.yaml"],
        21,
        None,
    );
}
