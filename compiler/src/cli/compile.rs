//! `kbc compile CONFIG -o bundle.tgz`: validate, compile, write the bundle atomically (0600),
//! print its digest and a short summary.

use super::certs::{load_secrets, resolve_issue_time};
use super::config::load_source;
use super::init_flags::InitFlags;
use super::node::NodeArgs;
use super::{refuse, Exit, EXIT_REFUSED};
use crate::compile::{self, CompileOptions};
use crate::pki::Provided;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The kubeadm configuration file (`-` for standard input); without one, the kubeadm init
    /// flags below describe the cluster, as with `kubeadm init` without `--config`.
    #[arg(id = "config_file", value_name = "CONFIG")]
    pub config: Option<String>,
    /// Where to write the bundle (written to a temporary file, then renamed; mode 0600).
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Cluster secrets file (`kbc secrets generate`); without it the bundle is not reproducible.
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Reuse the certificates and kubeconfigs of an existing kubeadm certificates dir.
    #[arg(long)]
    pub pki_dir: Option<PathBuf>,
    /// Issue time (RFC 3339); default SOURCE_DATE_EPOCH, else now.
    #[arg(long)]
    pub issued_at: Option<String>,
    /// Print the join commands with the token secret instead of masking it.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub init: InitFlags,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Loads and validates the configuration (CONFIG, `--config`, or the kubeadm init flags)
/// with the node facts, and the patches (`--patches DIR`, else `patches.directory`); prints
/// warnings.
pub fn load_cluster(
    config: Option<&str>,
    init: &InitFlags,
    node: &NodeArgs,
) -> Result<(crate::config::Cluster, crate::render::patches::PatchSet), Exit> {
    let src = init.source(config)?;
    let loaded = load_source(&src, node, init.skip_phases.clone())?;
    for w in loaded.warnings.warnings() {
        eprintln!("{w}");
    }
    let cluster = loaded.cluster;
    let patch_dir = init.patches.clone().or_else(|| {
        cluster
            .init
            .patches
            .as_ref()
            .filter(|p| !p.directory.is_empty())
            .map(|p| PathBuf::from(&p.directory))
    });
    let patches = match &patch_dir {
        Some(dir) => crate::render::patches::load_patches(dir).map_err(|e| refuse(&e))?,
        None => Default::default(),
    };
    for ignored in patches.ignored() {
        eprintln!(
            "warning: patches: ignoring {}: {}",
            ignored.path.display(),
            ignored.reason
        );
    }
    Ok((cluster, patches))
}

/// The compile options the kubeadm init flags set (besides the configuration).
pub fn init_options(init: &InitFlags, opts: &mut CompileOptions) {
    opts.upload_certs = init.upload_certs;
    opts.skip_token_print = init.skip_token_print;
    opts.skip_certificate_key_print = init.skip_certificate_key_print;
}

pub fn run(a: CompileArgs) -> Result<(), Exit> {
    let (cluster, patches) = load_cluster(a.config.as_deref(), &a.init, &a.node)?;
    let secrets = load_secrets(a.secrets.as_deref())?;
    let at = resolve_issue_time(a.issued_at.as_deref()).map_err(|e| refuse(&e))?;
    let provided = match &a.pki_dir {
        Some(d) => Provided::read_pki_dir(d, &cluster.pki_input()).map_err(|e| refuse(&e))?,
        None => Provided::default(),
    };
    let mut opts = CompileOptions {
        provided,
        patches,
        ..CompileOptions::default()
    };
    a.node.apply_host(&mut opts);
    init_options(&a.init, &mut opts);
    let compiled = compile::compile(&cluster, &secrets, at, &opts).map_err(|e| refuse(&e))?;
    for w in &compiled.warnings {
        eprintln!("warning: {w}");
    }
    let (bytes, digest) = kbc_bundle::write(
        compiled.manifest.clone(),
        compiled.files.clone(),
        at.unix().max(0) as u64,
    )
    .map_err(|e| refuse(&e))?;
    crate::fsutil::write_atomic(&a.output, &bytes, 0o600).map_err(|e| {
        eprintln!("error: cannot write {}: {e}", a.output.display());
        Exit(EXIT_REFUSED)
    })?;
    super::out(&format!("{digest}\n"))?;
    let key_hex = crate::render::upload_certs::certificate_key_hex(&compile::certificate_key(
        &cluster, &secrets,
    ));
    super::out(&summary(&cluster, &compiled, &a, bytes.len(), &key_hex))?;
    Ok(())
}

fn summary(
    cluster: &crate::config::Cluster,
    c: &compile::Compiled,
    a: &CompileArgs,
    size: usize,
    certificate_key_hex: &str,
) -> String {
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("{k:<20}{v}\n"));
    line(
        &mut out,
        "bundle",
        format!(
            "{} ({size} bytes, {} files)",
            a.output.display(),
            c.files.len() + 1
        ),
    );
    line(&mut out, "node", cluster.node_name.clone());
    line(&mut out, "endpoint", format!("https://{}", c.endpoint));
    line(&mut out, "kubernetes", cluster.version.to_string());
    let count = |prefix: &str| {
        c.files
            .iter()
            .filter(|f| f.path.starts_with(prefix))
            .count()
    };
    line(
        &mut out,
        "contents",
        format!(
            "{} PKI files, {} kubeconfigs, {} static Pods, {} API files",
            c.pki
                .artifacts
                .iter()
                .filter(|a| a.kubeadm_path.starts_with("pki/"))
                .count(),
            c.files
                .iter()
                .filter(
                    |f| f.path.starts_with("rootfs/etc/kubernetes/") && f.path.ends_with(".conf")
                )
                .count(),
            count("rootfs/etc/kubernetes/manifests/"),
            count("api/"),
        ),
    );
    // The earliest NotAfter, read from the certificates themselves (reused ones included).
    let expiry = |ca: bool| {
        c.pki
            .artifacts
            .iter()
            .filter(|a| a.kubeadm_path.ends_with(".crt"))
            .filter_map(|a| {
                crate::pki::x509::parse_pem_chain(&a.bytes)
                    .ok()?
                    .first()?
                    .info()
                    .ok()
            })
            .filter(|info| info.is_ca == ca)
            .map(|info| info.not_after)
            .min()
            .and_then(|t| crate::pki::IssueTime::from_unix(t.unix_timestamp()).ok())
            .map_or_else(|| "-".into(), compile::rfc3339)
    };
    line(&mut out, "certificates expire", expiry(false));
    line(&mut out, "CAs expire", expiry(true));
    for t in &c.tokens {
        let token = if a.show_secrets {
            format!("{}.{}", t.id, t.secret)
        } else {
            compile::masked(t)
        };
        let join = format!(
            "kubeadm join {} --token {token} --discovery-token-ca-cert-hash {}",
            c.endpoint, c.pki.discovery_token_ca_cert_hash
        );
        out.push_str(&format!("join (worker)       {join}\n"));
        // kubeadm offers the control-plane join only with a controlPlaneEndpoint.
        if cluster.control_plane_endpoint.is_some() {
            let key = match (a.init.upload_certs, a.show_secrets) {
                (false, _) => String::new(),
                (true, true) => format!(" --certificate-key {}", certificate_key_hex),
                (true, false) => format!(" --certificate-key {}", "*".repeat(64)),
            };
            out.push_str(&format!(
                "join (control plane) {join} --control-plane{key}\n"
            ));
        }
    }
    out
}
