//! The `kbc` command line: argument parsing, dispatch and the exit-code table.
//!
//! Exit codes (also in `--help` and README): 0 done; 1 input refused (config, secrets or
//! bundle), nothing written; 2 usage error (clap's own code for bad arguments); 3 standard
//! output could not be written (a closed pipe), after the work itself was done.

/// `eprintln!` that cannot panic: a closed standard error is ignored (there is nowhere left
/// to say it), where `eprintln!` would panic with exit code 101.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::err_out(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) mod certs;
pub mod compile;
pub mod config;
pub(crate) mod init_flags;
pub(crate) mod inputs;
pub(crate) mod misc;
pub(crate) mod node;
pub(crate) mod review;
pub(crate) mod secrets;

use clap::{Parser, Subcommand};

pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_REFUSED: i32 = 1;
pub(crate) const EXIT_USAGE: i32 = 2;
pub(crate) const EXIT_OUTPUT: i32 = 3;

const AFTER_HELP: &str = "\
Exit codes:
  0  done
  1  input refused (configuration, secrets or bundle); nothing was written
  2  usage error (unknown command or flag, missing argument)
  3  standard output could not be written (e.g. a closed pipe); the work itself was done
     (compile: the bundle is written)";

/// kubeadm init (Kubernetes v1.31) as an offline, deterministic config compiler.
#[derive(Debug, Parser)]
#[command(name = "kbc", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a configuration into a bundle for `kbc-apply`.
    #[command(after_help = AFTER_HELP)]
    Compile(compile::CompileArgs),
    /// Print the public review rendering of a configuration, without generating keys.
    #[command(after_help = AFTER_HELP)]
    Render(review::RenderArgs),
    /// Verify a bundle and print its review rendering, digest, dates and cluster-info JWS.
    #[command(after_help = AFTER_HELP)]
    Inspect(review::InspectArgs),
    /// Unified diff of the review renderings of two configurations or bundles.
    #[command(after_help = review::DIFF_AFTER_HELP)]
    Diff(review::DiffArgs),
    /// Read, check, print and migrate kubeadm configuration files.
    #[command(subcommand, after_help = AFTER_HELP)]
    Config(config::ConfigCommand),
    /// Bootstrap tokens.
    #[command(subcommand, after_help = AFTER_HELP)]
    Token(misc::TokenCommand),
    /// Certificates and kubeconfigs: render, check expiration, the upload-certs key.
    #[command(subcommand, after_help = AFTER_HELP)]
    Certs(misc::CertsCommand),
    /// The cluster secrets file every key is derived from.
    #[command(subcommand, after_help = AFTER_HELP)]
    Secrets(secrets::SecretsCommand),
    /// Print the completion script for SHELL: `source <(kbc completions bash)`.
    #[command(after_help = AFTER_HELP)]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: kbc_bundle::cli::Shell,
    },
    /// Write a man page for every command into DIR (kbc.1, kbc-compile.1, ...).
    #[command(after_help = AFTER_HELP)]
    Manpages {
        /// The directory (created if needed); existing pages are replaced.
        dir: std::path::PathBuf,
    },
}

/// An error already reported to the user, carrying the exit code.
#[derive(Debug)]
pub struct Exit(pub i32);

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(c) => compile::run(c),
        Command::Render(c) => review::render(c),
        Command::Inspect(c) => review::inspect(c),
        Command::Diff(c) => review::diff(c),
        Command::Config(c) => config::run(c),
        Command::Token(c) => misc::token(c),
        Command::Certs(c) => misc::certs(c),
        Command::Secrets(c) => secrets::run(c),
        Command::Completions { shell } => misc::completions(shell),
        Command::Manpages { dir } => misc::manpages(&dir),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(Exit(code)) => code,
    }
}

/// Writes `text` to standard output. Rust ignores SIGPIPE, so a closed pipe is an error
/// here (never the panic of `print!`): it is reported on stderr, if that still works, and
/// ends the command with [`EXIT_OUTPUT`].
pub(crate) fn out(text: &str) -> Result<(), Exit> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to standard output: {e}"
            );
            Exit(EXIT_OUTPUT)
        })
}

/// Writes `text` to standard error in one write (stderr is unbuffered, and a report may
/// hold thousands of lines); a closed stderr is ignored, there is nowhere left to say it.
pub(crate) fn err_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Prints `error: <what>` with its cause chain and returns the "refused" exit.
pub(crate) fn refuse(err: &dyn std::error::Error) -> Exit {
    errln!("error: {err}");
    let mut source = err.source();
    while let Some(s) = source {
        errln!("  caused by: {s}");
        source = s.source();
    }
    Exit(EXIT_REFUSED)
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (unique ids, valid defaults) over every subcommand.
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
