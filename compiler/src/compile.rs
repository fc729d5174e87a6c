//! `kbc compile`: a validated [`Cluster`], the cluster [`Secrets`] and the issue time in, the
//! bundle's files and manifest out (format: `bundle/src/lib.rs`). Pure: no clock, no host, no
//! environment; the caller writes the result with [`kbc_bundle::write`].
//!
//! Everything the config does not fix is derived from the seed under a versioned label
//! (`kbc-kdf-v1`): the bootstrap tokens (`kbc/v1/token/<index>`) and the upload-certs
//! certificate key (`kbc/v1/certificate-key`), next to every key of the PKI.

use crate::config::cluster::Cluster;
use crate::config::features;
use crate::config::wire::v1beta4::{BootstrapToken, Taint};
use crate::pki::{self, IssueTime, PkiOutput, Provided};
use crate::render::api::{self as api_render, ApiInput, Token};
use crate::render::manifests::HostInputs;
use crate::render::patches::{PatchError, PatchSet};
use crate::render::{join, kubelet, upload_certs};
use crate::secrets::Secrets;
use crate::yaml::ser::{join_documents, value_to_yaml};
use kbc_bundle::apply::{self, ApplyPlan};
use kbc_bundle::{Manifest, NewFile};

use crate::paths::{self, rootfs, MANIFESTS_DIR};

/// Choices of one compile beyond the configuration.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Run the upload-certs phase (`--upload-certs`).
    pub upload_certs: bool,
    /// An existing certificates dir to reuse (`--pki-dir`).
    pub provided: Provided,
    /// What kubeadm would read from the host, as explicit inputs.
    pub host: HostInputs,
    /// The node's host name, when known (`--host-name`): kubeadm writes
    /// `--hostname-override` only when it differs from the node name; unknown, kbc always does.
    pub host_name: Option<String>,
    /// Key-generation threads (the output does not depend on it; 0 counts as 1). The
    /// command line reads `KBC_THREADS` (`edge`); the library reads no environment.
    pub threads: usize,
    /// kubeadm's patches (`--patches DIR` / `patches.directory`), loaded by the caller.
    pub patches: PatchSet,
    /// `--skip-token-print`: `join/commands.txt` shows `<value withheld>` for the token.
    pub skip_token_print: bool,
    /// `--skip-certificate-key-print`: the same for the certificate key.
    pub skip_certificate_key_print: bool,
    /// Keys already derived from this compile's seed (the nodes of a cluster share one
    /// cache); without one, the PKI derives its keys on `threads` threads.
    pub keys: Option<std::sync::Arc<pki::KeyCache>>,
}

impl CompileOptions {
    /// The key cache to render with: the shared one, or a fresh one.
    pub(crate) fn key_cache(&self) -> std::sync::Arc<pki::KeyCache> {
        self.keys
            .clone()
            .unwrap_or_else(|| std::sync::Arc::new(pki::KeyCache::new(self.threads)))
    }
}

impl CompileOptions {
    /// These options as the cluster runs them: `--upload-certs` with `upload-certs` in
    /// `skipPhases` uploads nothing, so the bundle carries nothing of it.
    fn effective(&self, cluster: &Cluster) -> CompileOptions {
        let mut opts = self.clone();
        opts.upload_certs &= !kbc_bundle::phases::is_skipped(&cluster.skip_phases, "upload-certs");
        opts
    }
}

/// `abcdef.****************`: a token for output that may be shared.
pub(crate) fn masked(t: &Token) -> String {
    format!("{}.{}", t.id, "*".repeat(16))
}

const TOKEN_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `n` characters of `[a-z0-9]` from a byte source, uniformly: bytes `< 252` (= 7 × 36) pick
/// `TOKEN_CHARS[b % 36]`, larger ones are skipped (kubeadm's `bootstraputil.randBytes` rule).
/// The one definition of the token alphabet, for seeded and for random tokens.
pub(crate) fn token_chars(mut next_byte: impl FnMut() -> u8, n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let b = next_byte();
        if b < 252 {
            out.push(TOKEN_CHARS[(b % 36) as usize] as char);
        }
    }
    out
}

