//! Crash consistency of kbc-apply, proven: `install`, `install --force` (with backups),
//! `reset` and `apply` (against the in-process HTTPS API server of
//! `tests/apply_support/server.rs`, which stands in for kube-apiserver, with the fake
//! `systemctl` of `Host`) are killed with SIGKILL, then run again. After the re-run the
//! host tree must equal that of an uninterrupted run (or the untouched node after reset):
//! same files, modes and contents, no temporary file and no stray file anywhere under the
//! root.
//!
//! Kill points: random moments, drawn uniformly over the measured duration of an
//! uninterrupted run of the same command (so the whole run is covered on a fast or a slow
//! machine), and for `apply` exactly every boundary between two phases: with
//! `KBC_APPLY_TEST_PHASE_GATE=1` kbc-apply waits on standard input after each phase line,
//! and is killed while it waits. Nothing sleeps to wait for readiness.
//!
//! The random moments come from a seeded generator; the seed is printed, and
//! `KBC_KILL_SEED=N` replays a run.

use crate::apply_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    fn new(test: &str) -> Rng {
        let seed = std::env::var("KBC_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            })
            | 1;
        eprintln!("{test}: KBC_KILL_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    /// A moment in `[0, 1.25 × span]`: the whole run and a little after it.
    fn within(&mut self, span: Duration) -> Duration {
        let micros = span.as_micros() as u64 * 5 / 4;
        Duration::from_micros(self.below(micros + 1))
    }
}

/// What the commands need: the fake node, and for `apply` the API server and kubelet.
struct Target<'a> {
    host: &'a Host,
    api: Option<(&'a str, u16)>,
}

impl Target<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbc-apply"));
        cmd.arg(args[0])
            .arg(bundle_path())
            .args(&args[1..])
            .arg("--root")
            .arg(self.host.root());
        if let Some((url, kubelet)) = self.api {
            cmd.arg("--systemctl")
                .arg(self.host.systemctl())
                .args(["--api-server", url, "--tls-server-name", "kubernetes"])
                .arg("--kubelet-healthz")
                .arg(format!("http://127.0.0.1:{kubelet}/healthz"));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("run kbc-apply")
    }

    /// Runs `args` to completion; it must succeed. Returns how long it took.
    #[track_caller]
    fn complete(&self, args: &[&str]) -> Duration {
        let start = Instant::now();
        let o = self.command(args).output().expect("run kbc-apply");
        assert!(
            o.status.success(),
            "{args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        start.elapsed()
    }
}

/// SIGKILL after `delay` (if still running). Returns whether the kill ended the process.
fn kill_after(mut child: Child, delay: Duration) -> bool {
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().expect("wait").code().is_none()
}

/// A phase's outcome line, `<phase>: <outcome>` (`install: changed`, `addon/coredns: ...`),
/// after which the phase gate waits. (`verify: ok ...` comes before the run: no gate.)
pub(crate) fn is_phase_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, _)| {
        name != "verify"
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b"-/".contains(&b))
    })
}

/// Runs `cmd` with the phase gate and SIGKILLs it while it waits after its `n`-th phase
/// line; false when the run ended before that line.
pub(crate) fn kill_at_boundary(mut cmd: Command, n: usize) -> bool {
    let mut child = cmd
        .env("KBC_APPLY_TEST_PHASE_GATE", "1")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run kbc-apply");
    let mut gate = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let mut seen = 0;
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if !is_phase_line(&line) {
            continue;
        }
        seen += 1;
        if seen == n {
            // The run is stopped at the gate: after this phase, before the next one.
            killed = child.kill().is_ok();
            break;
        }
        let _ = gate.write_all(b"\n");
    }
    drop(gate);
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

/// No temporary file, and exactly the files, directories and modes of `want`.
#[track_caller]
fn assert_converged(host: &Host, want: &BTreeMap<String, String>, what: &str) {
    assert_eq!(temp_files(&host.root()), Vec::<String>::new(), "{what}");
    let got = host.tree();
    let stray: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(
        stray.is_empty() && missing.is_empty(),
        "{what}: stray {stray:?}, missing {missing:?}"
    );
    assert_eq!(
        &got, want,
        "{what}: modes or contents differ from an uninterrupted run"
    );
}

