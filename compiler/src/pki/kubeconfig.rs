//! The five kubeconfig files of `kubeadm init phase kubeconfig all`.
//!
//! Mirrors `cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go` (`getKubeConfigSpecs`) and
//! `cmd/kubeadm/app/util/kubeconfig/kubeconfig.go` (`CreateWithCerts`). The YAML shape is
//! client-go's `clientcmd.Write` output: keys sorted at every level, block sequences at the
//! parent's indentation, `preferences: {}`, base64 data on one line.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::PkiInput;

/// Which API server URL a kubeconfig points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    /// `controlPlaneEndpoint` (or the local endpoint when it is empty).
    ControlPlane,
    /// `https://<advertiseAddress>:<bindPort>`.
    Local,
    /// kubelet.conf: control-plane endpoint, or local with ControlPlaneKubeletLocalMode.
    Kubelet,
}

/// One kubeconfig file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KubeconfigSpec {
    /// File name in `/etc/kubernetes`.
    pub file: &'static str,
    /// Client CN (a `{node}` placeholder is replaced by the node name).
    pub cn: &'static str,
    /// Client O.
    pub org: Option<&'static str>,
    /// Server URL rule.
    pub server: Server,
}

/// The five files, in the order kbc emits them.
pub(crate) const KUBECONFIGS: &[KubeconfigSpec] = &[
    KubeconfigSpec {
        file: "admin.conf",
        cn: "kubernetes-admin",
        org: Some("kubeadm:cluster-admins"),
        server: Server::ControlPlane,
    },
    KubeconfigSpec {
        file: "super-admin.conf",
        cn: "kubernetes-super-admin",
        org: Some("system:masters"),
        server: Server::ControlPlane,
    },
    KubeconfigSpec {
        file: "kubelet.conf",
        cn: "system:node:{node}",
        org: Some("system:nodes"),
        server: Server::Kubelet,
    },
    KubeconfigSpec {
        file: "controller-manager.conf",
        cn: "system:kube-controller-manager",
        org: None,
        server: Server::Local,
    },
    KubeconfigSpec {
        file: "scheduler.conf",
        cn: "system:kube-scheduler",
        org: None,
        server: Server::Local,
    },
];

/// The kubeconfigs of `input`'s node, in [`KUBECONFIGS`] order: all five on the init node;
/// no `super-admin.conf` on a joining control-plane node (only `kubeadm init` writes it);
/// a named worker only `kubelet.conf`, a generic one none (it bootstraps).
pub(crate) fn for_node(input: &PkiInput) -> impl Iterator<Item = &'static KubeconfigSpec> + '_ {
    use super::NodeRole;
    KUBECONFIGS.iter().filter(move |k| match input.role {
        NodeRole::Init => true,
        NodeRole::ControlPlaneJoin => k.file != "super-admin.conf",
        NodeRole::Worker => k.file == "kubelet.conf" && !input.node_name.is_empty(),
    })
}

impl KubeconfigSpec {
    /// The client CN (= user name).
    pub fn common_name(&self, input: &PkiInput) -> String {
        self.cn.replace("{node}", &input.node_name)
    }

    /// The server URL for `input`.
    pub fn server_url(&self, input: &PkiInput) -> String {
        match self.server {
            Server::ControlPlane => control_plane_url(input),
            Server::Local => local_url(input),
            Server::Kubelet if input.control_plane_kubelet_local_mode => local_url(input),
            Server::Kubelet => control_plane_url(input),
        }
    }
}

/// `https://` + advertise address (IPv6 bracketed) + `:` + bind port.
pub(crate) fn local_url(input: &PkiInput) -> String {
    format!(
        "https://{}",
        crate::netutil::join_host_port(&input.advertise_address.to_string(), input.bind_port)
    )
}

/// `https://` + `controlPlaneEndpoint` as written (host:port), else the local URL.
pub(crate) fn control_plane_url(input: &PkiInput) -> String {
    match &input.control_plane_endpoint {
        Some(ep) if !ep.is_empty() => format!("https://{ep}"),
        _ => local_url(input),
    }
}

#[derive(Serialize, Deserialize, Default)]
struct Cluster {
    #[serde(
        rename = "certificate-authority-data",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    ca_data: String,
    #[serde(default)]
    server: String,
}

#[derive(Serialize, Deserialize)]
struct NamedCluster {
    cluster: Cluster,
    name: String,
}

#[derive(Serialize, Deserialize)]
struct Context {
    cluster: String,
    user: String,
}

#[derive(Serialize, Deserialize)]
struct NamedContext {
    context: Context,
    name: String,
}

