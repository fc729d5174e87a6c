//! kubeadm's overlay on the two component configs: the handful of kubelet and kube-proxy values
//! kubeadm fills in when they are empty, and the warning it prints when the user chose another
//! value (the user's value is kept).
//!
//! Mirrors `Default()` of `cmd/kubeadm/app/componentconfigs/kubelet.go` (logic read at
//! kubernetes/kubernetes `38f7c4b9819e0bf3af34e629cd1564fc47c345b0`) and `kubeproxy.go` (read at
//! `1185b44002c09b707e4133f2a59c1a3c767a2f76` and the later variants kept by the search index;
//! the v1.31 logic is the one with `warnDefaultComponentConfigValue(kind, "bindAddress",
//! defaultBindAddress, userValue)`), and the warning of `warnDefaultComponentConfigValue` in
//! `componentconfigs/utils.go`. kubeadm's componentconfigs `Default` reads no feature gate in
//! v1.31 (the `IPv6DualStack` copy to kube-proxy was removed with that gate).
//!
//! `resolvConf` is not part of the overlay since 1.31 (PR #124038): kubeadm's Linux-only
//! `Mutate` (`componentconfigs/kubelet_unix.go`) adds it per node when `config.yaml` is
//! written, so the `kubelet-config` ConfigMap never holds it ([`mutate_kubelet`]).
//! Deliberate difference: kubeadm asks the host's init system whether `systemd-resolved` is
//! active; kbc takes that answer as an input (`--systemd-resolved`).
//!
//! Not applied here: kubelet/kube-proxy's own defaulting. kubeadm never runs it (it registers
//! only the external types), so every other field stays at its Go zero value.

use crate::config::wire::kubelet::KubeletConfiguration;
use crate::config::wire::kubeproxy::KubeProxyConfiguration;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `kubelet.config.k8s.io/v1beta1`, written into the defaulted document as kubeadm's marshal does.
pub(crate) const KUBELET_API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";
/// Kind of the kubelet component config.
pub(crate) const KUBELET_KIND: &str = "KubeletConfiguration";
/// `kubeproxy.config.k8s.io/v1alpha1`.
pub(crate) const KUBE_PROXY_API_VERSION: &str = "kubeproxy.config.k8s.io/v1alpha1";
/// Kind of the kube-proxy component config.
pub(crate) const KUBE_PROXY_KIND: &str = "KubeProxyConfiguration";

use crate::paths::MANIFESTS_DIR;
/// `kubeadmapiv1.DefaultClusterDNSIP`, used when the service subnet gives no 10th address.
const FALLBACK_CLUSTER_DNS: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 96, 0, 10));
/// `constants.CACertName`.
const CA_CERT_NAME: &str = "ca.crt";
/// `kubeletHealthzBindAddress`.
const KUBELET_HEALTHZ_BIND_ADDRESS: &str = "127.0.0.1";
/// `constants.KubeletHealthzPort`.
const KUBELET_HEALTHZ_PORT: i32 = 10248;
/// `kubeletReadOnlyPort`: 0 disables the kubelet's insecure port.
const KUBELET_READ_ONLY_PORT: i32 = 0;
/// `constants.CgroupDriverSystemd`.
const CGROUP_DRIVER_SYSTEMD: &str = "systemd";
/// `kubeletSystemdResolverConfig`.
const SYSTEMD_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";
/// `kubeletAuthorizationModeWebhook`.
const AUTHORIZATION_MODE_WEBHOOK: &str = "Webhook";
/// `kubeadmapiv1.DefaultProxyBindAddressv4` / `v6`.
const PROXY_BIND_ADDRESS_V4: &str = "0.0.0.0";
const PROXY_BIND_ADDRESS_V6: &str = "::";
/// `kubeproxyKubeConfigFileName`.
const KUBE_PROXY_KUBECONFIG: &str = "/var/lib/kube-proxy/kubeconfig.conf";

/// The cluster facts kubeadm's overlay reads, resolved by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverlayInput<'a> {
    /// `ClusterConfiguration.certificatesDir` (kubelet `clientCAFile` = `<dir>/ca.crt`).
    pub certificates_dir: &'a str,
    /// `networking.dnsDomain` (kubelet `clusterDomain`).
    pub dns_domain: &'a str,
    /// `networking.serviceSubnet`, possibly a dual-stack pair `a,b` (kubelet `clusterDNS`).
    pub service_subnet: &'a str,
    /// `networking.podSubnet` (kube-proxy `clusterCIDR`); `None` when unset or empty.
    pub pod_subnet: Option<&'a str>,
    /// Whether the local advertise address is IPv6 (kube-proxy `bindAddress`). kubeadm treats an
    /// address it cannot parse as IPv6, so an unparsable address should be passed as `true`.
    pub advertise_address_is_ipv6: bool,
}

impl Default for OverlayInput<'_> {
    /// The inputs `kubeadm config print init-defaults` runs with: `/etc/kubernetes/pki`,
    /// `cluster.local`, `10.96.0.0/12`, no pod subnet, advertise address `1.2.3.4`.
    fn default() -> Self {
        OverlayInput {
            certificates_dir: "/etc/kubernetes/pki",
            dns_domain: "cluster.local",
            service_subnet: "10.96.0.0/12",
            pod_subnet: None,
            advertise_address_is_ipv6: false,
        }
    }
}

/// A field the user set to something other than kubeadm's recommended value (a warning, the
/// user's value is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recommendation {
    /// `KubeletConfiguration` or `KubeProxyConfiguration`.
    pub kind: &'static str,
    /// JSON path of the field, as kubeadm names it (`authorization.mode`).
    pub field: String,
    /// kubeadm's value, formatted as Go's `%v` does (`[10.96.0.10]` for a list).
    pub recommended: String,
    /// The user's value, formatted the same way.
    pub provided: String,
}

impl Recommendation {
    fn new(
        kind: &'static str,
        field: &str,
        recommended: impl ToString,
        provided: impl ToString,
    ) -> Self {
        Recommendation {
            kind,
            field: field.to_owned(),
            recommended: recommended.to_string(),
            provided: provided.to_string(),
        }
    }
}

impl fmt::Display for Recommendation {
    /// kubeadm's text: `klog.Warningf("The recommended value for %q in %q is: %v; the provided
    /// value is: %v", paramName, componentConfigKind, defaultValue, userValue)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The recommended value for {} in {} is: {}; the provided value is: {}",
            go_quote(&self.field),
            go_quote(self.kind),
            self.recommended,
            self.provided
        )
    }
}

