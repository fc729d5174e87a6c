//! `kbc compile CONFIG -o bundle.tgz`: validate, compile, write the bundle atomically (0600),
//! print its digest and a short summary.

mod cluster;

use super::certs::load_secrets;
use super::inputs::{ClusterInputs, Resolved};
use super::{refuse, Exit, EXIT_REFUSED};
use crate::compile::{self, CompileOptions};
use crate::pki::{IssueTime, KeyCache};
use crate::secrets::Secrets;
use clap::Args;
use kbc_bundle::cli::OutputFormat;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The kubeadm configuration file (`-` for standard input); without one, the kubeadm init
    /// flags below describe the cluster, as with `kubeadm init` without `--config`.
    #[arg(id = "config_file", value_name = "CONFIG")]
    pub config: Option<String>,
    /// Where to write the bundle (written to a temporary file, then renamed; mode 0600). For
    /// a cluster file (JoinConfiguration documents): the directory that receives
    /// `<node>.tgz` for every node and `cluster.json`, or with --node the one bundle.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Compile only this node of a cluster file (its name, or generic-worker-N).
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Issue time (RFC 3339); default SOURCE_DATE_EPOCH, else now.
    #[arg(long)]
    pub issued_at: Option<String>,
    /// Print the join commands with the token secret instead of masking it.
    #[arg(long)]
    pub show_secrets: bool,
    /// The summary as text, or as one `CompileSummary` JSON document (docs/json-output.md).
    /// (`--output` is the bundle's path here.)
    #[arg(long, value_enum, default_value_t)]
    pub output_format: OutputFormat,
    #[command(flatten)]
    pub inputs: ClusterInputs,
}

pub(crate) fn run(a: CompileArgs) -> Result<(), Exit> {
    let job = Job::new(&a, None)?;
    job.resolved.warn();
    if let Some(note) = job.secrets_note(&a) {
        errln!("{note}");
    }
    let done = job.write(&a)?;
    for w in &done.warnings {
        errln!("{w}");
    }
    super::out(&done.summary)
}

/// What a compile wrote, to be told: its warnings (for standard error) and its summary
/// (for standard output).
pub struct Done {
    pub warnings: Vec<String>,
    pub summary: String,
}

/// What `kbc compile` works from once its flags are resolved: the validated cluster, the
/// secrets, the issue time and the options.
pub struct Job {
    pub resolved: Resolved,
    pub secrets: Secrets,
    pub at: IssueTime,
    pub opts: CompileOptions,
}

impl Job {
    /// Reads and checks everything `a` names; prints nothing (see `run` for what the
    /// command says). `keys`: keys already derived in this process,
    /// to derive each key once (the tests compile many bundles from one seed in one
    /// process); `None` derives afresh on `KBC_THREADS` threads.
    pub fn new(a: &CompileArgs, keys: Option<Arc<KeyCache>>) -> Result<Job, Exit> {
        let resolved = a.inputs.resolve(a.config.as_deref())?;
        let secrets = load_secrets(a.inputs.secrets.as_deref())?;
        let at = crate::edge::issue_time(a.issued_at.as_deref()).map_err(|e| refuse(&e))?;
        let opts = CompileOptions {
            threads: crate::edge::key_threads(),
            keys,
            ..resolved.options.clone()
        };
        Ok(Job {
            resolved,
            secrets,
            at,
            opts,
        })
    }

    /// What compile says about a secrets file without `caIssuedAt`.
    pub fn secrets_note(&self, a: &CompileArgs) -> Option<String> {
        (self.secrets.ca_issued_at.is_none() && a.inputs.secrets.is_some()).then(|| format!(
            "note: {} has no caIssuedAt: the CA certificates start at the issue time, so a bundle compiled with another --issued-at carries other CA certificates (kbc secrets generate records caIssuedAt)",
            self.secrets.origin
        ))
    }

    /// Compiles and writes what `a` asks for: the one bundle, or every node's bundle of a
    /// cluster file and `cluster.json` (docs/clusters.md).
    pub fn write(&self, a: &CompileArgs) -> Result<Done, Exit> {
        let r = &self.resolved;
        let single =
            r.joins.is_empty() && a.node.as_ref().is_none_or(|n| *n == r.cluster.node_name());
        if !single {
            return cluster::write(a, self);
        }
        let (compiled, bytes, digest) = self.init_bundle()?;
        write_output(&a.output, &bytes, 0o600)?;
        let key_hex = crate::render::upload_certs::certificate_key_hex(&compiled.certificate_key);
        let summary = Summary::new(&r.cluster, &compiled, a, (&digest, bytes.len()), &key_hex);
        Ok(Done {
            warnings: compiled
                .warnings
                .iter()
                .map(|w| format!("warning: {w}"))
                .collect(),
            summary: summary.render(a.output_format),
        })
    }

    /// The init node's bundle (of a cluster file too: docs/clusters.md) and its digest.
    pub fn init_bundle(&self) -> Result<(compile::Compiled, Vec<u8>, String), Exit> {
        let compiled = compile::compile(&self.resolved.cluster, &self.secrets, self.at, &self.opts)
            .map_err(|e| refuse(&e))?;
        let (bytes, digest) = self.bundle_bytes(&compiled)?;
        Ok((compiled, bytes, digest))
    }

    /// A compiled node as bundle bytes (entries dated at the issue time) and their digest.
    fn bundle_bytes(&self, compiled: &compile::Compiled) -> Result<(Vec<u8>, String), Exit> {
        kbc_bundle::write(
            compiled.manifest.clone(),
            compiled.files.clone(),
            self.at.unix().max(0) as u64,
        )
        .map_err(|e| refuse(&e))
    }
}

