//! Crash consistency of kbc-apply, proven: `install`, `apply` (against the in-process HTTPS
//! API server of `tests/apply_support/server.rs`, which stands in for kube-apiserver) and
//! `reset` are killed with SIGKILL at random moments and right after each phase line, then
//! run again. After the re-run the host tree must equal that of an uninterrupted run (or
//! the untouched node after reset), with no temporary file anywhere under the root.
//!
//! The random delays come from a seeded generator; the seed is printed, and
//! `KBC_KILL_SEED=N` replays a run.

mod apply_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use apply_support::server::{ApiServer, Faults, Identity};
use apply_support::{kubelet_healthz, Host};

const SINGLE_NODE: &str = "fixtures/bundles/single-node.tgz";

fn bundle_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(SINGLE_NODE)
}

/// xorshift64*: enough to spread kill times; seeded for replay.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("KBC_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("apply_kill: KBC_KILL_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What the commands need: the fake node, and for `apply` the API server and kubelet.
struct Target<'a> {
    host: &'a Host,
    api: Option<(&'a str, u16)>,
}

impl Target<'_> {
    fn command(&self, sub: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbc-apply"));
        cmd.arg(sub)
            .arg(bundle_path())
            .arg("--root")
            .arg(self.host.root());
        if let Some((url, kubelet)) = self.api {
            cmd.arg("--systemctl")
                .arg(self.host.systemctl())
                .args(["--api-server", url, "--tls-server-name", "kubernetes"])
                .arg("--kubelet-healthz")
                .arg(format!("http://127.0.0.1:{kubelet}/healthz"));
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }

    fn spawn(&self, sub: &str) -> Child {
        self.command(sub).spawn().expect("run kbc-apply")
    }

    /// Runs `sub` to completion; it must succeed.
    #[track_caller]
    fn complete(&self, sub: &str) {
        let o = self.command(sub).output().expect("run kbc-apply");
        assert!(
            o.status.success(),
            "{sub} after a kill failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// SIGKILL after `delay` (if still running).
fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// A phase's outcome line, `<phase>: <outcome>` (`install: changed`, `addon/coredns: ...`).
fn is_phase_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b"-/".contains(&b))
    })
}

/// SIGKILL right after the `n`-th phase line; false when the run ended before.
fn kill_after_phase(mut child: Child, n: usize) -> bool {
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = 0;
    let killed = loop {
        match lines.next() {
            Some(Ok(line)) if !is_phase_line(&line) => {}
            Some(Ok(_)) => {
                seen += 1;
                if seen == n {
                    break child.kill().is_ok();
                }
            }
            _ => break false,
        }
    };
    let status = child.wait().expect("wait");
    killed && status.code().is_none()
}

/// Every temporary file under the root.
fn temp_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                dirs.push(p);
            } else if e.file_name().to_string_lossy().contains(".kbc-tmp-") {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[track_caller]
fn assert_converged(host: &Host, want: &BTreeMap<String, String>, what: &str) {
    assert_eq!(temp_files(&host.root()), Vec::<String>::new(), "{what}");
    assert_eq!(
        &host.tree(),
        want,
        "{what}: the tree differs from an uninterrupted run"
    );
}

/// install: 50 kills at random moments (an install takes tens of milliseconds).
#[test]
fn a_killed_install_converges_on_the_next_run() {
    let mut rng = Rng::new();
    let reference = Host::new();
    Target {
        host: &reference,
        api: None,
    }
    .complete("install");
    let want = reference.tree();
    for i in 0..50 {
        let host = Host::new();
        let t = Target {
            host: &host,
            api: None,
        };
        kill_after(t.spawn("install"), Duration::from_micros(rng.below(40_000)));
        t.complete("install");
        assert_converged(&host, &want, &format!("install run {i}"));
    }
}

/// reset: 30 kills at random moments after a complete install; the re-run leaves the node
/// as an uninterrupted reset does.
#[test]
fn a_killed_reset_converges_on_the_next_run() {
    let mut rng = Rng::new();
    let reference = Host::new();
    let t = Target {
        host: &reference,
        api: None,
    };
    t.complete("install");
    t.complete("reset");
    // The node as before, plus /etc/kubernetes and /var/lib/kubelet, which reset keeps.
    let want = reference.tree();
    for i in 0..30 {
        let host = Host::new();
        let t = Target {
            host: &host,
            api: None,
        };
        t.complete("install");
        kill_after(t.spawn("reset"), Duration::from_micros(rng.below(30_000)));
        t.complete("reset");
        assert_converged(&host, &want, &format!("reset run {i}"));
    }
}

/// apply: killed right after each phase (every phase boundary), then 10 times at random
/// moments; each re-run converges.
#[test]
fn a_killed_apply_converges_on_the_next_run() {
    let bundle = kbc_bundle::verify(&std::fs::read(bundle_path()).unwrap(), None).unwrap();
    let server = ApiServer::start_with(&Identity::of_bundle(&bundle), Faults::default());
    let url = server.url();
    let kubelet = kubelet_healthz(0);
    let reference = Host::new();
    let api = Some((url.as_str(), kubelet));
    Target {
        host: &reference,
        api,
    }
    .complete("apply");
    let want = reference.tree();

    let mut kills = 0;
    for n in 1.. {
        let host = Host::new();
        let t = Target { host: &host, api };
        if !kill_after_phase(t.spawn("apply"), n) {
            break;
        }
        kills += 1;
        t.complete("apply");
        assert_converged(&host, &want, &format!("apply killed after phase line {n}"));
    }
    assert!(kills >= 12, "only {kills} phase boundaries");
    let mut rng = Rng::new();
    for i in 0..10 {
        let host = Host::new();
        let t = Target { host: &host, api };
        kill_after(t.spawn("apply"), Duration::from_micros(rng.below(400_000)));
        t.complete("apply");
        assert_converged(&host, &want, &format!("apply run {i}"));
    }
}
