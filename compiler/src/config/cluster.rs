//! [`Cluster`]: what validation returns. Every value a renderer needs is resolved here once,
//! with no optional field left, so no renderer can meet an unset value.

use super::diag::Diagnostic;
use super::duration::Duration;
use super::features;
use super::release::{self, KubeVersion};
use super::validate;
use super::wire::kubelet::KubeletConfiguration;
use super::wire::kubeproxy::KubeProxyConfiguration;
use super::wire::v1beta4::{
    BootstrapToken, ClusterConfiguration, ExternalEtcd, InitConfiguration, LocalEtcd,
    NodeRegistrationOptions, Taint,
};
use super::{Config, LoadOptions};
use ipnet::IpNet;
use std::net::IpAddr;

/// The key type of every key kbc makes (`ClusterConfiguration.EncryptionAlgorithmType()`);
/// one definition, shared with the PKI.
pub use crate::pki::EncryptionAlgorithm;

/// A validated configuration with everything resolved.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The init node's defaulted InitConfiguration (v1beta4), as written: what the bundle's
    /// `configSha256` hashes. Renderers read this node's resolved fields below instead
    /// (`node_registration`, `taints`, `timeouts`, `skip_phases`, ...), which a joining
    /// node's `Cluster` sets from its JoinConfiguration.
    pub init: InitConfiguration,
    /// The defaulted ClusterConfiguration (v1beta4): what the `kubeadm-config` ConfigMap holds.
    pub config: ClusterConfiguration,
    pub kubelet: KubeletConfiguration,
    pub kube_proxy: KubeProxyConfiguration,
    /// This node's `nodeRegistration`, defaulted.
    pub node_registration: NodeRegistrationOptions,
    /// This node's `timeouts`, every one set.
    pub timeouts: Timeouts,
    /// This node's `skipPhases`.
    pub skip_phases: Vec<String>,
    /// This node's `patches.directory`, when set.
    pub patches_dir: Option<String>,
    /// The bootstrap tokens of the InitConfiguration (none on a joining node).
    pub bootstrap_tokens: Vec<BootstrapToken>,
    pub advertise_address: IpAddr,
    /// `localAPIEndpoint.advertiseAddress` as written (kubeadm puts the string itself in the
    /// static Pods' flags); a joining node's address as text.
    pub advertise_address_text: String,
    pub bind_port: u16,
    pub version: KubeVersion,
    /// `host:port` of `controlPlaneEndpoint`, when set.
    pub control_plane_endpoint: Option<String>,
    /// `certificateKey`, decoded once; `None` when the configuration leaves it empty (kbc
    /// then derives it from the seed).
    pub certificate_key: Option<[u8; 32]>,
    pub service_subnets: Vec<IpNet>,
    pub pod_subnets: Vec<IpNet>,
    /// The cluster DNS Service's address (kubeadm's `GetDNSIP`): CoreDNS's Service and the
    /// kubelet's default `clusterDNS`.
    pub dns_ip: IpAddr,
    /// After the `PublicKeysECDSA` override.
    pub encryption_algorithm: EncryptionAlgorithm,
    pub certificate_validity: Duration,
    pub ca_certificate_validity: Duration,
    /// The file held a KubeletConfiguration / KubeProxyConfiguration document (kubeadm's
    /// `IsUserSupplied`, which decides the ConfigMaps' hash annotation).
    pub kubelet_user_supplied: bool,
    pub kube_proxy_user_supplied: bool,
    /// The node runs systemd-resolved (`--systemd-resolved`): its `config.yaml` gets
    /// `resolvConf` ([`crate::config::component::mutate_kubelet`]).
    pub systemd_resolved: bool,
    /// Which node of the cluster this is: the init node, or a joining one
    /// ([`crate::config::join`]).
    pub role: crate::pki::NodeRole,
    /// A joining control-plane node's stacked etcd: `--initial-cluster` as `(name, peer
    /// URL)` pairs of the members before it and itself; empty on the init node.
    pub etcd_initial_cluster: Vec<(String, String)>,
}

/// kubeadm's `timeouts`, every one set (`SetDefaults_Timeouts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub control_plane_component_health_check: Duration,
    pub kubelet_health_check: Duration,
    pub kubernetes_api_call: Duration,
    pub etcd_api_call: Duration,
    pub tls_bootstrap: Duration,
    pub discovery: Duration,
    pub upgrade_manifests: Duration,
}

impl Timeouts {
    /// A configuration's `timeouts`, kubeadm's default for each one it leaves unset.
    pub(crate) fn resolve(wire: Option<&super::wire::v1beta4::Timeouts>) -> Timeouts {
        let mut t = wire.cloned().unwrap_or_default();
        super::defaults::default_timeouts(&mut t);
        let d = |v: Option<Duration>| v.unwrap_or(Duration::from_secs(0));
        Timeouts {
            control_plane_component_health_check: d(t.control_plane_component_health_check),
            kubelet_health_check: d(t.kubelet_health_check),
            kubernetes_api_call: d(t.kubernetes_api_call),
            etcd_api_call: d(t.etcd_api_call),
            tls_bootstrap: d(t.tls_bootstrap),
            discovery: d(t.discovery),
            upgrade_manifests: d(t.upgrade_manifests),
        }
    }
}

