//! `JoinConfiguration` (v1beta4 and v1beta3; `cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go`): one document per further node of a
//! cluster file. v1beta3 converts to v1beta4 as kubeadm's conversion does (argument maps to
//! name-sorted lists, `discovery.timeout` to `timeouts.discovery`).

use super::v1beta3;
use super::v1beta4::{ApiEndpoint, NodeRegistrationOptions, Patches, Timeouts};
use crate::config::duration::Duration;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinConfiguration {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    #[serde(default)]
    pub node_registration: NodeRegistrationOptions,
    #[serde(
        default,
        rename = "caCertPath",
        skip_serializing_if = "String::is_empty"
    )]
    pub ca_cert_path: String,
    /// Optional in a cluster file: kbc knows the cluster (docs/clusters.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<Discovery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<JoinControlPlane>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_phases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinConfigurationV1beta3 {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub node_registration: v1beta3::NodeRegistrationOptions,
    #[serde(default, rename = "caCertPath")]
    pub ca_cert_path: String,
    #[serde(default)]
    pub discovery: Option<Discovery>,
    #[serde(default)]
    pub control_plane: Option<JoinControlPlane>,
    #[serde(default)]
    pub skip_phases: Vec<String>,
    #[serde(default)]
    pub patches: Option<Patches>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<BootstrapTokenDiscovery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileDiscovery>,
    #[serde(
        default,
        rename = "tlsBootstrapToken",
        skip_serializing_if = "String::is_empty"
    )]
    pub tls_bootstrap_token: String,
    /// v1beta3 only; v1beta4 moved it to `timeouts.discovery`.
    #[serde(default, skip_serializing)]
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapTokenDiscovery {
    #[serde(default)]
    pub token: String,
    #[serde(
        default,
        rename = "apiServerEndpoint",
        skip_serializing_if = "String::is_empty"
    )]
    pub api_server_endpoint: String,
    #[serde(
        default,
        rename = "caCertHashes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ca_cert_hashes: Vec<String>,
    #[serde(
        default,
        rename = "unsafeSkipCAVerification",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub unsafe_skip_ca_verification: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDiscovery {
    #[serde(default)]
    pub kube_config_path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinControlPlane {
    #[serde(default, rename = "localAPIEndpoint")]
    pub local_api_endpoint: ApiEndpoint,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certificate_key: String,
}

/// v1beta3 → v1beta4 (`v1beta3/conversion.go`): `kubeletExtraArgs` sorted by name, the
/// `discovery.timeout` into `timeouts.discovery` (PR #125480, `cmd/kubeadm/app/apis/kubeadm/v1beta3/conversion.go`).
pub(crate) fn convert(c: JoinConfigurationV1beta3) -> JoinConfiguration {
    let nr = c.node_registration;
    let timeout = c.discovery.as_ref().and_then(|d| d.timeout);
    JoinConfiguration {
        api_version: super::v1beta4::GROUP_VERSION.into(),
        kind: c.kind,
        dry_run: false,
        node_registration: NodeRegistrationOptions {
            name: nr.name,
            cri_socket: nr.cri_socket,
            taints: nr.taints,
            kubelet_extra_args: nr
                .kubelet_extra_args
                .into_iter()
                .map(|(name, value)| super::v1beta4::Arg { name, value })
                .collect(),
            ignore_preflight_errors: nr.ignore_preflight_errors,
            image_pull_policy: nr.image_pull_policy,
            image_pull_serial: None,
        },
        ca_cert_path: c.ca_cert_path,
        discovery: c.discovery,
        control_plane: c.control_plane,
        skip_phases: c.skip_phases,
        patches: c.patches,
        timeouts: timeout.map(|t| Timeouts {
            discovery: Some(t),
            ..Timeouts::default()
        }),
    }
}
