//! `kbc token generate` and `kbc certs certificate-key`: kubeadm's formats, from the OS's
//! random source (these are the only commands that print fresh secrets).

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

const TOKEN_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `n` characters of `[a-z0-9]`, uniformly (rejection sampling, as `bootstraputil.randBytes`).
pub fn random_token_chars(n: usize) -> std::io::Result<String> {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
        for b in buf {
            // 252 = 7 * 36: larger bytes would bias the choice.
            if b < 252 && out.len() < n {
                out.push(TOKEN_CHARS[(b % 36) as usize] as char);
            }
        }
    }
    Ok(out)
}

pub fn token(cmd: TokenCommand) -> Result<(), Exit> {
    match cmd {
        TokenCommand::Generate => {
            let id = random_token_chars(6).map_err(|e| refuse(&e))?;
            let secret = random_token_chars(16).map_err(|e| refuse(&e))?;
            println!("{id}.{secret}");
            Ok(())
        }
    }
}

pub fn certs(cmd: CertsCommand) -> Result<(), Exit> {
    match cmd {
        CertsCommand::Pki(c) => super::certs::run(c, &|path| {
            let args = super::config::InputArgs {
                file: path.display().to_string(),
                overrides: super::config::OverrideArgs::default(),
            };
            let loaded = super::config::load(&args)?;
            for w in loaded.warnings.warnings() {
                eprintln!("{w}");
            }
            Ok(loaded.cluster.pki_input())
        }),
        CertsCommand::CertificateKey => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| refuse(&std::io::Error::other(e.to_string())))?;
            println!(
                "{}",
                key.iter().map(|b| format!("{b:02x}")).collect::<String>()
            );
            Ok(())
        }
    }
}
