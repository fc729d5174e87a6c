//! `JoinConfiguration` (v1beta4 and v1beta3), read only to check its fields: `kubeadm init`
//! ignores the document, but still runs the version gate and the strict check on it.

// The fields are decoded to check kubeadm's schema (unknown fields, wrong types); kbc uses
// none of the values.
#![allow(dead_code)]

use super::v1beta4::{ApiEndpoint, NodeRegistrationOptions, Patches, Timeouts};
use crate::config::duration::Duration;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinConfigurationV1beta4 {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub dry_run: Option<bool>,
    pub node_registration: Option<NodeRegistrationOptions>,
    #[serde(rename = "caCertPath")]
    pub ca_cert_path: Option<String>,
    pub discovery: Option<Discovery>,
    pub control_plane: Option<JoinControlPlane>,
    pub skip_phases: Option<Vec<String>>,
    pub patches: Option<Patches>,
    pub timeouts: Option<Timeouts>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinConfigurationV1beta3 {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub node_registration: Option<NodeRegistrationV1beta3>,
    #[serde(rename = "caCertPath")]
    pub ca_cert_path: Option<String>,
    pub discovery: Option<Discovery>,
    pub control_plane: Option<JoinControlPlane>,
    pub skip_phases: Option<Vec<String>>,
    pub patches: Option<Patches>,
}

/// v1beta3 node registration: `kubeletExtraArgs` is a map.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeRegistrationV1beta3 {
    pub name: Option<String>,
    pub cri_socket: Option<String>,
    pub taints: Option<Vec<super::v1beta4::Taint>>,
    pub kubelet_extra_args: Option<BTreeMap<String, String>>,
    pub ignore_preflight_errors: Option<Vec<String>>,
    pub image_pull_policy: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Discovery {
    pub bootstrap_token: Option<BootstrapTokenDiscovery>,
    pub file: Option<FileDiscovery>,
    #[serde(rename = "tlsBootstrapToken")]
    pub tls_bootstrap_token: Option<String>,
    /// v1beta3 only; v1beta4 moved it to `timeouts.discovery`.
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BootstrapTokenDiscovery {
    pub token: Option<String>,
    #[serde(rename = "apiServerEndpoint")]
    pub api_server_endpoint: Option<String>,
    #[serde(rename = "caCertHashes")]
    pub ca_cert_hashes: Option<Vec<String>>,
    #[serde(rename = "unsafeSkipCAVerification")]
    pub unsafe_skip_ca_verification: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileDiscovery {
    pub kube_config_path: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinControlPlane {
    #[serde(rename = "localAPIEndpoint")]
    pub local_api_endpoint: Option<ApiEndpoint>,
    pub certificate_key: Option<String>,
}