/// Go's `%q` for the plain ASCII names used here (field paths and kinds).
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `%v` of a `[]string`: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn is_empty(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(str::is_empty)
}

/// kubeadm's rule for most overlay fields: an empty field gets kubeadm's value; a different
/// one is kept and reported.
fn fill_or_warn(
    field: &mut String,
    kind: &'static str,
    path: &str,
    value: &str,
    notes: &mut Vec<Recommendation>,
) {
    if field.is_empty() {
        *field = value.to_owned();
    } else if field != value {
        notes.push(Recommendation::new(kind, path, value, &*field));
    }
}

/// [`fill_or_warn`] for a Go string field that is optional in the wire type (absent = "").
fn fill_or_warn_opt(
    field: &mut Option<String>,
    kind: &'static str,
    path: &str,
    value: &str,
    notes: &mut Vec<Recommendation>,
) {
    fill_or_warn(
        field.get_or_insert_with(String::new),
        kind,
        path,
        value,
        notes,
    );
}

/// [`fill_or_warn_opt`] for a value that is not a string: unset takes kubeadm's value, another
/// value is kept with kubeadm's recommendation.
fn fill_or_warn_value<T: PartialEq + Clone + std::fmt::Display>(
    field: &mut Option<T>,
    kind: &'static str,
    path: &str,
    value: T,
    notes: &mut Vec<Recommendation>,
) {
    match field {
        None => *field = Some(value),
        Some(v) if *v != value => notes.push(Recommendation::new(
            kind,
            path,
            value.to_string(),
            v.to_string(),
        )),
        Some(_) => {}
    }
}

/// The kubelet's authentication and authorization as kubeadm sets them: the cluster CA for
/// client certificates, no anonymous access, webhook authentication and authorization.
fn kubelet_auth_defaults(
    c: &mut KubeletConfiguration,
    input: &OverlayInput,
    warnings: &mut Vec<Recommendation>,
) {
    const KIND: &str = KUBELET_KIND;
    fill_or_warn_opt(
        &mut c.authentication.x509.client_ca_file,
        KIND,
        "authentication.x509.clientCAFile",
        &go_path_join(input.certificates_dir, CA_CERT_NAME),
        warnings,
    );

    fill_or_warn_value(
        &mut c.authentication.anonymous.enabled,
        KIND,
        "authentication.anonymous.enabled",
        false,
        warnings,
    );

    fill_or_warn_opt(
        &mut c.authorization.mode,
        KIND,
        "authorization.mode",
        AUTHORIZATION_MODE_WEBHOOK,
        warnings,
    );

    fill_or_warn_value(
        &mut c.authentication.webhook.enabled,
        KIND,
        "authentication.webhook.enabled",
        true,
        warnings,
    );
}

/// Applies kubeadm's kubelet overlay to the user's document (or to an empty one).
///
/// Order and rules follow `kubeletConfig.Default`; the returned recommendations are in the
/// order kubeadm prints its warnings.
pub(crate) fn default_kubelet(
    user: Option<KubeletConfiguration>,
    input: &OverlayInput,
) -> (KubeletConfiguration, Vec<Recommendation>) {
    const KIND: &str = KUBELET_KIND;
    let mut c = user.unwrap_or_default();
    let mut warnings = Vec::new();

    // configBase.Marshal encodes with the group version, so these are always written.
    c.api_version = Some(KUBELET_API_VERSION.to_owned());
    c.kind = Some(KUBELET_KIND.to_owned());

    if c.feature_gates.is_none() {
        // Go sets an empty map; with `omitempty` it is not printed.
        c.feature_gates = Some(BTreeMap::new());
    }

    fill_or_warn_opt(
        &mut c.static_pod_path,
        KIND,
        "staticPodPath",
        MANIFESTS_DIR,
        &mut warnings,
    );

    kubelet_dns_defaults(&mut c, input, &mut warnings);
    kubelet_auth_defaults(&mut c, input, &mut warnings);

    fill_or_warn_opt(
        &mut c.healthz_bind_address,
        KIND,
        "healthzBindAddress",
        KUBELET_HEALTHZ_BIND_ADDRESS,
        &mut warnings,
    );

    fill_or_warn_value(
        &mut c.healthz_port,
        KIND,
        "healthzPort",
        KUBELET_HEALTHZ_PORT,
        &mut warnings,
    );

    let read_only_port = c.read_only_port.unwrap_or(0);
    if read_only_port != KUBELET_READ_ONLY_PORT {
        warnings.push(Recommendation::new(
            KIND,
            "readOnlyPort",
            KUBELET_READ_ONLY_PORT.to_string(),
            read_only_port.to_string(),
        ));
    }

    // A non-pointer bool in Go: kubeadm cannot tell "false" from unset and forces it, silently.
    c.rotate_certificates = Some(true);

    if is_empty(&c.cgroup_driver) {
        c.cgroup_driver = Some(CGROUP_DRIVER_SYSTEMD.to_owned());
    }

    (c, warnings)
}

/// `clusterDNS` (the tenth address of the service subnet) and `clusterDomain`: set when
/// unset, a recommendation when they differ.
fn kubelet_dns_defaults(
    c: &mut KubeletConfiguration,
    input: &OverlayInput,
    warnings: &mut Vec<Recommendation>,
) {
    const KIND: &str = KUBELET_KIND;
    let cluster_dns = cluster_dns_ip(input.service_subnet).to_string();
    match &c.cluster_dns {
        None => c.cluster_dns = Some(vec![cluster_dns]),
        Some(list) if list.len() != 1 || list[0] != cluster_dns => {
            warnings.push(Recommendation::new(
                KIND,
                "clusterDNS",
                go_list(&[cluster_dns]),
                go_list(list),
            ));
        }
        Some(_) => {}
    }
    if is_empty(&c.cluster_domain) {
        c.cluster_domain = Some(input.dns_domain.to_owned());
    } else if !input.dns_domain.is_empty() && c.cluster_domain.as_deref() != Some(input.dns_domain)
    {
        let provided = c.cluster_domain.clone().unwrap_or_default();
        warnings.push(Recommendation::new(
            KIND,
            "clusterDomain",
            input.dns_domain,
            provided,
        ));
    }
}

