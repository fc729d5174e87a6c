//! `KubeProxyConfiguration` of `kubeproxy.config.k8s.io/v1alpha1`, as kubeadm v1.31 reads and
//! writes it.
//!
//! Same conventions as [`super::kubelet`] (Go `omitempty` → zero-aware skip, pointers without
//! `omitempty` → `null`). Almost no kube-proxy field has `omitempty`, which is why kubeadm's
//! printed kube-proxy document lists every field with its zero value (`bindAddressHardFail:
//! false`, `masqueradeBit: null`, `excludeCIDRs: null`, `configSyncPeriod: 0s`, ...).
//!
//! Sources read (kubernetes/kubernetes):
//! - `staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go` at
//!   `052d2d84f95e90aa94868b51a48b1ae7a1c91152` (a post-1.31 version: JSON tags and Go types),
//!   narrowed to the v1.29–v1.31 field set of the generated reference
//!   `kubernetes/website: content/en/docs/reference/config-api/kube-proxy-config.v1alpha1.md`
//!   (the version describing `nodePortAddresses` as CIDRs or the single string `primary`).
//!   The later `iptables.snatNodeInternalIP` is deliberately absent.
//! - component-base `config/v1alpha1` `ClientConnectionConfiguration` (`kubeconfig`,
//!   `acceptContentTypes`, `contentType`, `qps` float32, `burst` int32; no `omitempty`).
//! - component-base `logs/api/v1` `LoggingConfiguration`, shared from [`super::kubelet`].
//!
//! kube-proxy v1alpha1 has no `DebuggingConfiguration`: profiling is the flat `enableProfiling`.

use super::kubelet::{gofloat, omit, LoggingConfiguration};
use crate::config::duration::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// KubeProxyConfiguration contains everything necessary to configure kube-proxy (v1.31).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxyConfiguration {
    #[serde(rename = "apiVersion", default, skip_serializing_if = "omit::str")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "omit::str")]
    pub kind: Option<String>,

    #[serde(rename = "featureGates", default, skip_serializing_if = "omit::map")]
    pub feature_gates: Option<BTreeMap<String, bool>>,
    #[serde(rename = "clientConnection", default)]
    pub client_connection: ClientConnectionConfiguration,
    /// `json:"logging,omitempty"` on a struct: always written.
    #[serde(default)]
    pub logging: LoggingConfiguration,
    #[serde(rename = "hostnameOverride", default)]
    pub hostname_override: String,
    #[serde(rename = "bindAddress", default)]
    pub bind_address: String,
    #[serde(rename = "healthzBindAddress", default)]
    pub healthz_bind_address: String,
    #[serde(rename = "metricsBindAddress", default)]
    pub metrics_bind_address: String,
    #[serde(rename = "bindAddressHardFail", default)]
    pub bind_address_hard_fail: bool,
    #[serde(rename = "enableProfiling", default)]
    pub enable_profiling: bool,
    #[serde(rename = "showHiddenMetricsForVersion", default)]
    pub show_hidden_metrics_for_version: String,
    /// Go `ProxyMode` (`iptables`, `ipvs`, `nftables`, `kernelspace`); not validated by kubeadm.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub iptables: KubeProxyIPTablesConfiguration,
    #[serde(default)]
    pub ipvs: KubeProxyIPVSConfiguration,
    #[serde(default)]
    pub nftables: KubeProxyNFTablesConfiguration,
    #[serde(default)]
    pub winkernel: KubeProxyWinkernelConfiguration,
    /// Go `LocalMode`; not validated by kubeadm.
    #[serde(rename = "detectLocalMode", default)]
    pub detect_local_mode: String,
    #[serde(rename = "detectLocal", default)]
    pub detect_local: DetectLocalConfiguration,
    #[serde(rename = "clusterCIDR", default)]
    pub cluster_cidr: String,
    /// No `omitempty`: nil prints `null`.
    #[serde(rename = "nodePortAddresses", default)]
    pub node_port_addresses: Option<Vec<String>>,
    /// `*int32` without `omitempty`: nil prints `null`.
    #[serde(rename = "oomScoreAdj", default)]
    pub oom_score_adj: Option<i32>,
    #[serde(default)]
    pub conntrack: KubeProxyConntrackConfiguration,
    #[serde(rename = "configSyncPeriod", default)]
    pub config_sync_period: Duration,
    #[serde(rename = "portRange", default)]
    pub port_range: String,
    #[serde(
        rename = "windowsRunAsService",
        default,
        skip_serializing_if = "omit::bool"
    )]
    pub windows_run_as_service: Option<bool>,
}

