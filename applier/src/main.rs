//! kbc-apply: installs a kbc bundle (format `kbc.bundle/v1`, see `bundle/src/lib.rs`) on a node.
//!
//! `kbc-apply BUNDLE` (or `kbc-apply apply BUNDLE`) runs every phase; `verify`, `install`
//! and `reset` work on the bundle's files alone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use kbc_bundle::cli::{to_json, OutputFormat};

use kbc_apply::bundle;
use kbc_apply::{ApplyContext, PhaseError, RunOptions};

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  refused before changing anything (bad bundle, wrong digest, differing files,
     a symbolic link under --root, another kbc-apply on the same root, preflight errors)
  2  failed while acting (the error lists what was done), or a usage error
  3  standard output could not be written (e.g. a closed pipe); the work itself was done

Without a subcommand, `kbc-apply BUNDLE [OPTIONS]` is `kbc-apply apply BUNDLE [OPTIONS]`.";

#[derive(Parser)]
#[command(name = "kbc-apply", version, about = "Installs a kbc bundle on an air-gapped node", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything: verify, preflight, install, kubelet-start, wait-control-plane, the API
    /// phases, mark-control-plane, kubelet-finalize, show-join-command.
    Apply {
        #[command(flatten)]
        bundle: BundleArgs,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check the whole bundle (manifest, sizes, hashes, paths, digest); touches nothing.
    Verify {
        #[command(flatten)]
        bundle: BundleArgs,
        /// text, or json: one `BundleVerification` document (README, "JSON output").
        #[arg(
            long = "output",
            visible_alias = "output-format",
            value_enum,
            default_value_t
        )]
        output: OutputFormat,
    },
    /// Verify, then install the bundle's rootfs/ files atomically with their modes.
    Install {
        #[command(flatten)]
        bundle: BundleArgs,
        #[command(flatten)]
        target: TargetArgs,
        /// Print every action (path, mode, sha256) and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Verify, then remove the files the bundle installed.
    Reset {
        #[command(flatten)]
        bundle: BundleArgs,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print the completion script for SHELL: `source <(kbc-apply completions bash)`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: kbc_bundle::cli::Shell,
    },
    /// Write a man page for every command into DIR (kbc-apply.1, kbc-apply-verify.1, ...).
    Manpages {
        /// The directory (created if needed); existing pages are replaced.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct BundleArgs {
    /// The bundle file (bundle.tgz) written by `kbc compile`.
    bundle: PathBuf,
    /// Refuse any bundle whose digest is not this one (printed by `kbc compile`).
    #[arg(long, value_name = "sha256:HEX", value_parser = parse_digest)]
    expect_digest: Option<String>,
}

#[derive(Args)]
struct TargetArgs {
    /// Treat DIR as the host's `/` (for image baking and tests).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Replace (install) or remove (reset) files that differ from the bundle; their current
    /// versions are kept under <root>/etc/kubernetes/tmp/kbc-backup-<digest>/.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct RunArgs {
    /// Print every action (files with modes and hashes, requests with method, path and
    /// content type) and change nothing; no request is sent.
    #[arg(long)]
    dry_run: bool,
    /// kubeadm phase names to skip, comma-separated (`addon` skips its sub-phases).
    #[arg(long, value_delimiter = ',', value_name = "PHASES")]
    skip_phases: Vec<String>,
    /// Preflight checks whose errors become warnings (`Name,...` or `all`); merged with
    /// the bundle's nodeRegistration.ignorePreflightErrors.
    #[arg(long, value_delimiter = ',', value_name = "CHECKS")]
    ignore_preflight_errors: Vec<String>,
    /// Connect to this API server URL instead of the bundle's (tunnels, tests).
    #[arg(long, value_name = "URL", value_parser = parse_api_server)]
    api_server: Option<String>,
    /// The name the API server's certificate must hold (default: the URL's host).
    #[arg(long, value_name = "NAME")]
    tls_server_name: Option<String>,
    /// Poll this URL for the kubelet's health instead of the endpoint of the bundle's
    /// KubeletConfiguration (http://127.0.0.1:10248/healthz by default; tests).
    #[arg(long, value_name = "URL")]
    kubelet_healthz: Option<String>,
    /// The systemctl to run [env: KBC_SYSTEMCTL; default: systemctl].
    #[arg(long, value_name = "PATH")]
    systemctl: Option<PathBuf>,
}

fn parse_api_server(s: &str) -> Result<String, String> {
    match kbc_apply::client::split_url(s) {
        Some(_) if !s.trim_start_matches("https://").contains('/') => Ok(s.to_string()),
        _ => Err("expected https://HOST[:PORT] (no path)".to_string()),
    }
}

fn parse_digest(s: &str) -> Result<String, String> {
    let lower = s.to_ascii_lowercase();
    if bundle::is_digest(&lower) {
        Ok(lower)
    } else {
        Err("expected sha256: followed by 64 hex digits".to_string())
    }
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `kbc-apply [OPTIONS] BUNDLE ...` means `kbc-apply apply [OPTIONS] BUNDLE ...`.
    if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
        let top_level_flag = matches!(first, "-h" | "--help" | "-V" | "--version");
        let subcommand = first == "help"
            || Cli::command()
                .get_subcommands()
                .any(|c| c.get_name() == first);
        if !top_level_flag && !subcommand {
            args.insert(1, "apply".into());
        }
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help and --version go to standard output: a closed one is exit 3 here too.
        Err(e) if e.exit_code() == 0 => {
            use std::io::IsTerminal;
            let mut out = std::io::stdout().lock();
            let text = if out.is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            return match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(3),
            };
        }
        // Usage errors: clap's message on standard error, exit 2.
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, error: err }) => {
            let mut msg = format!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                msg.push_str(&format!("\n  caused by: {cause}"));
                source = cause.source();
            }
            // Not eprintln!, which panics when standard error is a closed pipe.
            let _ = writeln!(std::io::stderr(), "{msg}");
            ExitCode::from(code)
        }
    }
}

