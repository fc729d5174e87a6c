//! `kbc secrets generate`: writes a cluster secrets file (see [`crate::secrets`]).

use std::path::PathBuf;

use clap::Subcommand;

use super::{refuse, Exit};
use crate::edge::read_input_text as read;
use crate::secrets::{ca_pair, external_etcd, sa_pair, InputFileError, Secrets};

/// `kbc secrets …`
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Write a new cluster secrets file: a random 256-bit seed, plus any CA or
    /// service-account key pairs given (mode 0600; an existing file is kept unless --force).
    Generate(GenerateArgs),
}

/// Arguments of `kbc secrets generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Where to write the file.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "secrets.yaml"
    )]
    pub output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// When the cluster's CAs start (RFC 3339), recorded as `caIssuedAt`; default
    /// SOURCE_DATE_EPOCH, else now. Every bundle compiled from the file carries the same
    /// CA certificates, whatever its --issued-at.
    #[arg(long, value_name = "RFC3339")]
    pub ca_issued_at: Option<String>,
    /// Cluster CA certificate (PEM), like kubeadm's ca.crt.
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,
    /// Cluster CA private key (PEM), like kubeadm's ca.key.
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,
    /// Front-proxy CA certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "front_proxy_ca_key")]
    pub front_proxy_ca_cert: Option<PathBuf>,
    /// Front-proxy CA private key (PEM).
    #[arg(long, value_name = "FILE", requires = "front_proxy_ca_cert")]
    pub front_proxy_ca_key: Option<PathBuf>,
    /// etcd CA certificate (PEM), like kubeadm's etcd/ca.crt.
    #[arg(long, value_name = "FILE", requires = "etcd_ca_key")]
    pub etcd_ca_cert: Option<PathBuf>,
    /// etcd CA private key (PEM).
    #[arg(long, value_name = "FILE", requires = "etcd_ca_cert")]
    pub etcd_ca_key: Option<PathBuf>,
    /// Service-account signing key (PEM), like kubeadm's sa.key.
    #[arg(long, value_name = "FILE")]
    pub sa_key: Option<PathBuf>,
    /// Service-account public key (PEM), like kubeadm's sa.pub; must match --sa-key.
    #[arg(long, value_name = "FILE", requires = "sa_key")]
    pub sa_pub: Option<PathBuf>,
    /// External etcd's CA certificate (PEM), the file etcd.external.caFile names.
    #[arg(long, value_name = "FILE", requires_all = ["external_etcd_cert", "external_etcd_key"])]
    pub external_etcd_ca: Option<PathBuf>,
    /// External etcd client certificate (PEM), the file etcd.external.certFile names.
    #[arg(long, value_name = "FILE", requires_all = ["external_etcd_ca", "external_etcd_key"])]
    pub external_etcd_cert: Option<PathBuf>,
    /// External etcd client key (PEM), the file etcd.external.keyFile names.
    #[arg(long, value_name = "FILE", requires_all = ["external_etcd_ca", "external_etcd_cert"])]
    pub external_etcd_key: Option<PathBuf>,
}

fn build(args: &GenerateArgs) -> Result<Secrets, InputFileError> {
    let mut s = Secrets::generate().map_err(|e| InputFileError::Read {
        file: "<system random source>".into(),
        detail: e.to_string(),
    })?;
    s.ca_issued_at = Some(
        crate::edge::issue_time(args.ca_issued_at.as_deref()).map_err(|e| {
            InputFileError::Read {
                file: "--ca-issued-at".into(),
                detail: e.to_string(),
            }
        })?,
    );
    if let (Some(c), Some(k)) = (&args.ca_cert, &args.ca_key) {
        s.ca = Some(ca_pair(read(c)?, read(k)?)?);
    }
    if let (Some(c), Some(k)) = (&args.front_proxy_ca_cert, &args.front_proxy_ca_key) {
        s.front_proxy_ca = Some(ca_pair(read(c)?, read(k)?)?);
    }
    if let (Some(c), Some(k)) = (&args.etcd_ca_cert, &args.etcd_ca_key) {
        s.etcd_ca = Some(ca_pair(read(c)?, read(k)?)?);
    }
    if let Some(k) = &args.sa_key {
        let public = args.sa_pub.as_deref().map(read).transpose()?;
        s.service_account = Some(sa_pair(read(k)?, public)?);
    }
    if let (Some(ca), Some(c), Some(k)) = (
        &args.external_etcd_ca,
        &args.external_etcd_cert,
        &args.external_etcd_key,
    ) {
        s.external_etcd = Some(external_etcd(read(ca)?, read(c)?, read(k)?)?);
    }
    Ok(s)
}

/// Runs `kbc secrets …`. Nothing is written when any input is refused.
pub(crate) fn run(cmd: SecretsCommand) -> Result<(), Exit> {
    match cmd {
        SecretsCommand::Generate(args) => {
            let secrets = build(&args).map_err(|e| refuse(&e))?;
            crate::edge::write_secrets(&secrets, &args.output, args.force)
                .map_err(|e| refuse(&e))?;
            errln!(
                "wrote cluster secrets to {} (mode 0600): keep this file private and backed up",
                args.output.display()
            );
            Ok(())
        }
    }
}