/// component-base `ClientConnectionConfiguration`: how kube-proxy builds its API client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConnectionConfiguration {
    #[serde(default)]
    pub kubeconfig: String,
    #[serde(rename = "acceptContentTypes", default)]
    pub accept_content_types: String,
    #[serde(rename = "contentType", default)]
    pub content_type: String,
    /// Go `float32`; written like Go (`0`, `5`, `0.5`).
    #[serde(default, serialize_with = "gofloat::f32")]
    pub qps: f32,
    #[serde(default)]
    pub burst: i32,
}

/// KubeProxyIPTablesConfiguration: iptables-mode settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxyIPTablesConfiguration {
    #[serde(rename = "masqueradeBit", default)]
    pub masquerade_bit: Option<i32>,
    #[serde(rename = "masqueradeAll", default)]
    pub masquerade_all: bool,
    #[serde(rename = "localhostNodePorts", default)]
    pub localhost_node_ports: Option<bool>,
    #[serde(rename = "syncPeriod", default)]
    pub sync_period: Duration,
    #[serde(rename = "minSyncPeriod", default)]
    pub min_sync_period: Duration,
}

/// KubeProxyIPVSConfiguration: ipvs-mode settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxyIPVSConfiguration {
    #[serde(rename = "syncPeriod", default)]
    pub sync_period: Duration,
    #[serde(rename = "minSyncPeriod", default)]
    pub min_sync_period: Duration,
    #[serde(default)]
    pub scheduler: String,
    #[serde(rename = "excludeCIDRs", default)]
    pub exclude_cidrs: Option<Vec<String>>,
    #[serde(rename = "strictARP", default)]
    pub strict_arp: bool,
    #[serde(rename = "tcpTimeout", default)]
    pub tcp_timeout: Duration,
    #[serde(rename = "tcpFinTimeout", default)]
    pub tcp_fin_timeout: Duration,
    #[serde(rename = "udpTimeout", default)]
    pub udp_timeout: Duration,
}

/// KubeProxyNFTablesConfiguration: nftables-mode settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxyNFTablesConfiguration {
    #[serde(rename = "masqueradeBit", default)]
    pub masquerade_bit: Option<i32>,
    #[serde(rename = "masqueradeAll", default)]
    pub masquerade_all: bool,
    #[serde(rename = "syncPeriod", default)]
    pub sync_period: Duration,
    #[serde(rename = "minSyncPeriod", default)]
    pub min_sync_period: Duration,
}

/// KubeProxyWinkernelConfiguration: Windows/HNS settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxyWinkernelConfiguration {
    #[serde(rename = "networkName", default)]
    pub network_name: String,
    #[serde(rename = "sourceVip", default)]
    pub source_vip: String,
    #[serde(rename = "enableDSR", default)]
    pub enable_dsr: bool,
    #[serde(rename = "rootHnsEndpointName", default)]
    pub root_hns_endpoint_name: String,
    #[serde(rename = "forwardHealthCheckVip", default)]
    pub forward_health_check_vip: bool,
}

/// DetectLocalConfiguration: settings for `detectLocalMode`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectLocalConfiguration {
    #[serde(rename = "bridgeInterface", default)]
    pub bridge_interface: String,
    #[serde(rename = "interfaceNamePrefix", default)]
    pub interface_name_prefix: String,
}

/// KubeProxyConntrackConfiguration: conntrack settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxyConntrackConfiguration {
    #[serde(rename = "maxPerCore", default)]
    pub max_per_core: Option<i32>,
    #[serde(default)]
    pub min: Option<i32>,
    #[serde(rename = "tcpEstablishedTimeout", default)]
    pub tcp_established_timeout: Option<Duration>,
    #[serde(rename = "tcpCloseWaitTimeout", default)]
    pub tcp_close_wait_timeout: Option<Duration>,
    #[serde(rename = "tcpBeLiberal", default)]
    pub tcp_be_liberal: bool,
    #[serde(rename = "udpTimeout", default)]
    pub udp_timeout: Duration,
    #[serde(rename = "udpStreamTimeout", default)]
    pub udp_stream_timeout: Duration,
}
