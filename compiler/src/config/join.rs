//! The further nodes of a cluster file: each `JoinConfiguration` defaulted
//! (`SetDefaults_JoinConfiguration`, `SetJoinDynamicDefaults` in
//! `cmd/kubeadm/app/util/config/joinconfiguration.go`) and validated
//! (`ValidateJoinConfiguration`, `cmd/kubeadm/app/apis/kubeadm/validation/validation.go`) into a [`JoinNode`], then checked against the
//! init configuration and the other nodes. The rules of a cluster file (docs/clusters.md):
//! `discovery` may be omitted; when given it must agree with the cluster; a control-plane
//! node needs a name, an advertise address and the cluster's `controlPlaneEndpoint`; a
//! worker without a name is a generic worker (it registers under its host name).

use std::net::IpAddr;

use super::cluster::Cluster;
use super::defaults::{self, control_plane_taint};
use super::diag::Diagnostic;
use super::validate;
use super::wire::join::JoinConfiguration;
use super::wire::v1beta4::Timeouts;
use crate::pki::NodeRole;

/// kubeadm's `caCertPath` default (`DefaultCACertPath`).
pub(crate) const DEFAULT_CA_CERT_PATH: &str = "/etc/kubernetes/pki/ca.crt";

/// One further node of the cluster, defaulted and validated.
#[derive(Clone, Debug)]
pub struct JoinNode {
    /// How diagnostics name its document (`JoinConfiguration #2`).
    pub label: String,
    /// The defaulted document (v1beta4): what the bundle's `configSha256` covers.
    pub config: JoinConfiguration,
    /// `nodeRegistration.name`; empty for a generic worker.
    pub name: String,
    /// `ControlPlaneJoin` or `Worker`.
    pub role: NodeRole,
    /// A control-plane node's `localAPIEndpoint`.
    pub advertise_address: Option<IpAddr>,
    pub bind_port: u16,
}

impl JoinNode {
    /// The bundle's name: the node name, or `generic-worker-<n>` for the `n`th
    /// JoinConfiguration when it names no node.
    pub fn bundle_name(&self) -> String {
        if self.name.is_empty() {
            let n = self.label.rsplit('#').next().unwrap_or("0");
            format!("generic-worker-{n}")
        } else {
            self.name.clone()
        }
    }

    /// The etcd peer URL of a control-plane node (`https://<adv>:2380`).
    pub fn etcd_peer_url(&self) -> Option<String> {
        self.advertise_address.map(etcd_peer_url)
    }

    /// The [`Cluster`] this node's files are rendered from: the init node's, with this
    /// node's registration, endpoint, timeouts, phases and patches (`cmd/kubeadm/app/cmd/join.go`: cluster-wide
    /// values from the cluster, node values from the JoinConfiguration).
    pub fn cluster(&self, init: &Cluster, etcd_members: &[(String, String)]) -> Cluster {
        let mut c = init.clone();
        c.role = self.role;
        let nr = &self.config.node_registration;
        c.node_registration = nr.clone();
        c.timeouts = super::cluster::Timeouts::resolve(self.config.timeouts.as_ref());
        c.skip_phases = self.config.skip_phases.clone();
        c.patches_dir = (self.config.patches.as_ref())
            .map(|p| p.directory.clone())
            .filter(|d| !d.is_empty());
        c.bootstrap_tokens.clear();
        c.certificate_key = None;
        if let Some(adv) = self.advertise_address {
            c.advertise_address = adv;
            c.advertise_address_text = adv.to_string();
            c.bind_port = self.bind_port;
            if init.local_etcd().is_some() {
                c.etcd_initial_cluster = etcd_members.to_vec();
            }
        }
        c
    }
}

/// `https://<ip>:2380`, IPv6 bracketed.
pub(crate) fn etcd_peer_url(ip: IpAddr) -> String {
    crate::paths::etcd_peer_url(&ip.to_string())
}

fn err(label: &str, path: &str, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(path, msg).kind(label)
}

