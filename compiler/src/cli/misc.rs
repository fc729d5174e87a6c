//! `kbc token generate` and `kbc certs certificate-key`: kubeadm's formats, from the OS's
//! random source (these are the only commands that print fresh secrets); `kbc completions`
//! and `kbc manpages`, from the clap definition itself.

use super::{refuse, Exit};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a random bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`, as `kubeadm token generate`.
    Generate,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Print a random upload-certs key (64 hex characters), as `kubeadm certs certificate-key`.
    CertificateKey,
    #[command(flatten)]
    Pki(super::certs::PkiCertsCommand),
}

/// `n` characters of `[a-z0-9]` from the OS random source.
pub(crate) fn random_token_chars(n: usize) -> std::io::Result<String> {
    let mut buf = [0u8; 64];
    let mut used = buf.len();
    let mut failed = None;
    let out = crate::compile::token_chars(
        || {
            if used == buf.len() {
                if let Err(e) = getrandom::fill(&mut buf) {
                    failed = Some(e.to_string());
                }
                used = 0;
            }
            used += 1;
            buf[used - 1]
        },
        n,
    );
    match failed {
        Some(e) => Err(std::io::Error::other(e)),
        None => Ok(out),
    }
}

pub(crate) fn token(cmd: TokenCommand) -> Result<(), Exit> {
    match cmd {
        TokenCommand::Generate => {
            let id = random_token_chars(6).map_err(|e| refuse(&e))?;
            let secret = random_token_chars(16).map_err(|e| refuse(&e))?;
            super::out(&format!("{id}.{secret}\n"))?;
            Ok(())
        }
    }
}

pub(crate) fn certs(cmd: CertsCommand) -> Result<(), Exit> {
    match cmd {
        CertsCommand::Pki(c) => super::certs::run(c, &|path, node| {
            let args = super::config::InputArgs {
                file: path.display().to_string(),
                node: node.clone(),
                skip_phases: None,
            };
            let loaded = super::config::load(&args)?;
            for w in loaded.warnings.warnings() {
                errln!("{w}");
            }
            Ok(loaded.cluster.pki_input())
        }),
        CertsCommand::CertificateKey => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| refuse(&std::io::Error::other(e.to_string())))?;
            super::out(&format!(
                "{}\n",
                key.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ))?;
            Ok(())
        }
    }
}

pub(crate) fn completions(shell: kbc_bundle::cli::Shell) -> Result<(), Exit> {
    use clap::CommandFactory;
    let script = kbc_bundle::cli::completions(super::Cli::command(), shell);
    super::out(&String::from_utf8_lossy(&script))
}

pub(crate) fn manpages(dir: &std::path::Path) -> Result<(), Exit> {
    use clap::CommandFactory;
    let written = kbc_bundle::cli::write_man_pages(super::Cli::command(), dir).map_err(|e| {
        errln!("error: cannot write man pages to {}: {e}", dir.display());
        Exit(super::EXIT_REFUSED)
    })?;
    super::out(&format!(
        "wrote {} man pages to {}\n",
        written.len(),
        dir.display()
    ))
}