/// kubeadm's per-node `Mutate` of the kubelet configuration before `config.yaml` is written
/// (`componentconfigs/kubelet_unix.go`): on a node running systemd-resolved an unset
/// `resolvConf` becomes systemd-resolved's file; another value is kept with a warning.
pub(crate) fn mutate_kubelet(
    c: &mut KubeletConfiguration,
    systemd_resolved: bool,
) -> Option<Recommendation> {
    if !systemd_resolved {
        return None;
    }
    match &c.resolv_conf {
        None => {
            c.resolv_conf = Some(SYSTEMD_RESOLV_CONF.to_owned());
            None
        }
        // A pointer in Go: an explicit "" is a provided value and is reported.
        Some(r) if r != SYSTEMD_RESOLV_CONF => Some(Recommendation::new(
            KUBELET_KIND,
            "resolvConf",
            SYSTEMD_RESOLV_CONF,
            r.clone(),
        )),
        Some(_) => None,
    }
}

/// Applies kubeadm's kube-proxy overlay to the user's document (or to an empty one).
pub(crate) fn default_kube_proxy(
    user: Option<KubeProxyConfiguration>,
    input: &OverlayInput,
) -> (KubeProxyConfiguration, Vec<Recommendation>) {
    const KIND: &str = KUBE_PROXY_KIND;
    let mut c = user.unwrap_or_default();
    let mut warnings = Vec::new();

    c.api_version = Some(KUBE_PROXY_API_VERSION.to_owned());
    c.kind = Some(KUBE_PROXY_KIND.to_owned());

    if c.feature_gates.is_none() {
        c.feature_gates = Some(BTreeMap::new());
    }

    // kubeProxyDefaultBindAddress: IPv4 advertise address → 0.0.0.0, anything else → ::.
    let bind_address = if input.advertise_address_is_ipv6 {
        PROXY_BIND_ADDRESS_V6
    } else {
        PROXY_BIND_ADDRESS_V4
    };
    fill_or_warn(
        &mut c.bind_address,
        KIND,
        "bindAddress",
        bind_address,
        &mut warnings,
    );

    if let Some(pod_subnet) = input.pod_subnet.filter(|s| !s.is_empty()) {
        fill_or_warn(
            &mut c.cluster_cidr,
            KIND,
            "clusterCIDR",
            pod_subnet,
            &mut warnings,
        );
    }

    fill_or_warn(
        &mut c.client_connection.kubeconfig,
        KIND,
        "clientConnection.kubeconfig",
        KUBE_PROXY_KUBECONFIG,
        &mut warnings,
    );

    (c, warnings)
}

/// kubeadm's `constants.GetDNSIP`: the 10th address of the first CIDR of the (possibly
/// dual-stack) service subnet, or `10.96.0.10` when that cannot be computed (any CIDR of the
/// list unparsable, or a subnet too small to hold a 10th address). An IPv4-mapped IPv6
/// address is returned as IPv4, as Go prints and classifies it.
pub(crate) fn cluster_dns_ip(service_subnet: &str) -> IpAddr {
    indexed_ip(service_subnet, 10).unwrap_or(FALLBACK_CLUSTER_DNS)
}

/// `GetKubernetesServiceCIDR` + `netutils.GetIndexedIP`.
fn indexed_ip(service_subnet: &str, index: u128) -> Option<IpAddr> {
    // netutils.ParseCIDRs fails as a whole if any element fails.
    let cidrs = service_subnet
        .split(',')
        .map(|s| s.parse::<ipnet::IpNet>().ok())
        .collect::<Option<Vec<_>>>()?;
    let first = cidrs.first()?.trunc();
    let ip = match first.network() {
        IpAddr::V4(n) => {
            let v = u128::from(u32::from(n)).checked_add(index)?;
            IpAddr::V4(Ipv4Addr::from(u32::try_from(v).ok()?))
        }
        IpAddr::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n).checked_add(index)?)),
    };
    if !first.contains(&ip) {
        return None;
    }
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    })
}

/// Go's `filepath.Join(dir, name)` on Unix: join the non-empty parts, then `filepath.Clean`.
fn go_path_join(dir: &str, name: &str) -> String {
    let joined = match (dir.is_empty(), name.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => name.to_owned(),
        (false, true) => dir.to_owned(),
        (false, false) => format!("{dir}/{name}"),
    };
    go_clean(&joined)
}