/// `n` token characters from the seed's stream for `label` (the low byte of each `next_u32`).
pub(crate) fn derived_chars(secrets: &Secrets, label: &str, n: usize) -> String {
    use rand_core::Rng;
    let mut rng = secrets.seed.stream(label);
    token_chars(|| (rng.next_u32() & 0xff) as u8, n)
}

/// The bootstrap tokens of the InitConfiguration, each from the config or, when the config
/// leaves it out, from the seed (kubeadm would make a random one).
pub(crate) fn resolve_tokens(cluster: &Cluster, secrets: &Secrets) -> Vec<Token> {
    cluster
        .bootstrap_tokens
        .iter()
        .enumerate()
        .map(|(i, t): (usize, &BootstrapToken)| {
            match t.token.as_deref().and_then(|s| s.split_once('.')) {
                Some((id, secret)) => Token::from_config(t, id, secret),
                None => Token::from_config(
                    t,
                    &derived_chars(secrets, &format!("kbc/v1/token/{i}/id"), 6),
                    &derived_chars(secrets, &format!("kbc/v1/token/{i}/secret"), 16),
                ),
            }
        })
        .collect()
}

/// The upload-certs key: `certificateKey` from the config, else derived from the seed.
pub(crate) fn certificate_key(cluster: &Cluster, secrets: &Secrets) -> [u8; 32] {
    cluster.certificate_key.unwrap_or_else(|| {
        let mut key = [0u8; 32];
        key.copy_from_slice(&secrets.seed.bytes("kbc/v1/certificate-key", 32));
        key
    })
}

/// What a compile produces: the files (not yet in a tar) and the manifest to write with them.
#[derive(Debug)]
pub struct Compiled {
    pub manifest: Manifest,
    pub files: Vec<NewFile>,
    pub pki: PkiOutput,
    pub tokens: Vec<Token>,
    /// `host:port` clients use: controlPlaneEndpoint, else the local endpoint.
    pub endpoint: String,
    /// The upload-certs key the bundle's `kubeadm-certs` Secret is encrypted with.
    pub certificate_key: [u8; 32],
    pub warnings: Vec<String>,
}