/// kubeadm's static and dynamic defaults of a JoinConfiguration, offline: the name is
/// trimmed and lower-cased, an empty CRI socket is kubeadm's default, a control-plane node
/// without `taints` gets the control-plane taint (a worker none), every timeout its default.
fn default_join(label: &str, c: &mut JoinConfiguration, out: &mut Vec<Diagnostic>) {
    c.api_version = super::wire::v1beta4::GROUP_VERSION.into();
    c.kind = "JoinConfiguration".into();
    if c.ca_cert_path.is_empty() {
        c.ca_cert_path = DEFAULT_CA_CERT_PATH.into();
    }
    let control_plane = c.control_plane.is_some();
    let nr = &mut c.node_registration;
    nr.name = nr.name.trim().to_lowercase();
    if nr.image_pull_policy.is_empty() {
        nr.image_pull_policy = defaults::DEFAULT_IMAGE_PULL_POLICY.into();
    }
    nr.image_pull_serial.get_or_insert(true);
    if nr.taints.is_none() && control_plane {
        nr.taints = Some(vec![control_plane_taint()]);
    }
    if nr.cri_socket.is_empty() {
        nr.cri_socket = defaults::DEFAULT_CRI_SOCKET.into();
    } else if !nr.cri_socket.contains("://") {
        out.push(
            Diagnostic::warning("nodeRegistration.criSocket", format!("Usage of CRI endpoints without URL scheme is deprecated and can cause kubelet errors in the future. Automatically prepending scheme \"unix\" to the \"criSocket\" with value \"{}\". Please update your configuration!", nr.cri_socket))
                .kind(label),
        );
        nr.cri_socket = format!("unix://{}", nr.cri_socket);
    }
    if let Some(cp) = &mut c.control_plane {
        if cp.local_api_endpoint.bind_port == 0 {
            cp.local_api_endpoint.bind_port = defaults::DEFAULT_BIND_PORT;
        }
    }
    if let Some(d) = &mut c.discovery {
        if let (true, Some(bt)) = (d.tls_bootstrap_token.is_empty(), &d.bootstrap_token) {
            d.tls_bootstrap_token = bt.token.clone();
        }
    }
    defaults::default_timeouts(c.timeouts.get_or_insert_with(Timeouts::default));
}

/// Defaults, validates and resolves every JoinConfiguration of the file; problems go to
/// `out`. `init` is the validated init node.
pub(crate) fn resolve(
    joins: &[(String, JoinConfiguration)],
    init: &Cluster,
    out: &mut Vec<Diagnostic>,
) -> Vec<JoinNode> {
    let mut nodes = Vec::new();
    for (label, doc) in joins {
        let mut doc = doc.clone();
        default_join(label, &mut doc, out);
        let before = out.iter().filter(|d| d.is_error()).count();
        validate_join(label, &doc, init, out);
        if out.iter().filter(|d| d.is_error()).count() > before {
            continue;
        }
        let endpoint = doc.control_plane.as_ref().map(|cp| &cp.local_api_endpoint);
        nodes.push(JoinNode {
            label: label.clone(),
            name: doc.node_registration.name.clone(),
            role: match endpoint {
                Some(_) => NodeRole::ControlPlaneJoin,
                None => NodeRole::Worker,
            },
            advertise_address: endpoint.and_then(|e| e.advertise_address.parse().ok()),
            bind_port: endpoint.map_or(0, |e| u16::try_from(e.bind_port).unwrap_or(0)),
            config: doc,
        });
    }
    unique(&nodes, init, out);
    nodes
}

/// `ValidateJoinConfiguration` with kbc's cluster-file rules.
fn validate_join(label: &str, c: &JoinConfiguration, init: &Cluster, out: &mut Vec<Diagnostic>) {
    validate::skip_phases(
        label,
        &c.skip_phases,
        kbc_bundle::phases::invalid_join_name(&c.skip_phases),
        "name a phase of kubeadm join, e.g. control-plane-join/mark-control-plane",
        out,
    );
    // A worker may leave its name out: a generic worker bundle (docs/clusters.md); a
    // control-plane node's missing name is reported by `control_plane`.
    validate::node_registration(label, &c.node_registration, false, out);
    if !c.ca_cert_path.starts_with('/') || !c.ca_cert_path.ends_with(".crt") {
        out.push(
            err(
                label,
                "caCertPath",
                "the ca certificate path must be an absolute path",
            )
            .hint("an absolute path ending in .crt, e.g. /etc/kubernetes/pki/ca.crt"),
        );
    }
    if let Some(d) = &c.discovery {
        discovery(label, d, init, out);
    }
    if let Some(cp) = &c.control_plane {
        control_plane(label, c, cp, init, out);
    }
}

