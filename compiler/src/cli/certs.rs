//! `kbc certs render` and `kbc certs check-expiration`.
//!
//! `render` needs the configuration front end to turn CONFIG into a [`PkiInput`]; the
//! caller passes that conversion in ([`run`]'s `to_input`), so this module does not depend
//! on the config types.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{refuse, Exit};
use crate::pki::{self, expiration, IssueTime, PkiInput, Provided};
use crate::secrets::Secrets;

/// `kbc certs …` (the PKI commands).
#[derive(Debug, Subcommand)]
pub enum PkiCertsCommand {
    /// Write the PKI and kubeconfig files in kubeadm's layout (DIR/pki/..., DIR/*.conf).
    Render(Box<RenderArgs>),
    /// Show the expiry of every certificate and CA, as `kubeadm certs check-expiration`.
    CheckExpiration(CheckExpirationArgs),
}

/// Arguments of `kbc certs render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The kubeadm configuration file.
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// Cluster secrets file (`kbc secrets generate`); without it a one-off random seed is
    /// used and the output is not reproducible.
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// Issue time (RFC 3339); default: SOURCE_DATE_EPOCH, else now.
    #[arg(long, value_name = "TIME")]
    pub issued_at: Option<String>,
    /// An existing certificates dir in kubeadm's layout to reuse (kubeconfigs are read
    /// from its parent directory).
    /// (Exactly one of --pki-dir and --bundle.)
    #[arg(long, value_name = "DIR")]
    pub pki_dir: Option<PathBuf>,
    /// Output directory (must not already hold any of the files).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    #[command(flatten)]
    pub node: super::node::NodeArgs,
}

/// Arguments of `kbc certs check-expiration`.
#[derive(Debug, clap::Args)]
pub struct CheckExpirationArgs {
    /// A certificates dir in kubeadm's layout (kubeconfigs are read from its parent).
    /// (Exactly one of --pki-dir and --bundle.)
    #[arg(long, value_name = "DIR")]
    pub pki_dir: Option<PathBuf>,
    /// A bundle (`kbc compile`): its certificates dir is the one holding
    /// `front-proxy-ca.crt`, kubeconfigs are `etc/kubernetes/*.conf`.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Count residual time from this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
    /// text: kubeadm's two tables; json: kubeadm's `CertificateExpirationInfo`
    /// (output.kubeadm.k8s.io/v1alpha3), as `kubeadm certs check-expiration -o json`.
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "output-format",
        value_enum,
        default_value_t
    )]
    pub output: kbc_bundle::cli::OutputFormat,
}

/// Loads `--secrets`, or makes a one-off random seed with a warning on stderr.
pub(crate) fn load_secrets(path: Option<&Path>) -> Result<Secrets, Exit> {
    match path {
        Some(p) => crate::edge::load_secrets(p).map_err(|e| refuse(&e)),
        None => {
            errln!(
                "warning: no --secrets given: using a one-off random seed; the output is not reproducible"
            );
            Secrets::generate().map_err(|e| refuse(&std::io::Error::other(e.to_string())))
        }
    }
}

/// `kbc certs render` once CONFIG has become a [`PkiInput`].
pub(crate) fn render(args: &RenderArgs, input: &PkiInput) -> Result<(), Exit> {
    let secrets = load_secrets(args.secrets.as_deref())?;
    let at = crate::edge::issue_time(args.issued_at.as_deref()).map_err(|e| refuse(&e))?;
    let provided = match &args.pki_dir {
        Some(d) => crate::edge::read_pki_dir(d, input).map_err(|e| refuse(&e))?,
        None => Provided::default(),
    };
    let keys = pki::KeyCache::new(crate::edge::key_threads());
    let out = secrets
        .pki(&provided)
        .and_then(|s| pki::render(input, &s, at, &keys))
        .map_err(|e| refuse(&e))?;
    for w in &out.warnings {
        errln!("warning: {w}");
    }
    crate::edge::write_kubeadm_layout(&out, &args.output).map_err(|e| refuse(&e))?;
    errln!(
        "wrote {} files to {}",
        out.artifacts.len(),
        args.output.display()
    );
    super::out(&format!(
        "discovery-token-ca-cert-hash: {}\n",
        out.discovery_token_ca_cert_hash
    ))?;
    Ok(())
}