impl Cluster {
    /// The stacked etcd kubeadm runs on the control-plane nodes (`etcd.local`); `None` with
    /// an external etcd. Validation leaves exactly one of the two modes.
    pub fn local_etcd(&self) -> Option<&LocalEtcd> {
        let etcd = &self.config.etcd;
        etcd.local.as_ref().filter(|_| etcd.external.is_none())
    }

    /// The cluster's own etcd (`etcd.external`), when it has one.
    pub fn external_etcd(&self) -> Option<&ExternalEtcd> {
        self.config.etcd.external.as_ref()
    }

    /// This node's taints: `nodeRegistration.taints` after kubeadm's defaulting, which gives
    /// a control-plane node that sets none the control-plane taint; a worker may have none.
    /// This node's name (`nodeRegistration.name`, defaulted; empty for a generic worker).
    pub fn node_name(&self) -> &str {
        &self.node_registration.name
    }

    /// This node's CRI socket (`nodeRegistration.criSocket`, defaulted).
    pub fn cri_socket(&self) -> &str {
        &self.node_registration.cri_socket
    }

    pub fn taints(&self) -> &[Taint] {
        self.node_registration.taints.as_deref().unwrap_or(&[])
    }

    pub fn feature(&self, name: &str) -> bool {
        features::enabled(&self.config.feature_gates, name)
    }

    pub fn images(&self) -> Vec<String> {
        release::images(&image_inputs(&self.config, &self.version))
    }

    /// What the PKI and the kubeconfig files depend on.
    pub fn pki_input(&self) -> crate::pki::PkiInput {
        let c = &self.config;
        let local = self.local_etcd();
        crate::pki::PkiInput {
            cluster_name: c.cluster_name.clone(),
            node_name: self.node_name().to_string(),
            advertise_address: self.advertise_address,
            bind_port: self.bind_port,
            control_plane_endpoint: self.control_plane_endpoint.clone(),
            service_subnets: self.service_subnets.clone(),
            dns_domain: c.networking.dns_domain.clone(),
            api_server_cert_sans: c.api_server.cert_sans.clone(),
            etcd_server_cert_sans: local
                .map(|l| l.server_cert_sans.clone())
                .unwrap_or_default(),
            etcd_peer_cert_sans: local.map(|l| l.peer_cert_sans.clone()).unwrap_or_default(),
            external_etcd: self.external_etcd().is_some(),
            certificates_dir: c.certificates_dir.clone(),
            encryption_algorithm: self.encryption_algorithm,
            cert_validity: std::time::Duration::from_nanos(self.certificate_validity.nanos() as u64),
            ca_validity: std::time::Duration::from_nanos(
                self.ca_certificate_validity.nanos() as u64
            ),
            control_plane_kubelet_local_mode: self.role != crate::pki::NodeRole::Worker
                && self.feature(features::CONTROL_PLANE_KUBELET_LOCAL_MODE),
            role: self.role,
        }
    }
}

/// What the image rules read from a ClusterConfiguration.
pub(crate) fn image_inputs<'a>(
    c: &'a ClusterConfiguration,
    v: &'a KubeVersion,
) -> release::ImageInputs<'a> {
    release::ImageInputs {
        version: v,
        image_repository: &c.image_repository,
        dns_image_repository: &c.dns.image_repository,
        dns_image_tag: &c.dns.image_tag,
        dns_disabled: c.dns.disabled,
        proxy_disabled: c.proxy.disabled,
        local_etcd: c
            .etcd
            .local
            .as_ref()
            .map(|l| (l.image_repository.as_str(), l.image_tag.as_str())),
    }
}

/// Checks the Kubernetes version: a concrete release kbc can render, never a label.
pub(crate) fn resolve_version(v: &str, out: &mut Vec<Diagnostic>) -> Option<KubeVersion> {
    let path = "kubernetesVersion";
    let kind = "ClusterConfiguration";
    // A label was resolved by the dynamic defaults; here it can only be a version or wrong.
    let resolved = match release::release_version(v) {
        Ok(release::ReleaseVersion::Given(v)) => v,
        Ok(release::ReleaseVersion::Label { .. }) => release::KUBEADM_VERSION.to_string(),
        Err(message) => {
            out.push(
                Diagnostic::error(path, message)
                    .kind(kind)
                    .hint("expected a release such as v1.31.2 or a label such as stable-1"),
            );
            return None;
        }
    };
    let Some(parsed) = KubeVersion::parse(&resolved) else {
        out.push(
            Diagnostic::error(path, format!("version {v:?} doesn't match patterns for neither semantic version nor labels (stable, latest, ...)"))
                .kind(kind)
                .hint("expected a release such as v1.31.2"),
        );
        return None;
    };
    if parsed.major != 1 || parsed.minor < release::MINIMUM_CONTROL_PLANE_MINOR {
        out.push(
            Diagnostic::error(path, format!("this version of kubeadm only supports deploying clusters with the control plane version >= 1.{}.0. Current version: {parsed}", release::MINIMUM_CONTROL_PLANE_MINOR))
                .kind(kind),
        );
        return None;
    }
    if parsed.minor > release::KUBEADM_MINOR {
        out.push(
            Diagnostic::error(
                path,
                format!(
                    "{parsed} is newer than kubeadm v1.{}, which kbc emulates",
                    release::KUBEADM_MINOR
                ),
            )
            .kind(kind)
            .hint(format!(
                "kubeadm 1.{0} would accept it with a preflight warning (KubernetesVersion) and \
                 deploy a control plane it was not written for; kbc renders what kubeadm 1.{0} \
                 writes: use a v1.{1}.x or v1.{0}.x release (docs/differences.md)",
                release::KUBEADM_MINOR,
                release::MINIMUM_CONTROL_PLANE_MINOR,
            )),
        );
        return None;
    }
    Some(parsed)
}