fn control_plane(
    label: &str,
    c: &JoinConfiguration,
    cp: &super::wire::join::JoinControlPlane,
    init: &Cluster,
    out: &mut Vec<Diagnostic>,
) {
    if c.node_registration.name.is_empty() {
        out.push(
            err(
                label,
                "nodeRegistration.name",
                "a control-plane node needs a name",
            )
            .hint("set nodeRegistration.name; only a worker may leave it out"),
        );
    }
    if init.control_plane_endpoint.is_none() {
        out.push(
            err(label, "controlPlane", "unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address")
                .hint("set controlPlaneEndpoint in the ClusterConfiguration (a load balancer or DNS name in front of every API server)"),
        );
    }
    validate::local_api_endpoint(label, "controlPlane.", &cp.local_api_endpoint, out);
    validate::certificate_key(
        label,
        "controlPlane.certificateKey",
        &cp.certificate_key,
        out,
    );
}

/// A `discovery` given in a cluster file must describe this cluster.
fn discovery(
    label: &str,
    d: &super::wire::join::Discovery,
    init: &Cluster,
    out: &mut Vec<Diagnostic>,
) {
    if d.file.is_some() {
        out.push(
            err(label, "discovery.file", "file discovery is not used in a cluster file")
                .hint("kbc already knows the cluster's CA and endpoint: remove discovery (or use bootstrapToken)"),
        );
    }
    let Some(bt) = &d.bootstrap_token else {
        return;
    };
    let base = "discovery.bootstrapToken";
    if bt.ca_cert_hashes.is_empty() && !bt.unsafe_skip_ca_verification {
        out.push(err(label, &format!("{base}.caCertHashes"), "using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue"));
    }
    let explicit: Vec<&str> = init
        .bootstrap_tokens
        .iter()
        .filter_map(|t| t.token.as_deref())
        .collect();
    if !explicit.contains(&bt.token.as_str()) {
        out.push(
            err(label, &format!("{base}.token"), "the token is not one of the InitConfiguration's bootstrapTokens")
                .hint("remove discovery (kbc uses the cluster's first bootstrap token), or use a token listed in bootstrapTokens"),
        );
    }
    if !d.tls_bootstrap_token.is_empty() && d.tls_bootstrap_token != bt.token {
        out.push(
            err(label, "discovery.tlsBootstrapToken", "the TLS bootstrap token differs from the discovery token")
                .hint("kbc bundles bootstrap with the cluster's first bootstrap token: remove tlsBootstrapToken"),
        );
    }
    let local = crate::netutil::join_host_port(&init.advertise_address.to_string(), init.bind_port);
    let known = [init.control_plane_endpoint.clone(), Some(local)];
    if !bt.api_server_endpoint.is_empty()
        && !known.iter().flatten().any(|k| *k == bt.api_server_endpoint)
    {
        out.push(
            err(
                label,
                &format!("{base}.apiServerEndpoint"),
                format!(
                    "{:?} is neither the controlPlaneEndpoint nor the init node's address",
                    bt.api_server_endpoint
                ),
            )
            .hint(format!(
                "use {} (or remove discovery)",
                known.iter().flatten().next().cloned().unwrap_or_default()
            )),
        );
    }
}

/// Two nodes with the same name, advertise address or etcd peer URL: an error naming both
/// documents.
fn unique(nodes: &[JoinNode], init: &Cluster, out: &mut Vec<Diagnostic>) {
    let mut names: Vec<(&str, String)> = vec![("InitConfiguration", init.node_name().to_string())];
    let mut addresses: Vec<(&str, String)> =
        vec![("InitConfiguration", init.advertise_address.to_string())];
    for n in nodes {
        let name = (!n.name.is_empty()).then(|| n.name.clone());
        let address = n.advertise_address.map(|a| a.to_string());
        let what = [
            ("nodeRegistration.name", &mut names, name, "name"),
            (
                "controlPlane.localAPIEndpoint.advertiseAddress",
                &mut addresses,
                address,
                "advertise address (and so etcd peer URL)",
            ),
        ];
        for (path, seen, value, noun) in what {
            let Some(value) = value else { continue };
            if let Some((first, _)) = seen.iter().find(|(_, v)| *v == value) {
                out.push(
                    err(
                        &n.label,
                        path,
                        format!("{value:?} is also the {noun} of the {first} document"),
                    )
                    .hint("every node needs its own name, address and etcd peer URL"),
                );
            } else {
                seen.push((n.label.as_str(), value));
            }
        }
        if n.name.is_empty() && nodes.iter().any(|o| o.name == n.bundle_name()) {
            out.push(err(
                &n.label,
                "nodeRegistration.name",
                format!(
                    "a node is named {:?}, the name of this generic worker's bundle",
                    n.bundle_name()
                ),
            ));
        }
    }
}