/// Go's `path/filepath.Clean` for Unix paths.
fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::duration::Duration;
    use crate::config::wire::kubelet::TimeOrMetaDuration;
    use serde_json::{json, Value};
    use test_case::test_case;

    fn input() -> OverlayInput<'static> {
        OverlayInput::default()
    }

    /// `kubeadm config print init-defaults --component-configs KubeletConfiguration` (v1.31),
    /// as JSON: the overlay applied to an empty document, every other field at its Go zero
    /// value (no `resolvConf`: since 1.31 only a node's `config.yaml` gets it).
    ///
    /// ```yaml
    /// apiVersion: kubelet.config.k8s.io/v1beta1
    /// authentication:
    ///   anonymous:
    ///     enabled: false
    ///   webhook:
    ///     cacheTTL: 0s
    ///     enabled: true
    ///   x509:
    ///     clientCAFile: /etc/kubernetes/pki/ca.crt
    /// authorization:
    ///   mode: Webhook
    ///   webhook:
    ///     cacheAuthorizedTTL: 0s
    ///     cacheUnauthorizedTTL: 0s
    /// cgroupDriver: systemd
    /// clusterDNS:
    /// - 10.96.0.10
    /// clusterDomain: cluster.local
    /// containerRuntimeEndpoint: ""
    /// cpuManagerReconcilePeriod: 0s
    /// evictionPressureTransitionPeriod: 0s
    /// fileCheckFrequency: 0s
    /// healthzBindAddress: 127.0.0.1
    /// healthzPort: 10248
    /// httpCheckFrequency: 0s
    /// imageMaximumGCAge: 0s
    /// imageMinimumGCAge: 0s
    /// kind: KubeletConfiguration
    /// logging:
    ///   flushFrequency: 0
    ///   options:
    ///     json:
    ///       infoBufferSize: "0"
    ///     text:
    ///       infoBufferSize: "0"
    ///   verbosity: 0
    /// memorySwap: {}
    /// nodeStatusReportFrequency: 0s
    /// nodeStatusUpdateFrequency: 0s
    /// rotateCertificates: true
    /// runtimeRequestTimeout: 0s
    /// shutdownGracePeriod: 0s
    /// shutdownGracePeriodCriticalPods: 0s
    /// staticPodPath: /etc/kubernetes/manifests
    /// streamingConnectionIdleTimeout: 0s
    /// syncFrequency: 0s
    /// volumeStatsAggPeriod: 0s
    /// ```
    fn print_defaults_kubelet() -> Value {
        json!({
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "authentication": {
                "anonymous": {"enabled": false},
                "webhook": {"cacheTTL": "0s", "enabled": true},
                "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
            },
            "authorization": {
                "mode": "Webhook",
                "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"}
            },
            "cgroupDriver": "systemd",
            "clusterDNS": ["10.96.0.10"],
            "clusterDomain": "cluster.local",
            "containerRuntimeEndpoint": "",
            "cpuManagerReconcilePeriod": "0s",
            "evictionPressureTransitionPeriod": "0s",
            "fileCheckFrequency": "0s",
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "httpCheckFrequency": "0s",
            "imageMaximumGCAge": "0s",
            "imageMinimumGCAge": "0s",
            "kind": "KubeletConfiguration",
            "logging": {
                "flushFrequency": 0,
                "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
                "verbosity": 0
            },
            "memorySwap": {},
            "nodeStatusReportFrequency": "0s",
            "nodeStatusUpdateFrequency": "0s",
            "rotateCertificates": true,
            "runtimeRequestTimeout": "0s",
            "shutdownGracePeriod": "0s",
            "shutdownGracePeriodCriticalPods": "0s",
            "staticPodPath": "/etc/kubernetes/manifests",
            "streamingConnectionIdleTimeout": "0s",
            "syncFrequency": "0s",
            "volumeStatsAggPeriod": "0s"
        })
    }

    /// `kubeadm config print init-defaults --component-configs KubeProxyConfiguration` (v1.31)
    /// as JSON (advertise address `1.2.3.4`, no pod subnet).
    ///
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// bindAddress: 0.0.0.0
    /// bindAddressHardFail: false
    /// clientConnection:
    ///   acceptContentTypes: ""
    ///   burst: 0
    ///   contentType: ""
    ///   kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
    ///   qps: 0
    /// clusterCIDR: ""
    /// configSyncPeriod: 0s
    /// conntrack:
    ///   maxPerCore: null
    ///   min: null
    ///   tcpBeLiberal: false
    ///   tcpCloseWaitTimeout: null
    ///   tcpEstablishedTimeout: null
    ///   udpStreamTimeout: 0s
    ///   udpTimeout: 0s
    /// detectLocal:
    ///   bridgeInterface: ""
    ///   interfaceNamePrefix: ""
    /// detectLocalMode: ""
    /// enableProfiling: false
    /// healthzBindAddress: ""
    /// hostnameOverride: ""
    /// iptables:
    ///   localhostNodePorts: null
    ///   masqueradeAll: false
    ///   masqueradeBit: null
    ///   minSyncPeriod: 0s
    ///   syncPeriod: 0s
    /// ipvs:
    ///   excludeCIDRs: null
    ///   minSyncPeriod: 0s
    ///   scheduler: ""
    ///   strictARP: false
    ///   syncPeriod: 0s
    ///   tcpFinTimeout: 0s
    ///   tcpTimeout: 0s
    ///   udpTimeout: 0s
    /// kind: KubeProxyConfiguration
    /// logging:
    ///   flushFrequency: 0
    ///   options:
    ///     json:
    ///       infoBufferSize: "0"
    ///     text:
    ///       infoBufferSize: "0"
    ///   verbosity: 0
    /// metricsBindAddress: ""
    /// mode: ""
    /// nftables:
    ///   masqueradeAll: false
    ///   masqueradeBit: null
    ///   minSyncPeriod: 0s
    ///   syncPeriod: 0s
    /// nodePortAddresses: null
    /// oomScoreAdj: null
    /// portRange: ""
    /// showHiddenMetricsForVersion: ""
    /// winkernel:
    ///   enableDSR: false
    ///   forwardHealthCheckVip: false
    ///   networkName: ""
    ///   rootHnsEndpointName: ""
    ///   sourceVip: ""
    /// ```
    fn print_defaults_kube_proxy() -> Value {
        json!({
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "bindAddress": "0.0.0.0",
            "bindAddressHardFail": false,
            "clientConnection": {
                "acceptContentTypes": "",
                "burst": 0,
                "contentType": "",
                "kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf",
                "qps": 0
            },
            "clusterCIDR": "",
            "configSyncPeriod": "0s",
            "conntrack": {
                "maxPerCore": null,
                "min": null,
                "tcpBeLiberal": false,
                "tcpCloseWaitTimeout": null,
                "tcpEstablishedTimeout": null,
                "udpStreamTimeout": "0s",
                "udpTimeout": "0s"
            },
            "detectLocal": {"bridgeInterface": "", "interfaceNamePrefix": ""},
            "detectLocalMode": "",
            "enableProfiling": false,
            "healthzBindAddress": "",
            "hostnameOverride": "",
            "iptables": {
                "localhostNodePorts": null,
                "masqueradeAll": false,
                "masqueradeBit": null,
                "minSyncPeriod": "0s",
                "syncPeriod": "0s"
            },
            "ipvs": {
                "excludeCIDRs": null,
                "minSyncPeriod": "0s",
                "scheduler": "",
                "strictARP": false,
                "syncPeriod": "0s",
                "tcpFinTimeout": "0s",
                "tcpTimeout": "0s",
                "udpTimeout": "0s"
            },
            "kind": "KubeProxyConfiguration",
            "logging": {
                "flushFrequency": 0,
                "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
                "verbosity": 0
            },
            "metricsBindAddress": "",
            "mode": "",
            "nftables": {
                "masqueradeAll": false,
                "masqueradeBit": null,
                "minSyncPeriod": "0s",
                "syncPeriod": "0s"
            },
            "nodePortAddresses": null,
            "oomScoreAdj": null,
            "portRange": "",
            "showHiddenMetricsForVersion": "",
            "winkernel": {
                "enableDSR": false,
                "forwardHealthCheckVip": false,
                "networkName": "",
                "rootHnsEndpointName": "",
                "sourceVip": ""
            }
        })
    }

    #[test]
    fn empty_kubelet_gets_every_kubeadm_value() {
        let (c, warnings) = default_kubelet(None, &input());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            c.static_pod_path.as_deref(),
            Some("/etc/kubernetes/manifests")
        );
        assert_eq!(c.cluster_dns, Some(vec!["10.96.0.10".to_owned()]));
        assert_eq!(c.cluster_domain.as_deref(), Some("cluster.local"));
        assert_eq!(
            c.authentication.x509.client_ca_file.as_deref(),
            Some("/etc/kubernetes/pki/ca.crt")
        );
        assert_eq!(c.authentication.anonymous.enabled, Some(false));
        assert_eq!(c.authentication.webhook.enabled, Some(true));
        assert_eq!(c.authorization.mode.as_deref(), Some("Webhook"));
        assert_eq!(c.healthz_bind_address.as_deref(), Some("127.0.0.1"));
        assert_eq!(c.healthz_port, Some(10248));
        assert_eq!(c.read_only_port, None);
        assert_eq!(c.rotate_certificates, Some(true));
        assert_eq!(c.cgroup_driver.as_deref(), Some("systemd"));
        assert_eq!(c.resolv_conf, None, "resolvConf is per node since 1.31");
        assert_eq!(c.feature_gates, Some(BTreeMap::new()));
        assert_eq!(serde_json::to_value(&c).unwrap(), print_defaults_kubelet());
    }

    #[test]
    fn resolv_conf_is_set_per_node_with_systemd_resolved() {
        let (mut c, _) = default_kubelet(None, &input());
        assert_eq!(mutate_kubelet(&mut c, false), None);
        assert_eq!(c.resolv_conf, None);
        assert_eq!(mutate_kubelet(&mut c, true), None);
        assert_eq!(
            c.resolv_conf.as_deref(),
            Some("/run/systemd/resolve/resolv.conf")
        );
        let mut user = KubeletConfiguration {
            resolv_conf: Some("/etc/resolv.conf".into()),
            ..Default::default()
        };
        assert_eq!(mutate_kubelet(&mut user.clone(), false), None);
        let warning = mutate_kubelet(&mut user, true).unwrap();
        assert_eq!(user.resolv_conf.as_deref(), Some("/etc/resolv.conf"));
        assert_eq!(
            warning.to_string(),
            "The recommended value for \"resolvConf\" in \"KubeletConfiguration\" is: \
             /run/systemd/resolve/resolv.conf; the provided value is: /etc/resolv.conf"
        );
    }

    #[test]
    fn empty_kube_proxy_gets_every_kubeadm_value() {
        let (c, warnings) = default_kube_proxy(None, &input());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.bind_address, "0.0.0.0");
        assert_eq!(c.cluster_cidr, "");
        assert_eq!(
            c.client_connection.kubeconfig,
            "/var/lib/kube-proxy/kubeconfig.conf"
        );
        assert_eq!(c.feature_gates, Some(BTreeMap::new()));
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            print_defaults_kube_proxy()
        );
    }

    #[test]
    fn conflicting_kubelet_values_are_kept_and_reported() {
        let mut user = KubeletConfiguration {
            static_pod_path: Some("/srv/manifests".into()),
            cluster_dns: Some(vec!["10.96.0.10".into(), "1.1.1.1".into()]),
            cluster_domain: Some("corp.example".into()),
            healthz_bind_address: Some("0.0.0.0".into()),
            healthz_port: Some(0),
            read_only_port: Some(10255),
            rotate_certificates: Some(false),
            cgroup_driver: Some("cgroupfs".into()),
            resolv_conf: Some(String::new()),
            ..Default::default()
        };
        user.authentication.x509.client_ca_file = Some("/etc/ca.pem".into());
        user.authentication.anonymous.enabled = Some(true);
        user.authentication.webhook.enabled = Some(false);
        user.authorization.mode = Some("AlwaysAllow".into());

        let (c, warnings) = default_kubelet(Some(user), &input());
        let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let k = "in \"KubeletConfiguration\" is:";
        assert_eq!(
            text,
            [
                format!("The recommended value for \"staticPodPath\" {k} /etc/kubernetes/manifests; the provided value is: /srv/manifests"),
                format!("The recommended value for \"clusterDNS\" {k} [10.96.0.10]; the provided value is: [10.96.0.10 1.1.1.1]"),
                format!("The recommended value for \"clusterDomain\" {k} cluster.local; the provided value is: corp.example"),
                format!("The recommended value for \"authentication.x509.clientCAFile\" {k} /etc/kubernetes/pki/ca.crt; the provided value is: /etc/ca.pem"),
                format!("The recommended value for \"authentication.anonymous.enabled\" {k} false; the provided value is: true"),
                format!("The recommended value for \"authorization.mode\" {k} Webhook; the provided value is: AlwaysAllow"),
                format!("The recommended value for \"authentication.webhook.enabled\" {k} true; the provided value is: false"),
                format!("The recommended value for \"healthzBindAddress\" {k} 127.0.0.1; the provided value is: 0.0.0.0"),
                format!("The recommended value for \"healthzPort\" {k} 10248; the provided value is: 0"),
                format!("The recommended value for \"readOnlyPort\" {k} 0; the provided value is: 10255"),
            ]
        );
        // resolvConf is the node's mutation now; an explicit "" is a provided value.
        let mut node = c.clone();
        assert_eq!(
            mutate_kubelet(&mut node, true).map(|w| w.to_string()),
            Some(format!("The recommended value for \"resolvConf\" {k} /run/systemd/resolve/resolv.conf; the provided value is: "))
        );
        assert_eq!(warnings[0].kind, "KubeletConfiguration");
        assert_eq!(warnings[0].field, "staticPodPath");
        // Every user value survives, except rotateCertificates which kubeadm forces.
        assert_eq!(c.static_pod_path.as_deref(), Some("/srv/manifests"));
        assert_eq!(c.cluster_dns.as_ref().map(Vec::len), Some(2));
        assert_eq!(c.cluster_domain.as_deref(), Some("corp.example"));
        assert_eq!(
            c.authentication.x509.client_ca_file.as_deref(),
            Some("/etc/ca.pem")
        );
        assert_eq!(c.authentication.anonymous.enabled, Some(true));
        assert_eq!(c.authentication.webhook.enabled, Some(false));
        assert_eq!(c.authorization.mode.as_deref(), Some("AlwaysAllow"));
        assert_eq!(c.healthz_port, Some(0));
        assert_eq!(c.read_only_port, Some(10255));
        assert_eq!(c.rotate_certificates, Some(true));
        assert_eq!(c.cgroup_driver.as_deref(), Some("cgroupfs"));
        assert_eq!(c.resolv_conf.as_deref(), Some(""));
    }

    #[test]
    fn matching_user_values_are_not_reported() {
        let (defaulted, _) = default_kubelet(None, &input());
        let (again, warnings) = default_kubelet(Some(defaulted.clone()), &input());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(again, defaulted);
        let (proxy, _) = default_kube_proxy(None, &input());
        let (again, warnings) = default_kube_proxy(Some(proxy.clone()), &input());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(again, proxy);
    }

    #[test]
    fn cluster_domain_is_not_reported_without_dns_domain() {
        let user = KubeletConfiguration {
            cluster_domain: Some("corp.example".into()),
            ..Default::default()
        };
        let no_domain = OverlayInput {
            dns_domain: "",
            ..input()
        };
        let (c, warnings) = default_kubelet(Some(user), &no_domain);
        assert!(warnings.is_empty());
        assert_eq!(c.cluster_domain.as_deref(), Some("corp.example"));
    }

    #[test_case("10.96.0.0/12", "10.96.0.10"; "default ipv4")]
    #[test_case("10.96.0.5/12", "10.96.0.10"; "host bits are masked first")]
    #[test_case("192.168.100.0/24", "192.168.100.10"; "small ipv4")]
    #[test_case("fd00:10:96::/112", "fd00:10:96::a"; "ipv6")]
    #[test_case("10.100.0.0/16,fd00::/108", "10.100.0.10"; "dual stack picks the first ipv4")]
    #[test_case("fd00::/108,10.100.0.0/16", "fd00::a"; "dual stack picks the first ipv6")]
    #[test_case("10.96.0.0/29", "10.96.0.10"; "too small falls back")]
    #[test_case("10.97.0.0/30", "10.96.0.10"; "too small falls back to the fixed ip")]
    #[test_case("10.100.0.0/16,bogus", "10.96.0.10"; "any bad cidr falls back")]
    #[test_case("", "10.96.0.10"; "empty falls back")]
    #[test_case("::ffff:10.0.0.0/104", "10.0.0.10"; "ipv4 mapped prints dotted like go")]
    fn cluster_dns_is_the_tenth_address_of_the_first_service_cidr(subnet: &str, want: &str) {
        assert_eq!(cluster_dns_ip(subnet).to_string(), want);
        let (c, _) = default_kubelet(
            None,
            &OverlayInput {
                service_subnet: subnet,
                ..input()
            },
        );
        assert_eq!(c.cluster_dns, Some(vec![want.to_owned()]));
    }

    #[test_case("/etc/kubernetes/pki", "/etc/kubernetes/pki/ca.crt")]
    #[test_case("/etc/kubernetes/pki/", "/etc/kubernetes/pki/ca.crt")]
    #[test_case("/etc//kubernetes/./pki/../pki", "/etc/kubernetes/pki/ca.crt")]
    #[test_case("pki", "pki/ca.crt")]
    #[test_case("", "ca.crt")]
    fn client_ca_file_is_joined_like_go(dir: &str, want: &str) {
        assert_eq!(go_path_join(dir, CA_CERT_NAME), want);
    }

    #[test_case(false, "0.0.0.0"; "ipv4 advertise address")]
    #[test_case(true, "::"; "ipv6 advertise address")]
    fn kube_proxy_bind_address_follows_the_advertise_address(ipv6: bool, want: &str) {
        let inp = OverlayInput {
            advertise_address_is_ipv6: ipv6,
            ..input()
        };
        let (c, warnings) = default_kube_proxy(None, &inp);
        assert_eq!(c.bind_address, want);
        assert!(warnings.is_empty());
    }

    #[test]
    fn kube_proxy_conflicts_are_kept_and_reported() {
        let mut user = KubeProxyConfiguration {
            bind_address: "::".into(),
            cluster_cidr: "10.0.0.0/8".into(),
            ..Default::default()
        };
        user.client_connection.kubeconfig = "/etc/kube-proxy.conf".into();
        let inp = OverlayInput {
            pod_subnet: Some("10.244.0.0/16"),
            ..input()
        };
        let (c, warnings) = default_kube_proxy(Some(user), &inp);
        let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let k = "in \"KubeProxyConfiguration\" is:";
        assert_eq!(
            text,
            [
                format!("The recommended value for \"bindAddress\" {k} 0.0.0.0; the provided value is: ::"),
                format!("The recommended value for \"clusterCIDR\" {k} 10.244.0.0/16; the provided value is: 10.0.0.0/8"),
                format!("The recommended value for \"clientConnection.kubeconfig\" {k} /var/lib/kube-proxy/kubeconfig.conf; the provided value is: /etc/kube-proxy.conf"),
            ]
        );
        assert_eq!(c.bind_address, "::");
        assert_eq!(c.cluster_cidr, "10.0.0.0/8");
        assert_eq!(c.client_connection.kubeconfig, "/etc/kube-proxy.conf");
    }

    #[test]
    fn cluster_cidr_only_when_pod_subnet_is_set() {
        let (c, _) = default_kube_proxy(None, &input());
        assert_eq!(c.cluster_cidr, "");

        let with_pods = OverlayInput {
            pod_subnet: Some("10.244.0.0/16,fd00:244::/56"),
            ..input()
        };
        let (c, warnings) = default_kube_proxy(None, &with_pods);
        assert_eq!(c.cluster_cidr, "10.244.0.0/16,fd00:244::/56");
        assert!(warnings.is_empty());

        // Without a pod subnet a user clusterCIDR is neither changed nor reported.
        let user = KubeProxyConfiguration {
            cluster_cidr: "10.0.0.0/8".into(),
            ..Default::default()
        };
        let (c, warnings) = default_kube_proxy(Some(user.clone()), &input());
        assert_eq!(c.cluster_cidr, "10.0.0.0/8");
        assert!(warnings.is_empty());
        let empty = OverlayInput {
            pod_subnet: Some(""),
            ..input()
        };
        let (c, warnings) = default_kube_proxy(Some(user), &empty);
        assert_eq!(c.cluster_cidr, "10.0.0.0/8");
        assert!(warnings.is_empty());
    }

    /// Every v1.31 KubeletConfiguration field with a non-zero value, under its Go JSON name.
    fn full_kubelet_document() -> Value {
        // A string, not `json!`: the document is larger than the macro's recursion limit.
        serde_json::from_str(
            r#"{
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "enableServer": true,
            "staticPodPath": "/etc/kubernetes/manifests",
            "podLogsDir": "/var/log/pods",
            "syncFrequency": "1m0s",
            "fileCheckFrequency": "20s",
            "httpCheckFrequency": "20s",
            "staticPodURL": "http://example.invalid/pods",
            "staticPodURLHeader": {"X-A": ["1", "2"]},
            "address": "0.0.0.0",
            "port": 10250,
            "readOnlyPort": 10255,
            "tlsCertFile": "/var/lib/kubelet/pki/kubelet.crt",
            "tlsPrivateKeyFile": "/var/lib/kubelet/pki/kubelet.key",
            "tlsCipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
            "tlsMinVersion": "VersionTLS12",
            "rotateCertificates": true,
            "serverTLSBootstrap": true,
            "authentication": {
                "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
                "webhook": {"enabled": true, "cacheTTL": "2m0s"},
                "anonymous": {"enabled": false}
            },
            "authorization": {
                "mode": "Webhook",
                "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}
            },
            "registryPullQPS": 5,
            "registryBurst": 10,
            "eventRecordQPS": 50,
            "eventBurst": 100,
            "enableDebuggingHandlers": true,
            "enableContentionProfiling": true,
            "healthzPort": 10248,
            "healthzBindAddress": "127.0.0.1",
            "oomScoreAdj": -999,
            "clusterDomain": "cluster.local",
            "clusterDNS": ["10.96.0.10"],
            "streamingConnectionIdleTimeout": "4h0m0s",
            "nodeStatusUpdateFrequency": "10s",
            "nodeStatusReportFrequency": "5m0s",
            "nodeLeaseDurationSeconds": 40,
            "imageMinimumGCAge": "2m0s",
            "imageMaximumGCAge": "168h0m0s",
            "imageGCHighThresholdPercent": 85,
            "imageGCLowThresholdPercent": 80,
            "volumeStatsAggPeriod": "1m0s",
            "kubeletCgroups": "/kubelet",
            "systemCgroups": "/system",
            "cgroupRoot": "/",
            "cgroupsPerQOS": true,
            "cgroupDriver": "systemd",
            "cpuManagerPolicy": "static",
            "cpuManagerPolicyOptions": {"full-pcpus-only": "true"},
            "cpuManagerReconcilePeriod": "10s",
            "memoryManagerPolicy": "Static",
            "topologyManagerPolicy": "best-effort",
            "topologyManagerScope": "pod",
            "topologyManagerPolicyOptions": {"prefer-closest-numa-nodes": "true"},
            "qosReserved": {"memory": "50%"},
            "runtimeRequestTimeout": "2m0s",
            "hairpinMode": "promiscuous-bridge",
            "maxPods": 110,
            "podCIDR": "10.244.0.0/24",
            "podPidsLimit": -1,
            "runOnce": true,
            "cpuCFSQuota": true,
            "cpuCFSQuotaPeriod": "100ms",
            "nodeStatusMaxImages": 50,
            "maxOpenFiles": 1000000,
            "contentType": "application/vnd.kubernetes.protobuf",
            "kubeAPIQPS": 50,
            "kubeAPIBurst": 100,
            "serializeImagePulls": false,
            "maxParallelImagePulls": 3,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "10%"},
            "evictionSoft": {"memory.available": "300Mi"},
            "evictionSoftGracePeriod": {"memory.available": "30s"},
            "evictionPressureTransitionPeriod": "5m0s",
            "evictionMaxPodGracePeriod": 30,
            "evictionMinimumReclaim": {"imagefs.available": "2Gi"},
            "podsPerCore": 10,
            "enableControllerAttachDetach": true,
            "protectKernelDefaults": true,
            "makeIPTablesUtilChains": true,
            "iptablesMasqueradeBit": 14,
            "iptablesDropBit": 15,
            "featureGates": {"NodeSwap": true, "SidecarContainers": false},
            "failSwapOn": false,
            "memorySwap": {"swapBehavior": "LimitedSwap"},
            "containerLogMaxSize": "10Mi",
            "containerLogMaxFiles": 5,
            "containerLogMaxWorkers": 1,
            "containerLogMonitorInterval": "10s",
            "configMapAndSecretChangeDetectionStrategy": "Watch",
            "systemReserved": {"cpu": "200m", "memory": "150Mi"},
            "kubeReserved": {"cpu": "100m"},
            "reservedSystemCPUs": "0-1",
            "showHiddenMetricsForVersion": "1.30",
            "systemReservedCgroup": "/system.slice",
            "kubeReservedCgroup": "/kube.slice",
            "enforceNodeAllocatable": ["pods", "system-reserved"],
            "allowedUnsafeSysctls": ["net.core.somaxconn"],
            "volumePluginDir": "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/",
            "providerID": "aws:///eu-west-1a/i-0123",
            "kernelMemcgNotification": true,
            "logging": {
                "format": "json",
                "flushFrequency": "5s",
                "verbosity": 2,
                "vmodule": [{"filePattern": "kubelet*", "verbosity": 4}],
                "options": {
                    "text": {"splitStream": true, "infoBufferSize": "1Mi"},
                    "json": {"infoBufferSize": "0"}
                }
            },
            "enableSystemLogHandler": true,
            "enableSystemLogQuery": false,
            "shutdownGracePeriod": "30s",
            "shutdownGracePeriodCriticalPods": "10s",
            "shutdownGracePeriodByPodPriority": [
                {"priority": 2000000000, "shutdownGracePeriodSeconds": 10}
            ],
            "reservedMemory": [{"numaNode": 0, "limits": {"memory": "1Gi"}}],
            "enableProfilingHandler": true,
            "enableDebugFlagsHandler": true,
            "seccompDefault": true,
            "memoryThrottlingFactor": 0.9,
            "registerWithTaints": [
                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                {"key": "k", "value": "v", "effect": "NoExecute", "timeAdded": "2024-08-13T00:00:00Z"}
            ],
            "registerNode": true,
            "tracing": {"endpoint": "localhost:4317", "samplingRatePerMillion": 100},
            "localStorageCapacityIsolation": true,
            "containerRuntimeEndpoint": "unix:///var/run/containerd/containerd.sock",
            "imageServiceEndpoint": "unix:///var/run/containerd/containerd.sock",
            "failCgroupV1": false
        }"#,
        )
        .expect("valid JSON")
    }

    #[test]
    fn full_kubelet_document_round_trips() {
        let doc = full_kubelet_document();
        let parsed: KubeletConfiguration = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), doc);
        assert_eq!(
            parsed.logging.flush_frequency,
            TimeOrMetaDuration {
                duration: Duration::from_secs(5),
                serialize_as_string: true
            }
        );
        assert_eq!(parsed.memory_throttling_factor, Some(0.9));
    }

    #[test]
    fn full_kube_proxy_document_round_trips() {
        let mut doc = print_defaults_kube_proxy();
        let extra = json!({
            "featureGates": {"NFTablesProxyMode": true},
            "clientConnection": {
                "acceptContentTypes": "application/json",
                "burst": 10,
                "contentType": "application/vnd.kubernetes.protobuf",
                "kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf",
                "qps": 5.5
            },
            "mode": "ipvs",
            "iptables": {
                "localhostNodePorts": true,
                "masqueradeAll": true,
                "masqueradeBit": 14,
                "minSyncPeriod": "1s",
                "syncPeriod": "30s"
            },
            "ipvs": {
                "excludeCIDRs": ["10.0.0.0/8"],
                "minSyncPeriod": "0s",
                "scheduler": "rr",
                "strictARP": true,
                "syncPeriod": "30s",
                "tcpFinTimeout": "0s",
                "tcpTimeout": "0s",
                "udpTimeout": "0s"
            },
            "conntrack": {
                "maxPerCore": 32768,
                "min": 131072,
                "tcpBeLiberal": false,
                "tcpCloseWaitTimeout": "1h0m0s",
                "tcpEstablishedTimeout": "24h0m0s",
                "udpStreamTimeout": "0s",
                "udpTimeout": "0s"
            },
            "logging": {
                "flushFrequency": 5000000000u64,
                "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
                "verbosity": 0
            },
            "nodePortAddresses": ["primary"],
            "oomScoreAdj": -999,
            "windowsRunAsService": true
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        let parsed: KubeProxyConfiguration = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(parsed.client_connection.qps, 5.5);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), doc);
    }

    #[test]
    fn unknown_and_post_1_31_fields_are_rejected() {
        for field in [
            "crashLoopBackOff",
            "singleProcessOOMKill",
            "userNamespaces",
            "clientCaFile",
        ] {
            let doc = json!({ field: {} });
            assert!(
                serde_json::from_value::<KubeletConfiguration>(doc).is_err(),
                "{field} was accepted"
            );
        }
        let doc = json!({"iptables": {"snatNodeInternalIP": true}});
        assert!(serde_json::from_value::<KubeProxyConfiguration>(doc).is_err());
    }

    #[test]
    fn omitempty_drops_zero_values_like_go() {
        let doc = json!({
            "staticPodPath": "",
            "port": 0,
            "runOnce": false,
            "clusterDNS": [],
            "evictionHard": {},
            "resolvConf": "",
            "healthzPort": 0
        });
        let parsed: KubeletConfiguration = serde_json::from_value(doc).unwrap();
        // Pointers (`resolvConf`, `healthzPort`) keep an explicit zero; the rest is omitted.
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            json!({
                "authentication": {"anonymous": {}, "webhook": {"cacheTTL": "0s"}, "x509": {}},
                "authorization": {"webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"}},
                "containerRuntimeEndpoint": "",
                "cpuManagerReconcilePeriod": "0s",
                "evictionPressureTransitionPeriod": "0s",
                "fileCheckFrequency": "0s",
                "healthzPort": 0,
                "httpCheckFrequency": "0s",
                "imageMaximumGCAge": "0s",
                "imageMinimumGCAge": "0s",
                "logging": {
                    "flushFrequency": 0,
                    "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
                    "verbosity": 0
                },
                "memorySwap": {},
                "nodeStatusReportFrequency": "0s",
                "nodeStatusUpdateFrequency": "0s",
                "resolvConf": "",
                "runtimeRequestTimeout": "0s",
                "shutdownGracePeriod": "0s",
                "shutdownGracePeriodCriticalPods": "0s",
                "streamingConnectionIdleTimeout": "0s",
                "syncFrequency": "0s",
                "volumeStatsAggPeriod": "0s"
            })
        );
    }

    /// The published-copy fixture (reconstructed by another helper from kubeadm-generated
    /// outputs): documents 3 and 4 are the two component configs.
    const PRINT_DEFAULTS_FIXTURE: &str =
        include_str!("../../../fixtures/kubeadm/print-init-defaults-component-configs-1.31.yaml");

    fn fixture_document(kind: &str) -> &'static str {
        PRINT_DEFAULTS_FIXTURE
            .split("\n---\n")
            .find(|doc| doc.lines().any(|l| l == format!("kind: {kind}")))
            .expect("the fixture has this kind")
    }

    /// Every path at which two JSON trees differ, for a readable failure.
    fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
        match (want, got) {
            (Value::Object(w), Value::Object(g)) => {
                for key in w.keys().chain(g.keys().filter(|k| !w.contains_key(*k))) {
                    let sub = format!("{path}.{key}");
                    match (w.get(key), g.get(key)) {
                        (Some(a), Some(b)) => differences(&sub, a, b, out),
                        (a, b) => out.push(format!("{sub}: fixture {a:?}, kbc {b:?}")),
                    }
                }
            }
            _ if want != got => out.push(format!("{path}: fixture {want}, kbc {got}")),
            _ => {}
        }
    }

    #[test_case("KubeletConfiguration"; "kubelet")]
    #[test_case("KubeProxyConfiguration"; "kube proxy")]
    fn print_init_defaults_fixture_matches_field_by_field(kind: &str) {
        let text = fixture_document(kind);
        let want: Value = serde_saphyr::from_str(text).unwrap();
        let got = match kind {
            KUBELET_KIND => serde_json::to_value(default_kubelet(None, &input()).0),
            _ => serde_json::to_value(default_kube_proxy(None, &input()).0),
        }
        .unwrap();
        let mut diff = Vec::new();
        differences(kind, &want, &got, &mut diff);
        assert!(diff.is_empty(), "{}", diff.join("\n"));
        // And byte for byte through kbc's YAML writer.
        let yaml = match kind {
            KUBELET_KIND => crate::yaml::ser::to_yaml(&default_kubelet(None, &input()).0),
            _ => crate::yaml::ser::to_yaml(&default_kube_proxy(None, &input()).0),
        };
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(yaml, body);
    }

    #[test]
    fn yaml_document_decodes_through_the_project_reader() {
        let text = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
                    cgroupDriver: cgroupfs\nlogging:\n  flushFrequency: 1000\n\
                    clusterDNS:\n- 10.96.0.10\nbogusField: 1\n";
        let chunk = crate::yaml::node::Chunk {
            text: text.to_owned(),
            first_line: 1,
        };
        let node = crate::yaml::node::parse_document(&chunk)
            .unwrap()
            .0
            .unwrap();
        let (parsed, unknown) = crate::yaml::de::from_node::<KubeletConfiguration>(&node);
        let parsed = parsed.unwrap();
        assert_eq!(parsed.cgroup_driver.as_deref(), Some("cgroupfs"));
        assert_eq!(parsed.logging.flush_frequency.duration, Duration(1000));
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].key, "bogusField");
    }
}