/// Writes one output file atomically with `mode`; a failure is exit 1, named.
pub(crate) fn write_output(path: &std::path::Path, bytes: &[u8], mode: u32) -> Result<(), Exit> {
    crate::edge::write_atomic(path, bytes, mode).map_err(|e| {
        errln!("error: cannot write {}: {e}", path.display());
        Exit(EXIT_REFUSED)
    })
}

/// What `kbc compile` prints after writing the bundle: the text summary, or the
/// `CompileSummary` document of docs/json-output.md.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    api_version: &'static str,
    kind: &'static str,
    digest: String,
    bundle: BundleFacts,
    pub(crate) node: String,
    /// `https://HOST:PORT`.
    endpoint: String,
    kubernetes_version: String,
    contents: Contents,
    /// The earliest NotAfter of the leaf certificates / of the CAs (RFC 3339; `-` if none).
    certificates_expire: String,
    cas_expire: String,
    /// One entry per bootstrap token.
    join: Vec<JoinCommands>,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleFacts {
    path: String,
    size: usize,
    /// Files in the bundle, manifest included.
    files: usize,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Contents {
    pki_files: usize,
    kubeconfigs: usize,
    static_pods: usize,
    api_files: usize,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JoinCommands {
    worker: String,
    /// Only with a controlPlaneEndpoint, as kubeadm offers it.
    control_plane: Option<String>,
}

impl Summary {
    pub(crate) fn new(
        cluster: &crate::config::Cluster,
        c: &compile::Compiled,
        a: &CompileArgs,
        written: (&str, usize),
        certificate_key_hex: &str,
    ) -> Summary {
        let (digest, size) = written;
        let count = |prefix: &str| {
            c.files
                .iter()
                .filter(|f| f.path.starts_with(prefix))
                .count()
        };
        let contents = Contents {
            pki_files: c
                .pki
                .artifacts
                .iter()
                .filter(|a| a.kubeadm_path.starts_with("pki/"))
                .count(),
            kubeconfigs: c
                .files
                .iter()
                .filter(|f| {
                    f.path.starts_with("rootfs/etc/kubernetes/") && f.path.ends_with(".conf")
                })
                .count(),
            static_pods: count("rootfs/etc/kubernetes/manifests/"),
            api_files: count("api/"),
        };
        Summary {
            api_version: kbc_bundle::cli::OUTPUT_API_VERSION,
            kind: "CompileSummary",
            digest: digest.to_string(),
            bundle: BundleFacts {
                path: a.output.display().to_string(),
                size,
                files: c.files.len() + 1,
            },
            node: cluster.node_name().to_string(),
            endpoint: format!("https://{}", c.endpoint),
            kubernetes_version: cluster.version.to_string(),
            contents,
            certificates_expire: earliest_expiry(c, false),
            cas_expire: earliest_expiry(c, true),
            join: join_commands(cluster, c, a, certificate_key_hex),
        }
    }

    /// The summary in the format `--output-format` asks for.
    pub(crate) fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Text => self.to_text(),
            OutputFormat::Json => kbc_bundle::cli::to_json(self),
        }
    }

    /// The text: the digest on its own line, then `key  value` lines.
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.digest);
        let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<20}{v}\n"));
        let b = &self.bundle;
        line(
            "bundle",
            &format!("{} ({} bytes, {} files)", b.path, b.size, b.files),
        );
        line("node", &self.node);
        line("endpoint", &self.endpoint);
        line("kubernetes", &self.kubernetes_version);
        let n = &self.contents;
        line(
            "contents",
            &format!(
                "{} PKI files, {} kubeconfigs, {} static Pods, {} API files",
                n.pki_files, n.kubeconfigs, n.static_pods, n.api_files
            ),
        );
        line("certificates expire", &self.certificates_expire);
        line("CAs expire", &self.cas_expire);
        for j in &self.join {
            out.push_str(&format!("join (worker)       {}\n", j.worker));
            if let Some(cp) = &j.control_plane {
                out.push_str(&format!("join (control plane) {cp}\n"));
            }
        }
        out
    }
}

/// The earliest NotAfter of the CAs or of the leaves, read from the certificates themselves
/// (reused ones included).
fn earliest_expiry(c: &compile::Compiled, ca: bool) -> String {
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
        .map_or_else(|| "-".into(), IssueTime::to_rfc3339)
}

/// kubeadm's join commands, the token secret masked unless `--show-secrets`.
fn join_commands(
    cluster: &crate::config::Cluster,
    c: &compile::Compiled,
    a: &CompileArgs,
    certificate_key_hex: &str,
) -> Vec<JoinCommands> {
    let mut out = Vec::new();
    for t in &c.tokens {
        let token = if a.show_secrets {
            t.value()
        } else {
            compile::masked(t)
        };
        let worker = format!(
            "kubeadm join {} --token {token} --discovery-token-ca-cert-hash {}",
            c.endpoint, c.pki.discovery_token_ca_cert_hash
        );
        // kubeadm offers the control-plane join only with a controlPlaneEndpoint.
        let control_plane = cluster.control_plane_endpoint.as_ref().map(|_| {
            let key = match (a.inputs.init.upload_certs, a.show_secrets) {
                (false, _) => String::new(),
                (true, true) => format!(" --certificate-key {certificate_key_hex}"),
                (true, false) => format!(" --certificate-key {}", "*".repeat(64)),
            };
            format!("{worker} --control-plane{key}")
        });
        out.push(JoinCommands {
            worker,
            control_plane,
        });
    }
    out
}