/// `SetClusterDynamicDefaults`: an endpoint without a port gets the local bindPort. Returns
/// the endpoint (`host:port`), written back into the configuration.
fn default_endpoint_port(c: &mut ClusterConfiguration, bind_port: i32) -> Option<String> {
    match validate::parse_endpoint(&c.control_plane_endpoint) {
        Some((host, port)) if !c.control_plane_endpoint.is_empty() => {
            let port = port.map_or(bind_port, i32::from);
            let joined = crate::netutil::join_host_port(&host, port);
            c.control_plane_endpoint = joined.clone();
            Some(joined)
        }
        _ => None,
    }
}

/// The key algorithm, after the `PublicKeysECDSA` override; refuses `RootlessControlPlane`,
/// which kbc cannot render.
fn resolve_algorithm(
    c: &ClusterConfiguration,
    out: &mut Vec<Diagnostic>,
) -> Option<EncryptionAlgorithm> {
    if features::enabled(&c.feature_gates, features::ROOTLESS_CONTROL_PLANE) {
        out.push(
            Diagnostic::error(format!("featureGates.{}", features::ROOTLESS_CONTROL_PLANE), "RootlessControlPlane is not supported by kbc")
                .kind("ClusterConfiguration")
                .hint("kubeadm creates users on the host and writes their UIDs into the static Pods; an offline compiler cannot know them"),
        );
    }
    match c.feature_gates.get(features::PUBLIC_KEYS_ECDSA) {
        Some(true) => Some(EncryptionAlgorithm::EcdsaP256),
        Some(false) => Some(EncryptionAlgorithm::Rsa2048),
        None => EncryptionAlgorithm::parse(&c.encryption_algorithm),
    }
}

/// Validates `config` and resolves it into a [`Cluster`]; appends every problem to `out`.
/// Also applies the defaults that need validated input (the endpoint's port).
pub(crate) fn resolve(
    config: &mut Config,
    opts: &LoadOptions,
    out: &mut Vec<Diagnostic>,
) -> Option<Cluster> {
    validate::init(&config.init, out);
    let (service_subnets, pod_subnets) = validate::cluster(&config.cluster, out);
    let version = resolve_version(&config.cluster.kubernetes_version, out);
    let bind_port = config.init.local_api_endpoint.bind_port;
    let endpoint = default_endpoint_port(&mut config.cluster, bind_port);
    let algorithm = resolve_algorithm(&config.cluster, out);
    if out.iter().any(Diagnostic::is_error) {
        return None;
    }
    let nr = &config.init.node_registration;
    Some(Cluster {
        init: config.init.clone(),
        config: config.cluster.clone(),
        kubelet: config.kubelet.clone(),
        kube_proxy: config.kube_proxy.clone(),
        node_registration: nr.clone(),
        timeouts: Timeouts::resolve(config.init.timeouts.as_ref()),
        skip_phases: config.init.skip_phases.clone(),
        patches_dir: config
            .init
            .patches
            .as_ref()
            .map(|p| p.directory.clone())
            .filter(|d| !d.is_empty()),
        bootstrap_tokens: config.init.bootstrap_tokens.clone(),
        advertise_address: config
            .init
            .local_api_endpoint
            .advertise_address
            .parse()
            .ok()?,
        advertise_address_text: config.init.local_api_endpoint.advertise_address.clone(),
        bind_port: u16::try_from(bind_port).ok()?,
        version: version?,
        control_plane_endpoint: endpoint,
        certificate_key: match config.init.certificate_key.as_str() {
            "" => None,
            hex => Some(validate::decode_certificate_key(hex).ok()?),
        },
        service_subnets,
        pod_subnets,
        dns_ip: super::component::cluster_dns_ip(&config.cluster.networking.service_subnet),
        encryption_algorithm: algorithm?,
        certificate_validity: config.cluster.certificate_validity_period?,
        ca_certificate_validity: config.cluster.ca_certificate_validity_period?,
        kubelet_user_supplied: config.kubelet_user_supplied,
        kube_proxy_user_supplied: config.kube_proxy_user_supplied,
        systemd_resolved: opts.systemd_resolved,
        role: crate::pki::NodeRole::Init,
        etcd_initial_cluster: Vec::new(),
    })
}