#[derive(Serialize, Deserialize, Default)]
struct User {
    #[serde(
        rename = "client-certificate-data",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    cert_data: String,
    #[serde(
        rename = "client-key-data",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    key_data: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    token: String,
}

#[derive(Serialize, Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: User,
}

#[derive(Serialize, Deserialize)]
struct Config {
    #[serde(rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(rename = "current-context", default)]
    current_context: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    preferences: BTreeMap<String, String>,
    #[serde(default)]
    users: Vec<NamedUser>,
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Renders a kubeconfig with embedded client certificate and key.
pub(crate) fn render(
    cluster_name: &str,
    server: &str,
    user: &str,
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Vec<u8> {
    let credentials = User {
        cert_data: b64(cert_pem),
        key_data: b64(key_pem),
        token: String::new(),
    };
    let context = format!("{user}@{cluster_name}");
    write(cluster_name, server, ca_pem, user, &context, credentials)
}

/// The user of kubeadm's TLS-bootstrap kubeconfig.
pub(crate) const BOOTSTRAP_USER: &str = "tls-bootstrap-token-user";

/// `/etc/kubernetes/bootstrap-kubelet.conf` (`cmd/kubeadm/app/cmd/phases/join/kubelet.go`): kubeadm's `CreateWithToken`
/// with the cluster entry renamed to `clusterName` and the context name left as made.
pub(crate) fn render_bootstrap(
    cluster_name: &str,
    server: &str,
    ca_pem: &[u8],
    token: &str,
) -> Vec<u8> {
    let credentials = User {
        token: token.to_string(),
        ..User::default()
    };
    let context = format!("{BOOTSTRAP_USER}@kubernetes");
    write(
        cluster_name,
        server,
        ca_pem,
        BOOTSTRAP_USER,
        &context,
        credentials,
    )
}

/// client-go's `clientcmd.Write` of a one-cluster, one-user kubeconfig.
fn write(
    cluster_name: &str,
    server: &str,
    ca_pem: &[u8],
    user: &str,
    context: &str,
    credentials: User,
) -> Vec<u8> {
    let cfg = Config {
        api_version: "v1".into(),
        clusters: vec![NamedCluster {
            cluster: Cluster {
                ca_data: b64(ca_pem),
                server: server.into(),
            },
            name: cluster_name.into(),
        }],
        contexts: vec![NamedContext {
            context: Context {
                cluster: cluster_name.into(),
                user: user.into(),
            },
            name: context.into(),
        }],
        current_context: context.into(),
        kind: "Config".into(),
        preferences: BTreeMap::new(),
        users: vec![NamedUser {
            name: user.into(),
            user: credentials,
        }],
    };
    let opts = serde_saphyr::ser_options! {
        indent_step: 2,
        compact_list_indent: true,
        folded_wrap_chars: usize::MAX,
        prefer_block_scalars: false,
    };
    let mut out = serde_saphyr::to_string_with_options(&cfg, opts)
        .expect("a kubeconfig of plain strings always serializes");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.into_bytes()
}

/// What kbc reads back from an existing kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Server URL of the current context's cluster.
    pub server: String,
    /// Decoded `certificate-authority-data` of that cluster.
    pub ca_data: Vec<u8>,
    /// Decoded `client-certificate-data` of the current context's user (may be empty).
    pub client_cert: Vec<u8>,
    /// Decoded `client-key-data` (may be empty).
    pub client_key: Vec<u8>,
}

/// Reads the current context of a kubeconfig.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let options = serde_saphyr::options! { with_snippet: false };
    // A kubeconfig holds a private key (and maybe a token): never quote it.
    let cfg: Config = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let at = e.location().map(|l| (l.line(), l.column()));
        kbc_bundle::leak::parse_error(e.to_string(), at, text, "kubeconfig")
    })?;
    let ctx = cfg
        .contexts
        .iter()
        .find(|c| c.name == cfg.current_context)
        .ok_or_else(|| format!("current context {:?} not found", cfg.current_context))?;
    let cluster = cfg
        .clusters
        .iter()
        .find(|c| c.name == ctx.context.cluster)
        .ok_or_else(|| format!("cluster {:?} not found", ctx.context.cluster))?;
    let user = cfg.users.iter().find(|u| u.name == ctx.context.user);
    let dec = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("bad base64: {e}"))
    };
    Ok(Parsed {
        server: cluster.cluster.server.clone(),
        ca_data: dec(&cluster.cluster.ca_data)?,
        client_cert: user
            .map(|u| dec(&u.user.cert_data))
            .transpose()?
            .unwrap_or_default(),
        client_key: user
            .map(|u| dec(&u.user.key_data))
            .transpose()?
            .unwrap_or_default(),
    })
}
