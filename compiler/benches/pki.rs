//! `cargo bench -p kbc --bench pki`: wall time of a full PKI render (keys, certificates,
//! kubeconfigs) in one process, medians over several runs. Targets (issue 3): default
//! RSA-2048 set (16 keys, 15 certificates, 5 kubeconfigs) ≤ 0.4 s on 2 cores; ECDSA-P256
//! ≤ 20 ms. `KBC_THREADS` sets the thread count (default: all cores).

use std::time::{Duration, Instant};

use kbc::edge::key_threads;
use kbc::pki::{render, EncryptionAlgorithm, IssueTime, PkiInput, Provided};
use kbc::secrets::Secrets;

/// CPU seconds used by this process so far (Linux `/proc/self/stat`, 100 Hz ticks); None
/// elsewhere. Unlike wall time it hardly depends on other load on the machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run(
    alg: EncryptionAlgorithm,
    seeds: impl Iterator<Item = [u8; 32]>,
) -> (Duration, Duration, Duration) {
    let mut input = PkiInput::new("cp-1", "192.168.0.10".parse().expect("an IP"));
    input.encryption_algorithm = alg;
    let at = IssueTime::parse_rfc3339("2026-11-25T12:00:00Z").expect("RFC 3339");
    let threads = key_threads();
    let mut times = Vec::new();
    let cpu0 = cpu_seconds();
    for seed in seeds {
        let secrets = Secrets::from_seed(seed);
        let t = Instant::now();
        let out = secrets
            .pki(&Provided::default())
            .and_then(|s| render(&input, &s, at, &kbc::pki::KeyCache::new(threads)))
            .expect("render");
        times.push(t.elapsed());
        assert_eq!(out.artifacts.len(), 27);
    }
    if let (Some(a), Some(b)) = (cpu0, cpu_seconds()) {
        println!(
            "  (CPU time per render: {:.0} ms)",
            (b - a) * 1000.0 / times.len() as f64
        );
    }
    let min = *times.iter().min().expect("runs");
    let max = *times.iter().max().expect("runs");
    (median(times), min, max)
}

fn main() {
    let runs: u8 = std::env::var("KBC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    println!("threads: {}, runs: {runs}", key_threads());
    let fixed = || (0..runs).map(|_| [7u8; 32]);
    let varied = || (0..runs).map(|i| [i.wrapping_mul(37).wrapping_add(1); 32]);
    for (name, alg) in [
        ("RSA-2048", EncryptionAlgorithm::Rsa2048),
        ("ECDSA-P256", EncryptionAlgorithm::EcdsaP256),
    ] {
        let (m, lo, hi) = run(alg, fixed());
        println!("{name:<10} fixed seed:   median {m:>10.2?}  (min {lo:.2?}, max {hi:.2?})");
        let (m, lo, hi) = run(alg, varied());
        println!("{name:<10} {runs} seeds:     median {m:>10.2?}  (min {lo:.2?}, max {hi:.2?})");
    }
}
