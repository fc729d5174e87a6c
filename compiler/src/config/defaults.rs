//! Static defaults of `kubeadm.k8s.io/v1beta4` (`v1beta4/defaults.go`, `defaults_unix.go`,
//! `bootstraptoken/v1/defaults.go`) and kbc's offline version of kubeadm's dynamic defaults
//! (`SetInitDynamicDefaults` in `cmd/kubeadm/app/util/config/initconfiguration.go`).
//!
//! Dynamic defaults that look at the host are inputs here: node name, advertise address and
//! CRI socket come from the file or from `--node-name`, `--advertise-address`, `--cri-socket`.

use super::diag::Diagnostic;
use super::duration::Duration;
use super::wire::v1beta4::*;

pub(crate) const DEFAULT_BIND_PORT: i32 = 6443;
pub(crate) const DEFAULT_SERVICE_SUBNET: &str = "10.96.0.0/12";
pub(crate) const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
pub(crate) const DEFAULT_CERTIFICATES_DIR: &str = "/etc/kubernetes/pki";
pub(crate) const DEFAULT_IMAGE_REPOSITORY: &str = super::release::DEFAULT_IMAGE_REPOSITORY;
pub(crate) const DEFAULT_CLUSTER_NAME: &str = "kubernetes";
pub(crate) const DEFAULT_KUBERNETES_VERSION: &str = "stable-1";
pub(crate) const DEFAULT_ETCD_DATA_DIR: &str = "/var/lib/etcd";
pub(crate) const DEFAULT_ENCRYPTION_ALGORITHM: &str = "RSA-2048";
pub(crate) const DEFAULT_IMAGE_PULL_POLICY: &str = "IfNotPresent";
/// kubeadm's CRI socket when detection is skipped (`DefaultCRISocket` on Linux).
pub(crate) const DEFAULT_CRI_SOCKET: &str = "unix:///var/run/containerd/containerd.sock";
pub(crate) const CERTIFICATE_VALIDITY: Duration = Duration::from_hours(8760);
pub(crate) const CA_CERTIFICATE_VALIDITY: Duration = Duration::from_hours(87600);
pub(crate) const DEFAULT_TOKEN_TTL: Duration = Duration::from_hours(24);
pub(crate) const DEFAULT_TOKEN_USAGES: [&str; 2] = ["signing", "authentication"];
pub(crate) const DEFAULT_TOKEN_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
pub(crate) const CONTROL_PLANE_TAINT_KEY: &str = "node-role.kubernetes.io/control-plane";

/// `SetDefaults_Timeouts`: every unset timeout gets kubeadm's constant.
pub(crate) fn default_timeouts(t: &mut Timeouts) {
    let set = |v: &mut Option<Duration>, d: Duration| {
        v.get_or_insert(d);
    };
    set(
        &mut t.control_plane_component_health_check,
        Duration::from_mins(4),
    );
    set(&mut t.kubelet_health_check, Duration::from_mins(4));
    set(&mut t.kubernetes_api_call, Duration::from_mins(1));
    set(&mut t.etcd_api_call, Duration::from_mins(2));
    set(&mut t.tls_bootstrap, Duration::from_mins(5));
    set(&mut t.discovery, Duration::from_mins(5));
    set(&mut t.upgrade_manifests, Duration::from_mins(5));
}

/// `SetDefaults_InitConfiguration` and what it calls.
pub(crate) fn default_init(c: &mut InitConfiguration) {
    if c.bootstrap_tokens.is_empty() {
        c.bootstrap_tokens.push(BootstrapToken::default());
    }
    for t in &mut c.bootstrap_tokens {
        if t.usages.is_empty() {
            t.usages = DEFAULT_TOKEN_USAGES.iter().map(|s| s.to_string()).collect();
        }
        if t.ttl.is_none() {
            t.ttl = Some(DEFAULT_TOKEN_TTL);
        }
        if t.groups.is_empty() {
            t.groups = vec![DEFAULT_TOKEN_GROUP.to_string()];
        }
    }
    if c.local_api_endpoint.bind_port == 0 {
        c.local_api_endpoint.bind_port = DEFAULT_BIND_PORT;
    }
    let nr = &mut c.node_registration;
    if nr.image_pull_policy.is_empty() {
        nr.image_pull_policy = DEFAULT_IMAGE_PULL_POLICY.to_string();
    }
    nr.image_pull_serial.get_or_insert(true);
    default_timeouts(c.timeouts.get_or_insert_with(Timeouts::default));
}

/// `SetDefaults_ClusterConfiguration` and what it calls.
pub(crate) fn default_cluster(c: &mut ClusterConfiguration) {
    let fill = |v: &mut String, d: &str| {
        if v.is_empty() {
            *v = d.to_string();
        }
    };
    fill(&mut c.kubernetes_version, DEFAULT_KUBERNETES_VERSION);
    fill(&mut c.networking.service_subnet, DEFAULT_SERVICE_SUBNET);
    fill(&mut c.networking.dns_domain, DEFAULT_DNS_DOMAIN);
    fill(&mut c.certificates_dir, DEFAULT_CERTIFICATES_DIR);
    fill(&mut c.image_repository, DEFAULT_IMAGE_REPOSITORY);
    fill(&mut c.cluster_name, DEFAULT_CLUSTER_NAME);
    fill(&mut c.encryption_algorithm, DEFAULT_ENCRYPTION_ALGORITHM);
    c.certificate_validity_period
        .get_or_insert(CERTIFICATE_VALIDITY);
    c.ca_certificate_validity_period
        .get_or_insert(CA_CERTIFICATE_VALIDITY);
    if c.etcd.local.is_none() && c.etcd.external.is_none() {
        c.etcd.local = Some(LocalEtcd::default());
    }
    if let Some(local) = &mut c.etcd.local {
        fill(&mut local.data_dir, DEFAULT_ETCD_DATA_DIR);
        default_envs(&mut local.extra_envs);
    }
    for envs in [
        &mut c.api_server.extra_envs,
        &mut c.controller_manager.extra_envs,
        &mut c.scheduler.extra_envs,
    ] {
        default_envs(envs);
    }
}