/// Why the command failed: its exit code and the error printed with its causes.
struct Failure {
    code: u8,
    error: Box<dyn std::error::Error>,
}

impl Failure {
    fn new(code: u8, error: impl std::error::Error + 'static) -> Failure {
        Failure {
            code,
            error: Box::new(error),
        }
    }
}

/// Standard output that remembers a failed write: the phases print progress and go on, and
/// the command then ends with exit 3 instead of losing its log silently.
struct TrackedOut<W: Write> {
    inner: W,
    failed: Option<std::io::Error>,
}

impl<W: Write> Write for TrackedOut<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            self.failed
                .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.failed
                .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}

/// Why the output could not be written (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output")]
struct OutputError(#[source] std::io::Error);

fn run(cli: Cli) -> Result<(), Failure> {
    let mut out = TrackedOut {
        inner: std::io::stdout().lock(),
        failed: None,
    };
    let result = run_command(cli, &mut out);
    let _ = out.flush();
    match (result, out.failed) {
        (Err(e), _) => Err(e),
        (Ok(()), Some(e)) => Err(Failure::new(3, OutputError(e))),
        (Ok(()), None) => Ok(()),
    }
}

fn run_command(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    match cli.command {
        Command::Apply {
            bundle,
            target,
            run,
        } => {
            let (ctx, _lock) = context(&bundle, &target, run.dry_run)?;
            verified_line(&mut *out, &ctx.bundle);
            let systemctl = run
                .systemctl
                .or_else(|| std::env::var_os("KBC_SYSTEMCTL").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("systemctl"));
            let opts = RunOptions {
                skip_phases: run.skip_phases,
                ignore_preflight_errors: run.ignore_preflight_errors,
                api_server: run.api_server,
                tls_server_name: run.tls_server_name,
                systemctl,
                kubelet_healthz: run.kubelet_healthz,
                now: std::time::SystemTime::now(),
            };
            kbc_apply::run(&ctx, &opts, &mut *out).map_err(|e| Failure::new(e.code, e))?;
        }
        Command::Verify { bundle, output } => {
            let verified = load(&bundle);
            match (output, &verified) {
                (OutputFormat::Text, Ok(v)) => verified_line(&mut *out, v),
                (OutputFormat::Text, Err(_)) => {}
                (OutputFormat::Json, Ok(v)) => {
                    let _ = out.write_all(to_json(&Verification::ok(v)).as_bytes());
                }
                (OutputFormat::Json, Err(f)) => {
                    let _ = out.write_all(to_json(&Verification::refused(&*f.error)).as_bytes());
                }
            }
            verified?;
        }
        Command::Install {
            bundle,
            target,
            dry_run,
        } => {
            let (ctx, _lock) = context(&bundle, &target, dry_run)?;
            verified_line(&mut *out, &ctx.bundle);
            kbc_apply::install::run(&ctx, &mut *out).map_err(phase_failure)?;
        }
        Command::Reset { bundle, target } => {
            let (ctx, _lock) = context(&bundle, &target, false)?;
            verified_line(&mut *out, &ctx.bundle);
            // A joined control-plane node leaves etcd first, as kubeadm reset does.
            kbc_apply::reset::leave_etcd(&ctx, &mut *out);
            kbc_apply::reset::run(&ctx, &mut *out).map_err(phase_failure)?;
        }
        Command::Completions { shell } => {
            let _ = out.write_all(&kbc_bundle::cli::completions(Cli::command(), shell));
        }
        Command::Manpages { dir } => {
            let written = kbc_bundle::cli::write_man_pages(Cli::command(), &dir)
                .map_err(|e| Failure::new(1, ManPagesError(dir.clone(), e)))?;
            let _ = writeln!(
                out,
                "wrote {} man pages to {}",
                written.len(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// `kbc-apply verify --output json`: the verdict, the digest and the manifest's file list.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Verification<'a> {
    api_version: &'static str,
    kind: &'static str,
    /// `ok` or `refused`.
    verification: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_file_count: Option<usize>,
    /// The manifest's entries: path, mode, size, sha256, secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<&'a [kbc_bundle::FileEntry]>,
}

impl<'a> Verification<'a> {
    fn ok(v: &'a bundle::VerifiedBundle) -> Self {
        Verification {
            api_version: kbc_bundle::cli::OUTPUT_API_VERSION,
            kind: "BundleVerification",
            verification: "ok",
            error: None,
            digest: Some(&v.digest),
            format: Some(&v.manifest.format),
            file_count: Some(v.files.len()),
            secret_file_count: Some(v.files.iter().filter(|f| f.secret).count()),
            files: Some(&v.manifest.files),
        }
    }

    fn refused(e: &dyn std::error::Error) -> Self {
        let mut error = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            error.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Verification {
            api_version: kbc_bundle::cli::OUTPUT_API_VERSION,
            kind: "BundleVerification",
            verification: "refused",
            error: Some(error),
            digest: None,
            format: None,
            file_count: None,
            secret_file_count: None,
            files: None,
        }
    }
}

/// The `verify` phase line, also printed first by `install` and `reset` so that a log
/// records which bundle was applied.
fn verified_line(out: &mut dyn Write, verified: &bundle::VerifiedBundle) {
    let secret = verified.files.iter().filter(|f| f.secret).count();
    let _ = writeln!(
        out,
        "verify: ok {} ({} files, {secret} secret, format {})",
        verified.digest,
        verified.files.len(),
        verified.manifest.format
    );
}

fn phase_failure(e: PhaseError) -> Failure {
    Failure::new(e.exit_code() as u8, e)
}

/// `kbc-apply manpages DIR` could not write its pages (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("cannot write man pages to \"{}\"", .0.display())]
struct ManPagesError(PathBuf, #[source] std::io::Error);

/// Why the command stopped before any phase ran (exit code 1).
#[derive(Debug, thiserror::Error)]
enum InputError {
    #[error("cannot read bundle \"{}\"", .0.display())]
    ReadBundle(PathBuf, #[source] std::io::Error),
    #[error("bundle \"{}\" refused; nothing on the host was touched", .path.display())]
    Refused {
        path: PathBuf,
        source: bundle::VerifyError,
    },
    #[error("root \"{}\" is not a directory; create it first", .0.display())]
    Root(PathBuf),
    #[error("another kbc-apply is working on root \"{}\" (it holds the lock on that directory); run again when it has finished", .0.display())]
    Locked(PathBuf),
    #[error("cannot lock root \"{}\"", .0.display())]
    Lock(PathBuf, #[source] std::io::Error),
}

/// Reads the whole bundle into memory and verifies it.
fn load(args: &BundleArgs) -> Result<bundle::VerifiedBundle, Failure> {
    // A regular file of bounded size: a FIFO or /dev/zero is refused, not read.
    let bytes = bundle::file::read_bundle(&args.bundle)
        .map_err(|e| boxed(InputError::ReadBundle(args.bundle.clone(), e)))?;
    bundle::verify(&bytes, args.expect_digest.as_deref()).map_err(|source| {
        boxed(InputError::Refused {
            path: args.bundle.clone(),
            source,
        })
    })
}

/// The verified bundle and the target, with the lock on the root held for as long as the
/// returned file lives: one kbc-apply per `--root` at a time (an exclusive `flock` on the
/// root directory itself, so no lock file is left anywhere).
fn context(
    args: &BundleArgs,
    target: &TargetArgs,
    dry_run: bool,
) -> Result<(ApplyContext, std::fs::File), Failure> {
    let bundle = load(args)?;
    if !Path::new(&target.root).is_dir() {
        return Err(boxed(InputError::Root(target.root.clone())));
    }
    let lock = std::fs::File::open(&target.root)
        .map_err(|e| boxed(InputError::Lock(target.root.clone(), e)))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(boxed(InputError::Locked(target.root.clone())))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(boxed(InputError::Lock(target.root.clone(), e)))
        }
    }
    let ctx = ApplyContext {
        root: target.root.clone(),
        bundle,
        force: target.force,
        dry_run,
    };
    Ok((ctx, lock))
}

fn boxed(e: InputError) -> Failure {
    Failure::new(1, e)
}