/// `kbc certs check-expiration`.
pub(crate) fn check_expiration(args: &CheckExpirationArgs) -> Result<(), Exit> {
    let now = match &args.now {
        Some(s) => IssueTime::parse_rfc3339(s).map_err(|e| refuse(&e))?,
        None => crate::edge::issue_time(None).map_err(|e| refuse(&e))?,
    };
    let provided = match (&args.pki_dir, &args.bundle) {
        (Some(_), Some(_)) => {
            errln!("error: give either --pki-dir or --bundle, not both");
            return Err(Exit(super::EXIT_USAGE));
        }
        (Some(dir), None) => {
            // Every file name, etcd included; absent files are simply missing.
            let names_of = PkiInput::new("node", std::net::IpAddr::from([127, 0, 0, 1]));
            crate::edge::read_pki_dir(dir, &names_of).map_err(|e| refuse(&e))?
        }
        (None, Some(file)) => provided_from_bundle(file)?,
        (None, None) => {
            errln!("error: give --pki-dir DIR or --bundle FILE");
            return Err(Exit(super::EXIT_USAGE));
        }
    };
    let report = expiration::report(&provided).map_err(|e| refuse(&e))?;
    super::out(&match args.output {
        kbc_bundle::cli::OutputFormat::Text => expiration::render_text(&report, now.at()),
        kbc_bundle::cli::OutputFormat::Json => expiration::render_json(&report, now.at()),
    })?;
    Ok(())
}

/// Why a bundle cannot be read for `check-expiration`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BundleReadError {
    /// The file cannot be read.
    #[error("{file}: cannot read the bundle")]
    Io {
        /// The bundle.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// It is not a valid bundle.
    #[error("{file}: not a valid bundle")]
    Invalid {
        /// The bundle.
        file: String,
        /// The cause.
        #[source]
        source: kbc_bundle::VerifyError,
    },
    /// No certificates dir in it.
    #[error("{file}: the bundle holds no front-proxy-ca.crt, so no certificates dir")]
    NoPki {
        /// The bundle.
        file: String,
    },
}

/// The PKI files of a verified bundle.
pub(crate) fn provided_from_bundle(file: &Path) -> Result<Provided, Exit> {
    let name = file.display().to_string();
    let bytes = crate::edge::read_bundle(file).map_err(|source| {
        refuse(&BundleReadError::Io {
            file: name.clone(),
            source,
        })
    })?;
    let bundle = kbc_bundle::verify(&bytes, None).map_err(|source| {
        refuse(&BundleReadError::Invalid {
            file: name.clone(),
            source,
        })
    })?;
    let host: Vec<(&str, &[u8])> = bundle
        .files
        .iter()
        .filter_map(|f| f.rootfs_path().map(|p| (p, f.data.as_slice())))
        .collect();
    let cert_dir = host
        .iter()
        .find_map(|(p, _)| p.strip_suffix("/front-proxy-ca.crt"))
        .ok_or_else(|| refuse(&BundleReadError::NoPki { file: name.clone() }))?
        .to_string();
    Ok(Provided::from_host_files(
        host.iter().copied(),
        &cert_dir,
        &name,
    ))
}

/// Runs `kbc certs …`; `to_input` turns the CONFIG argument of `render` into a
/// [`PkiInput`] (the configuration front end's job).
pub(crate) fn run(
    cmd: PkiCertsCommand,
    to_input: &dyn Fn(&Path, &super::node::NodeArgs) -> Result<PkiInput, Exit>,
) -> Result<(), Exit> {
    match cmd {
        PkiCertsCommand::Render(args) => {
            let input = to_input(&args.config, &args.node)?;
            render(&args, &input)
        }
        PkiCertsCommand::CheckExpiration(args) => check_expiration(&args),
    }
}