/// `SetDefaults_EnvVar`: a `fieldRef` without `apiVersion` means `v1`.
fn default_envs(envs: &mut [EnvVar]) {
    for env in envs {
        if let Some(field_ref) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            if field_ref.api_version.is_empty() {
                field_ref.api_version = "v1".into();
            }
        }
    }
}

/// The control-plane taint kubeadm registers when `taints` is absent or `null`.
pub(crate) fn control_plane_taint() -> Taint {
    Taint {
        key: CONTROL_PLANE_TAINT_KEY.into(),
        effect: "NoSchedule".into(),
        ..Taint::default()
    }
}

/// Values given on the command line; they take precedence over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub node_name: Option<String>,
    pub advertise_address: Option<String>,
    pub cri_socket: Option<String>,
    pub kubernetes_version: Option<String>,
    /// `--skip-phases`: replaces `skipPhases` of the file, as kubeadm's flag does.
    pub skip_phases: Option<Vec<String>>,
}

/// kbc's `SetInitDynamicDefaults`: the same steps, with host look-ups replaced by inputs.
/// Returns warnings; missing inputs are left empty for validation to report with their flag.
pub(crate) fn dynamic_defaults(
    init: &mut InitConfiguration,
    cluster: &mut ClusterConfiguration,
    o: &Overrides,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let nr = &mut init.node_registration;
    if let Some(name) = &o.node_name {
        nr.name = name.clone();
    }
    // kubeadm trims and lower-cases the node name whether it came from the host or the file.
    nr.name = nr.name.trim().to_lowercase();
    if nr.taints.is_none() {
        nr.taints = Some(vec![control_plane_taint()]);
    }
    if let Some(s) = &o.cri_socket {
        nr.cri_socket = s.clone();
    }
    if nr.cri_socket.is_empty() {
        // kubeadm's DetectCRISocket probes the host and falls back to this default; kbc never
        // probes, so the default is what an empty criSocket means.
        nr.cri_socket = DEFAULT_CRI_SOCKET.to_string();
        warnings.push(
            Diagnostic::warning(
                "nodeRegistration.criSocket",
                format!(
                    "empty: using kubeadm's default {DEFAULT_CRI_SOCKET} (kbc does not probe the host for a container runtime; set it or pass --cri-socket for another)"
                ),
            )
            .kind("InitConfiguration"),
        );
    }
    if !nr.cri_socket.contains("://") {
        warnings.push(
            Diagnostic::warning(
                "nodeRegistration.criSocket",
                format!(
                    "Usage of CRI endpoints without URL scheme is deprecated and can cause kubelet errors in the future. Automatically prepending scheme \"unix\" to the \"criSocket\" with value \"{}\". Please update your configuration!",
                    nr.cri_socket
                ),
            )
            .kind("InitConfiguration"),
        );
        nr.cri_socket = format!("unix://{}", nr.cri_socket);
    }
    if let Some(a) = &o.advertise_address {
        init.local_api_endpoint.advertise_address = a.clone();
    }
    if let Some(v) = &o.kubernetes_version {
        cluster.kubernetes_version = v.clone();
    }
    warnings.extend(normalize_kubernetes_version(cluster));
    if let Some(skip) = &o.skip_phases {
        init.skip_phases = skip.clone();
    }
    // kubeadm init keeps skipped addon phases and the addon switches in step, so that the
    // stored ClusterConfiguration says the addon is disabled.
    let skipped = |phase: &str| kbc_bundle::phases::is_skipped(&init.skip_phases, phase);
    if skipped("addon/coredns") {
        cluster.dns.disabled = true;
    }
    if skipped("addon/kube-proxy") {
        cluster.proxy.disabled = true;
    }
    cluster.api_server.cert_sans = cluster
        .api_server
        .cert_sans
        .iter()
        .map(|s| s.to_lowercase())
        .collect();
    warnings
}

/// kubeadm's `NormalizeKubernetesVersion`: a version gets its `v`; a label is fetched from
/// the internet, which kbc never uses, so kubeadm's offline fallback to its own version
/// applies, with its two warnings (`cmd/kubeadm/app/util/version.go`). Errors are left to
/// validation. Returns the warnings.
pub(crate) fn normalize_kubernetes_version(cluster: &mut ClusterConfiguration) -> Vec<Diagnostic> {
    use super::release::{release_version, ReleaseVersion, KUBEADM_VERSION};
    let mut warnings = Vec::new();
    match release_version(&cluster.kubernetes_version) {
        Ok(ReleaseVersion::Given(v)) => cluster.kubernetes_version = v,
        Ok(ReleaseVersion::Label { url }) => {
            let warn = |m: String| {
                Diagnostic::warning("kubernetesVersion", m).kind("ClusterConfiguration")
            };
            warnings.push(
                warn(format!("could not fetch a Kubernetes version from the internet: unable to get URL {url:?}: kbc never uses the network"))
                    .hint("set kubernetesVersion (or pass --kubernetes-version) to choose the release"),
            );
            warnings.push(warn(format!(
                "falling back to the local client version: {KUBEADM_VERSION}"
            )));
            cluster.kubernetes_version = KUBEADM_VERSION.to_string();
        }
        Err(_) => {}
    }
    warnings
}