/// Why a compile failed after the configuration was accepted.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("cannot build the PKI")]
    Pki(#[source] pki::PkiError),
    #[error("cannot apply the patches")]
    Patch(#[source] PatchError),
    #[error("cannot build the upload-certs objects")]
    UploadCerts(#[source] upload_certs::UploadCertsError),
    /// upload-certs with external etcd uploads the client files, which only the secrets
    /// file can give kbc.
    /// A JoinConfiguration's `discovery` that does not describe this cluster.
    #[error("{node}: {detail}")]
    Discovery { node: String, detail: String },
    #[error("upload-certs with external etcd uploads the files etcd.external names ({files}); give them in the secrets file (kbc secrets generate --external-etcd-ca F --external-etcd-cert F --external-etcd-key F)")]
    ExternalEtcdFilesMissing { files: String },
}

/// One client file of an external etcd ([`external_etcd_files`]).
#[derive(Debug, Clone)]
pub(crate) struct ExternalFile {
    /// The host path `etcd.external` names.
    pub path: String,
    /// Its upload-certs data key (`external-etcd.key`, ...).
    pub key: &'static str,
    pub data: Vec<u8>,
    pub mode: u32,
}

/// The bundle files of [`external_etcd_files`].
pub(crate) fn external_etcd_bundle_files(external: &[ExternalFile]) -> Vec<NewFile> {
    external
        .iter()
        .map(|f| NewFile {
            path: rootfs(&f.path),
            mode: f.mode,
            secret: f.mode == 0o600,
            data: f.data.clone(),
        })
        .collect()
}

/// External etcd's client files, from the
/// secrets file: installed at the paths `etcd.external` names (the key 0600) and uploaded by
/// upload-certs. A path left empty (etcd without TLS) has no file. Without the files in the
/// secrets file nothing is installed (the node has them), and upload-certs is refused.
pub(crate) fn external_etcd_files(
    cluster: &Cluster,
    secrets: &Secrets,
    upload_certs: bool,
) -> Result<Vec<ExternalFile>, CompileError> {
    let Some(external) = cluster.external_etcd() else {
        return Ok(Vec::new());
    };
    let named = [
        (&external.ca_file, "external-etcd-ca.crt", 0o644),
        (&external.cert_file, "external-etcd.crt", 0o644),
        (&external.key_file, "external-etcd.key", 0o600),
    ];
    let Some(given) = &secrets.external_etcd else {
        let paths: Vec<&str> = named
            .iter()
            .map(|(p, ..)| p.as_str())
            .filter(|p| !p.is_empty())
            .collect();
        if upload_certs && !paths.is_empty() {
            return Err(CompileError::ExternalEtcdFilesMissing {
                files: paths.join(", "),
            });
        }
        return Ok(Vec::new());
    };
    let bytes = [&given.ca, &given.certificate, &given.key];
    Ok(named
        .iter()
        .zip(bytes)
        .filter(|((path, ..), _)| !path.is_empty())
        .map(|((path, key, mode), data)| ExternalFile {
            path: path.to_string(),
            key,
            data: data.as_bytes().to_vec(),
            mode: *mode,
        })
        .collect())
}

/// `host:port` clients use: controlPlaneEndpoint, else the node's local endpoint (on a
/// joining node: the init node's, whose `Cluster` it is given).
pub(crate) fn client_endpoint(cluster: &Cluster) -> String {
    cluster
        .control_plane_endpoint
        .clone()
        .unwrap_or_else(|| local_endpoint(cluster))
}

/// The local API endpoint `adv:port`.
pub(crate) fn local_endpoint(cluster: &Cluster) -> String {
    crate::netutil::join_host_port(&cluster.advertise_address.to_string(), cluster.bind_port)
}

/// The normalized, defaulted configuration: what `configSha256` hashes.
pub(crate) fn normalized_config(cluster: &Cluster) -> String {
    crate::config::documents(
        &cluster.init,
        &cluster.config,
        Some((&cluster.kubelet, &cluster.kube_proxy)),
    )
}

/// The seed- and key-dependent values that the key-independent files embed: the real ones
/// for `kbc compile`, placeholders for `kbc render` (see [`plan_bundle`]).
#[derive(Debug, Clone)]
pub(crate) struct Embedded {
    /// The bootstrap tokens.
    pub tokens: Vec<Token>,
    /// `ca.crt` as PEM.
    pub ca_pem: String,
    /// `sha256:<hex>` of the CA public key.
    pub discovery_hash: String,
    /// The upload-certs certificate key.
    pub certificate_key: [u8; 32],
    /// The upload-certs proxy token.
    pub upload_token: upload_certs::UploadToken,
    /// `(data key, bytes)` of the files the upload-certs phase encrypts.
    pub upload_files: Vec<(String, Vec<u8>)>,
    /// A CA was provided without its key (kubeadm's external CA mode).
    pub external_ca: bool,
}

/// Everything of a bundle but the PKI artifacts, and the apply plan.
#[derive(Debug)]
pub(crate) struct Assembled {
    pub files: Vec<NewFile>,
    pub plan: ApplyPlan,
    /// `host:port` clients use: controlPlaneEndpoint, else the local endpoint.
    pub endpoint: String,
}

/// The upload-certs proxy token, derived from the seed.
pub(crate) fn upload_token(secrets: &Secrets) -> upload_certs::UploadToken {
    upload_certs::UploadToken {
        id: derived_chars(secrets, "kbc/v1/upload-certs/token/id", 6),
        secret: derived_chars(secrets, "kbc/v1/upload-certs/token/secret", 16),
    }
}

/// The `(data key, bytes)` pairs of the upload-certs phase: PKI files read through `get` by
/// their kubeadm path, external etcd's client files from `external` ([`external_etcd_files`]).
pub(crate) fn upload_files(
    cluster: &Cluster,
    get: impl Fn(&str) -> Option<Vec<u8>>,
    external: &[ExternalFile],
) -> Vec<(String, Vec<u8>)> {
    upload_certs::transfer_keys(cluster.external_etcd().is_some())
        .iter()
        .filter_map(|k| {
            if let Some(f) = external.iter().find(|f| f.key == *k) {
                return Some((k.to_string(), f.data.clone()));
            }
            if k.starts_with("external-") {
                return None;
            }
            let kubeadm_path = format!("pki/{}", k.replacen("etcd-", "etcd/", 1));
            get(&kubeadm_path).map(|bytes| (k.to_string(), bytes))
        })
        .collect()
}

/// Compiles the bundle's files and manifest.
pub(crate) fn compile(
    cluster: &Cluster,
    secrets: &Secrets,
    at: IssueTime,
    opts: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let opts = &opts.effective(cluster);
    let pki_out = secrets
        .pki(&opts.provided)
        .and_then(|s| pki::render(&cluster.pki_input(), &s, at, &opts.key_cache()))
        .map_err(CompileError::Pki)?;
    let tokens = resolve_tokens(cluster, secrets);
    let external = external_etcd_files(cluster, secrets, opts.upload_certs)?;
    let mut files = Vec::new();
    for a in &pki_out.artifacts {
        files.push(NewFile {
            path: rootfs(&a.path),
            mode: a.mode,
            secret: a.secret,
            data: a.bytes.clone(),
        });
    }
    files.extend(external_etcd_bundle_files(&external));
    let ca_pem = pki_out
        .get("pki/ca.crt")
        .map(|a| String::from_utf8_lossy(&a.bytes).into_owned())
        .unwrap_or_default();
    let embedded = Embedded {
        tokens: tokens.clone(),
        ca_pem,
        discovery_hash: pki_out.discovery_token_ca_cert_hash.clone(),
        certificate_key: certificate_key(cluster, secrets),
        upload_token: upload_token(secrets),
        upload_files: if opts.upload_certs {
            upload_files(
                cluster,
                |p| pki_out.get(p).map(|a| a.bytes.clone()),
                &external,
            )
        } else {
            Vec::new()
        },
        external_ca: !pki_out.external_cas.is_empty(),
    };
    let assembled = assemble(cluster, opts, &embedded)?;
    files.extend(assembled.files);
    let manifest = manifest(cluster, &assembled.endpoint, at, &assembled.plan);
    Ok(Compiled {
        manifest,
        files,
        warnings: pki_out.warnings.clone(),
        pki: pki_out,
        tokens,
        endpoint: assembled.endpoint,
        certificate_key: embedded.certificate_key,
    })
}

/// The bundle manifest (its `files` are filled in by [`kbc_bundle::write`]).
pub(crate) fn manifest(
    cluster: &Cluster,
    endpoint: &str,
    at: IssueTime,
    plan: &ApplyPlan,
) -> Manifest {
    Manifest {
        format: kbc_bundle::FORMAT.into(),
        kbc_version: env!("CARGO_PKG_VERSION").into(),
        derivation: pki::kdf::DERIVATION.into(),
        kubernetes_version: cluster.version.to_string(),
        cluster_name: cluster.config.cluster_name.clone(),
        node_name: cluster.node_name().to_string(),
        control_plane_endpoint: endpoint.to_string(),
        issued_at: at.to_rfc3339(),
        config_sha256: kbc_bundle::sha256_hex(normalized_config(cluster).as_bytes()),
        files: Vec::new(),
        apply: serde_json::to_value(plan).expect("the apply plan serializes"),
        extra: Default::default(),
    }
}

/// A placeholder CA certificate for [`plan_bundle`]: never a valid PEM body, so it cannot be
/// mistaken for a real one.
pub(crate) const PLACEHOLDER_CA_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nkbc-render-placeholder-ca\n-----END CERTIFICATE-----\n";

/// What [`plan_bundle`] produces: the bundle without keys.
#[derive(Debug)]
pub struct Planned {
    pub manifest: Manifest,
    /// The key-independent files, with placeholders for tokens, CA and hashes.
    pub files: Vec<NewFile>,
    /// The PKI files, described without bytes; paths are bundle paths (`rootfs/...`).
    pub pki: Vec<pki::plan::PlannedFile>,
    /// The placeholder CA PEM the files embed.
    pub ca_pem: String,
    pub warnings: Vec<String>,
}

/// Plans the bundle of [`compile`] without generating a key, for the review rendering: the
/// PKI from [`pki::plan::plan`] (files given with `--pki-dir` as they are), every other
/// file through [`assemble`] as `compile` makes it, with tokens, certificate key and upload
/// token derived from an all-zero seed, and a placeholder CA (unless one is provided) and
/// discovery hash: the review rendering redacts all of them. CA pairs from a secrets file
/// are not seen here.
pub fn plan_bundle(
    cluster: &Cluster,
    opts: &CompileOptions,
    secrets: Option<&Secrets>,
) -> Result<Planned, CompileError> {
    use pki::plan::PlannedBody;
    let opts = &opts.effective(cluster);
    let input = cluster.pki_input();
    let provided = match secrets {
        Some(s) => s.provided(&opts.provided).map_err(CompileError::Pki)?,
        None => opts.provided.clone(),
    };
    let plan = pki::plan::plan(&input, &provided).map_err(CompileError::Pki)?;
    let external = match secrets {
        Some(s) => external_etcd_files(cluster, s, opts.upload_certs)?,
        None => Vec::new(),
    };
    let dummy = Secrets::from_seed([0; 32]);
    let ca_pem = match plan.get("pki/ca.crt").map(|f| &f.body) {
        Some(PlannedBody::Provided(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        _ => PLACEHOLDER_CA_PEM.to_string(),
    };
    // kubeadm's external CA mode: a CA certificate provided without its key.
    let external_ca = pki::CaId::ALL.iter().any(|id| {
        let base = id.base();
        provided.get(&format!("{base}.crt")).is_some()
            && provided.get(&format!("{base}.key")).is_none()
            && !(input.external_etcd && *id == pki::CaId::EtcdCa)
    });
    let embedded = Embedded {
        tokens: resolve_tokens(cluster, &dummy),
        ca_pem: ca_pem.clone(),
        discovery_hash: format!("sha256:{}", "0".repeat(64)),
        certificate_key: certificate_key(cluster, &dummy),
        upload_token: upload_token(&dummy),
        upload_files: if opts.upload_certs {
            // Without the secrets file the external etcd files are shown as uploaded.
            let uploaded = match secrets {
                Some(_) => external.clone(),
                None => upload_certs::transfer_keys(true)
                    .iter()
                    .filter(|k| k.starts_with("external-") && cluster.external_etcd().is_some())
                    .map(|k| ExternalFile {
                        path: String::new(),
                        key: k,
                        data: Vec::new(),
                        mode: 0o600,
                    })
                    .collect(),
            };
            upload_files(cluster, |p| plan.get(p).map(|_| Vec::new()), &uploaded)
        } else {
            Vec::new()
        },
        external_ca,
    };
    let mut assembled = assemble(cluster, opts, &embedded)?;
    assembled
        .files
        .extend(external_etcd_bundle_files(&external));
    let at = IssueTime::from_unix(0).map_err(|e| CompileError::Pki(e.into()))?;
    let manifest = manifest(cluster, &assembled.endpoint, at, &assembled.plan);
    let pki = plan
        .files
        .into_iter()
        .map(|mut f| {
            f.path = rootfs(&f.path);
            f
        })
        .collect();
    Ok(Planned {
        manifest,
        files: assembled.files,
        pki,
        ca_pem,
        warnings: plan.warnings,
    })
}

/// The bundle's files that do not hold a key: static Pods, kubelet files, API objects, join
/// files and images.txt, with the seed- and key-dependent values taken from `e`. Shared by
/// [`compile`] and [`plan_bundle`], so the review rendering shows what the bundle holds.
pub(crate) fn assemble(
    cluster: &Cluster,
    opts: &CompileOptions,
    e: &Embedded,
) -> Result<Assembled, CompileError> {
    let endpoint = client_endpoint(cluster);
    let server = format!("https://{endpoint}");
    let mut files = static_pod_files(cluster, opts, e.external_ca)?;
    files.extend(kubelet_files(cluster, opts)?);
    let api = api_files(cluster, opts, e, &server)?;
    files.extend(api.files);
    files.extend(join_files(cluster, opts, e, &endpoint, &server));
    files.push(images_file(cluster));
    let mut plan = apply_plan(cluster, &e.tokens, opts);
    plan.api_files = api.refs;
    plan.bootstrap_tokens.extend(api.upload_tokens);
    Ok(Assembled {
        files,
        plan,
        endpoint,
    })
}

/// `images.txt`: every image the cluster needs, one per line.
pub(crate) fn images_file(cluster: &Cluster) -> NewFile {
    let images: String = cluster.images().iter().map(|i| format!("{i}\n")).collect();
    NewFile {
        path: "images.txt".into(),
        mode: 0o644,
        secret: false,
        data: images.into_bytes(),
    }
}

/// The static Pods (control-plane phase, etcd/local), patched, 0600 as kubeadm writes them.
pub(crate) fn static_pod_files(
    cluster: &Cluster,
    opts: &CompileOptions,
    external_ca: bool,
) -> Result<Vec<NewFile>, CompileError> {
    let mut host = opts.host.clone();
    host.external_ca = external_ca;
    let pods = crate::render::patches::patched_static_pods(cluster, &host, &opts.patches)
        .map_err(CompileError::Patch)?;
    Ok(pods
        .into_iter()
        .map(|(name, yaml)| NewFile {
            path: rootfs(&format!("{MANIFESTS_DIR}/{name}")),
            mode: 0o600,
            secret: false,
            data: yaml.into_bytes(),
        })
        .collect())
}

/// The node's `/var/lib/kubelet/config.yaml` (patched) and `kubeadm-flags.env`.
pub(crate) fn kubelet_files(
    cluster: &Cluster,
    opts: &CompileOptions,
) -> Result<Vec<NewFile>, CompileError> {
    let config =
        kubelet::kubelet_config_yaml(cluster, &opts.patches).map_err(CompileError::Patch)?;
    let flags = kubelet::kubeadm_flags_env(
        cluster,
        &kubelet::KubeletHostInputs {
            host_name: opts.host_name.clone(),
        },
    );
    Ok([
        (crate::render::kubelet::CONFIG_FILE, config),
        (crate::render::kubelet::FLAGS_ENV_FILE, flags),
    ]
    .into_iter()
    .map(|(path, text)| NewFile {
        path: rootfs(path),
        mode: 0o644,
        secret: false,
        data: text.into_bytes(),
    })
    .collect())
}

/// The `api/` files, what the plan lists of them, and the upload-certs proxy tokens.
struct ApiFiles {
    files: Vec<NewFile>,
    /// In apply order (file order).
    refs: Vec<apply::ApiFileRef>,
    upload_tokens: Vec<apply::TokenRef>,
}

/// The API objects of every init phase, one `api/NN-<phase>.yaml` file each (CoreDNS's
/// Deployment patched), plus upload-certs' file with `--upload-certs`.
fn api_files(
    cluster: &Cluster,
    opts: &CompileOptions,
    e: &Embedded,
    server: &str,
) -> Result<ApiFiles, CompileError> {
    let api = api_render::api_objects(&ApiInput {
        cluster,
        tokens: &e.tokens,
        ca_cert_pem: &e.ca_pem,
        server,
        kubelet_user_supplied: cluster.kubelet_user_supplied,
        kube_proxy_user_supplied: cluster.kube_proxy_user_supplied,
    });
    if cluster.config.dns.disabled {
        opts.patches
            .refuse_target(
                "corednsdeployment",
                "CoreDNS is disabled, so there is no Deployment to patch",
            )
            .map_err(CompileError::Patch)?;
    }
    let mut out = ApiFiles {
        files: Vec::new(),
        refs: Vec::new(),
        upload_tokens: Vec::new(),
    };
    for f in api {
        out.refs.push(apply::ApiFileRef {
            path: f.name.clone(),
            phase: f.phase.to_string(),
        });
        let mut docs = Vec::new();
        for object in f.objects {
            let object = if object["kind"] == "Deployment" && f.phase == "addon/coredns" {
                opts.patches
                    .apply_coredns_deployment(object)
                    .map_err(CompileError::Patch)?
            } else {
                object
            };
            docs.push(value_to_yaml(&object));
        }
        out.files.push(NewFile {
            path: f.name,
            mode: if f.secret { 0o600 } else { 0o644 },
            secret: f.secret,
            data: join_documents(docs).into_bytes(),
        });
    }
    if opts.upload_certs {
        upload_certs_file(cluster, e, &mut out)?;
    }
    // The apply order is the file order (api/NN-...), whatever order they were made in.
    out.refs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// upload-certs' file: the encrypted `kubeadm-certs` Secret and its proxy token.
fn upload_certs_file(
    cluster: &Cluster,
    e: &Embedded,
    out: &mut ApiFiles,
) -> Result<(), CompileError> {
    let objects = upload_certs::upload_certs_file(
        cluster,
        &e.certificate_key,
        &e.upload_files,
        &e.upload_token,
    )
    .map_err(CompileError::UploadCerts)?;
    out.refs.push(apply::ApiFileRef {
        path: upload_certs::PATH.into(),
        phase: "upload-certs".into(),
    });
    out.upload_tokens = objects
        .tokens
        .iter()
        .map(|t| apply::TokenRef {
            secret_name: t.secret_name.clone(),
            ttl_seconds: Some(t.ttl_seconds),
        })
        .collect();
    out.files.push(NewFile {
        path: upload_certs::PATH.into(),
        mode: 0o600,
        secret: true,
        data: objects.to_yaml().into_bytes(),
    });
    Ok(())
}

/// `join/commands.txt` and the worker join script, with the first bootstrap token; none
/// without a token.
fn join_files(
    cluster: &Cluster,
    opts: &CompileOptions,
    e: &Embedded,
    endpoint: &str,
    server: &str,
) -> Vec<NewFile> {
    let Some(first) = e.tokens.first() else {
        return Vec::new();
    };
    let key_hex = opts.upload_certs.then(|| {
        if opts.skip_certificate_key_print {
            join::VALUE_WITHHELD.to_string()
        } else {
            upload_certs::certificate_key_hex(&e.certificate_key)
        }
    });
    let token = if opts.skip_token_print {
        join::VALUE_WITHHELD.to_string()
    } else {
        first.value()
    };
    let commands = join::render_join_commands(&join::JoinCommandsInput {
        endpoint,
        token: &token,
        ca_hashes: &[e.discovery_hash.as_str()],
        certificate_key: key_hex.as_deref(),
        control_plane_endpoint: cluster.control_plane_endpoint.is_some(),
    });
    // Workers run the kubelet with the control plane's runtime and pause image, under
    // their own names: no hostname override, none of the control plane's extra args.
    let mut worker = cluster.clone();
    worker.node_registration.kubelet_extra_args.clear();
    let worker_flags = kubelet::kubeadm_flags_env(
        &worker,
        &kubelet::KubeletHostInputs {
            host_name: Some(cluster.node_name().to_string()),
        },
    );
    let script = join::join_worker_script(&join::JoinInput {
        server: server.to_string(),
        ca_cert_pem: e.ca_pem.clone(),
        token: first.value(),
        kubelet_config_yaml: api_render::kubelet_config_yaml(cluster),
        kubeadm_flags_env: worker_flags,
    });
    vec![
        NewFile {
            path: join::COMMANDS_PATH.into(),
            mode: 0o600,
            secret: true,
            data: commands.into_bytes(),
        },
        NewFile {
            path: join::WORKER_SCRIPT_PATH.into(),
            mode: 0o700,
            secret: true,
            data: script.into_bytes(),
        },
    ]
}

/// kubeadm's init phases that remain for the node after `skipPhases`
/// ([`kbc_bundle::phases::is_skipped`]; the phases that only write files ran at compile time).
pub(crate) fn remaining_phases(cluster: &Cluster, upload_certs: bool) -> Vec<String> {
    kbc_bundle::phases::node_phases(|p| match p.name {
        "upload-certs" => upload_certs,
        "addon/coredns" => !cluster.config.dns.disabled,
        "addon/kube-proxy" => !cluster.config.proxy.disabled,
        _ => true,
    })
    .into_iter()
    .filter(|p| !kbc_bundle::phases::is_skipped(&cluster.skip_phases, p))
    .map(str::to_string)
    .collect()
}

/// Taints as the plan carries them.
pub(crate) fn plan_taints(taints: &[Taint]) -> Vec<apply::Taint> {
    taints
        .iter()
        .map(|t| apply::Taint {
            key: t.key.clone(),
            value: t.value.clone(),
            effect: t.effect.clone(),
        })
        .collect()
}

pub(crate) fn apply_plan(cluster: &Cluster, tokens: &[Token], opts: &CompileOptions) -> ApplyPlan {
    let timeouts = &cluster.timeouts;
    let local = local_endpoint(cluster);
    let node = api_render::node_patch(cluster);
    ApplyPlan {
        phases: remaining_phases(cluster, opts.upload_certs),
        api_files: Vec::new(),
        bootstrap_tokens: tokens
            .iter()
            .map(|t| apply::TokenRef {
                secret_name: format!("bootstrap-token-{}", t.id),
                ttl_seconds: t.ttl_at_apply().map(|d| (d.nanos() / 1_000_000_000) as u64),
            })
            .collect(),
        upload_certs: opts.upload_certs,
        wait: apply::WaitPlan {
            components: wait_targets(cluster),
            kubelet_health_check_seconds: timeouts.kubelet_health_check.whole_seconds(),
            control_plane_component_health_check_seconds: timeouts
                .control_plane_component_health_check
                .whole_seconds(),
            kubernetes_api_call_seconds: timeouts.kubernetes_api_call.whole_seconds(),
        },
        node: apply::NodePlan {
            name: cluster.node_name().to_string(),
            labels: node.labels,
            annotations: node.annotations,
            taints: plan_taints(&node.taints),
        },
        preflight: preflight_plan(cluster),
        api_server: format!("https://{local}"),
        admin_kubeconfig: paths::kubernetes_file("admin.conf"),
        super_admin_kubeconfig: paths::kubernetes_file("super-admin.conf"),
        kubelet_kubeconfig: paths::kubernetes_file("kubelet.conf"),
        join: None,
    }
}

/// What wait-control-plane polls: the node's API server, and with
/// WaitForAllControlPlaneComponents the controller-manager and scheduler (kubeadm 1.31).
fn wait_targets(cluster: &Cluster) -> Vec<apply::WaitTarget> {
    let mut components = vec![apply::WaitTarget {
        name: "kube-apiserver".into(),
        url: format!("https://{}/livez", local_endpoint(cluster)),
    }];
    if cluster.feature(features::WAIT_FOR_ALL_CONTROL_PLANE_COMPONENTS) {
        components.push(apply::WaitTarget {
            name: "kube-controller-manager".into(),
            url: format!(
                "https://127.0.0.1:{}/healthz",
                paths::CONTROLLER_MANAGER_PORT
            ),
        });
        components.push(apply::WaitTarget {
            name: "kube-scheduler".into(),
            url: format!("https://127.0.0.1:{}/livez", paths::SCHEDULER_PORT),
        });
    }
    components
}

/// The inputs of a control-plane node's preflight checks.
fn preflight_plan(cluster: &Cluster) -> apply::PreflightPlan {
    let mut ports = vec![
        cluster.bind_port,
        paths::SCHEDULER_PORT,
        paths::CONTROLLER_MANAGER_PORT,
        paths::KUBELET_PORT,
    ];
    let etcd_data_dir = cluster
        .config
        .etcd
        .local
        .as_ref()
        .map(|l| l.data_dir.clone());
    if etcd_data_dir.is_some() {
        ports.extend([paths::ETCD_CLIENT_PORT, paths::ETCD_PEER_PORT]);
    }
    let nr = &cluster.node_registration;
    apply::PreflightPlan {
        kubernetes_version: cluster.version.to_string(),
        node_name: cluster.node_name().to_string(),
        cri_socket: cluster.cri_socket().to_string(),
        ports,
        manifests_dir: MANIFESTS_DIR.to_string(),
        etcd_data_dir,
        ignore_errors: nr
            .ignore_preflight_errors
            .iter()
            .map(|s| s.to_lowercase())
            .collect(),
    }
}