/// install: 40 kills at random moments of an install.
#[test]
fn a_killed_install_converges_on_the_next_run() {
    let mut rng = Rng::new("install");
    let reference = Host::new();
    let t = Target {
        host: &reference,
        api: None,
    };
    let span = t.complete(&["install"]);
    let want = reference.tree();
    let mut killed = 0;
    for i in 0..40 {
        let host = Host::new();
        let t = Target {
            host: &host,
            api: None,
        };
        let delay = rng.within(span);
        killed += usize::from(kill_after(t.spawn(&["install"]), delay));
        t.complete(&["install"]);
        assert_converged(
            &host,
            &want,
            &format!("install run {i}, killed after {delay:?}"),
        );
    }
    eprintln!("install: {killed} of 40 runs killed before they ended (run: {span:?})");
}

/// A node where three of the bundle's files differ (content or mode), so that
/// `install --force` backs them up before replacing them.
fn differing_host() -> Host {
    let host = Host::new();
    host.put("etc/kubernetes/admin.conf", "another admin.conf\n", 0o600);
    host.put("etc/kubernetes/pki/ca.key", "another key\n", 0o600);
    host.put(
        "etc/kubernetes/manifests/etcd.yaml",
        &"x".repeat(300_000),
        0o644,
    );
    host
}

/// install --force: 20 kills at random moments, backups included; the re-run makes the
/// same backups as an uninterrupted run (a backup is never partial, never duplicated).
#[test]
fn a_killed_forced_install_converges_with_its_backups() {
    let mut rng = Rng::new("install --force");
    let reference = differing_host();
    let t = Target {
        host: &reference,
        api: None,
    };
    let span = t.complete(&["install", "--force"]);
    let want = reference.tree();
    assert_eq!(
        want.keys()
            .filter(|k| k.contains("/kbc-backup-") && !want[*k].starts_with("dir"))
            .count(),
        3,
        "{want:#?}"
    );
    for i in 0..20 {
        let host = differing_host();
        let t = Target {
            host: &host,
            api: None,
        };
        let delay = rng.within(span);
        kill_after(t.spawn(&["install", "--force"]), delay);
        t.complete(&["install", "--force"]);
        assert_converged(
            &host,
            &want,
            &format!("install --force run {i}, killed after {delay:?}"),
        );
    }
}

/// reset: 30 kills at random moments after a complete install; the re-run leaves the node
/// as an uninterrupted reset does.
#[test]
fn a_killed_reset_converges_on_the_next_run() {
    let mut rng = Rng::new("reset");
    let reference = Host::new();
    let t = Target {
        host: &reference,
        api: None,
    };
    t.complete(&["install"]);
    let span = t.complete(&["reset"]);
    // The node as before, plus /etc/kubernetes and /var/lib/kubelet, which reset keeps.
    let want = reference.tree();
    for i in 0..30 {
        let host = Host::new();
        let t = Target {
            host: &host,
            api: None,
        };
        t.complete(&["install"]);
        let delay = rng.within(span);
        kill_after(t.spawn(&["reset"]), delay);
        t.complete(&["reset"]);
        assert_converged(
            &host,
            &want,
            &format!("reset run {i}, killed after {delay:?}"),
        );
    }
}

/// apply: killed exactly between every two phases (and after the last), then 20 times at
/// random moments; each re-run converges to the tree of an uninterrupted run.
#[test]
fn a_killed_apply_converges_on_the_next_run() {
    let bundle = kbc_bundle::verify(&std::fs::read(bundle_path()).unwrap(), None).unwrap();
    let server = ApiServer::start_with(&Identity::of_bundle(&bundle), Faults::default());
    let url = server.url();
    let kubelet = kubelet_healthz(0);
    let reference = Host::new();
    let api = Some((url.as_str(), kubelet));
    let span = Target {
        host: &reference,
        api,
    }
    .complete(&["apply"]);
    let want = reference.tree();

    let mut boundaries = 0;
    for n in 1.. {
        let host = Host::new();
        let t = Target { host: &host, api };
        if !kill_at_boundary(t.command(&["apply"]), n) {
            break;
        }
        boundaries += 1;
        t.complete(&["apply"]);
        assert_converged(&host, &want, &format!("apply killed after phase line {n}"));
    }
    // preflight, install, kubelet-start, wait-control-plane, cluster-admins, 3 upload
    // phases, mark-control-plane, bootstrap-token, kubelet-finalize, 2 addons,
    // show-join-command.
    assert_eq!(boundaries, 14, "phase boundaries");
    let mut rng = Rng::new("apply");
    for i in 0..20 {
        let host = Host::new();
        let t = Target { host: &host, api };
        let delay = rng.within(span);
        kill_after(t.spawn(&["apply"]), delay);
        t.complete(&["apply"]);
        assert_converged(
            &host,
            &want,
            &format!("apply run {i}, killed after {delay:?}"),
        );
    }
}
