//! The manifest's `apply` section: what the applier needs that is not a file. Written by
//! `kbc compile`, read by `kbc-apply`; every field is named in kubeadm's terms.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `apiFiles` phase of the `kubeadm:cluster-admins` ClusterRoleBinding, which kubeadm
/// creates the first time a phase asks for its API client (`initData.Client()`): not a
/// kubeadm phase name, a kbc one, so that the applier can put the binding before the first
/// phase that uses the client.
pub const CLUSTER_ADMINS_PHASE: &str = "cluster-admins";

/// The stand-in for an owner's `uid` in an object's `metadata.ownerReferences`:
/// `kbc:uid-of:<namespace>/<name>`. The uid exists only once the API server has created the
/// owner, so the compiler writes this and the applier replaces it with the owner's uid
/// before sending the object.
pub const OWNER_UID_PLACEHOLDER: &str = "kbc:uid-of:";

/// kubeadm's static Pod directory (`GetStaticPodDirectory()`): where the compiler puts the
/// static Pods, and the applier's `preflight.manifestsDir` when a plan leaves it empty.
pub const MANIFESTS_DIR: &str = "/etc/kubernetes/manifests";

/// Everything `kbc-apply BUNDLE` does after installing the files, in kubeadm's phase order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyPlan {
    /// kubeadm phase names still to run on the node, in order, after `skipPhases`
    /// (e.g. `preflight`, `kubelet-start`, `wait-control-plane`, `upload-config/kubeadm`, ...,
    /// `show-join-command`). Phases that only write files ran at compile time.
    pub phases: Vec<String>,
    /// The API object files, in apply order, with the phase each belongs to.
    pub api_files: Vec<ApiFileRef>,
    /// Bootstrap token Secrets whose `expiration` the applier sets (apply time + TTL).
    pub bootstrap_tokens: Vec<TokenRef>,
    /// Whether the upload-certs phase runs (`--upload-certs`).
    pub upload_certs: bool,
    pub wait: WaitPlan,
    pub node: NodePlan,
    pub preflight: PreflightPlan,
    /// Where kbc-apply connects: the local API server URL (`https://<adv>:<port>`).
    pub api_server: String,
    /// The kubeconfig with cluster-admin rights (`/etc/kubernetes/admin.conf`) and the
    /// fallback kubeadm uses before `kubeadm:cluster-admins` exists.
    pub admin_kubeconfig: String,
    pub super_admin_kubeconfig: String,
    /// `/etc/kubernetes/kubelet.conf`, rewritten by kubelet-finalize.
    pub kubelet_kubeconfig: String,
    /// A joining node's bundle (docs/clusters.md); absent in an init bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<JoinPlan>,
}

/// What `kbc-apply` needs to join a node (kubeadm's join phases, `cmd/kubeadm/app/cmd/join.go`; docs/clusters.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinPlan {
    /// `control-plane` or `worker`.
    pub role: String,
    /// A generic worker: the kubelet TLS-bootstraps with this kubeconfig (then deleted),
    /// and kubelet-start waits for the kubelet.conf it writes. Empty for a named node,
    /// whose kubelet.conf is in the bundle.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bootstrap_kubeconfig: String,
    /// `timeouts.tlsBootstrap`.
    pub tls_bootstrap_seconds: u64,
    /// `caCertPath`: where the cluster CA is installed (kubeadm's worker preflight wants it
    /// absent).
    pub ca_cert_path: String,
    /// The stacked etcd member this node adds; absent for workers and external etcd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<EtcdJoin>,
}

/// A stacked etcd member joining the cluster (`cmd/kubeadm/app/phases/etcd/local.go`; docs/clusters.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdJoin {
    /// This member.
    pub member: EtcdMember,
    /// The members before it, in join order: exactly these must be in the cluster when it
    /// joins (or these and itself, on a re-run).
    pub existing: Vec<EtcdMember>,
    /// Add as a learner and promote it (EtcdLearnerMode, on by default in 1.31), else add
    /// as a voting member.
    pub learner: bool,
    /// `/etc/kubernetes/manifests/etcd.yaml`: installed by `control-plane-join/etcd` after
    /// the member is added, never by `install`.
    pub manifest: String,
    /// `etcd.local.dataDir`, created 0700 before the manifest.
    pub data_dir: String,
    /// The etcd CA and the client pair kbc-apply talks to etcd with (kubeadm's
    /// `etcd/healthcheck-client`).
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    /// How long each membership step is retried (kubeadm's 2-minute `EtcdAPICallTimeout`).
    pub api_call_seconds: u64,
}

/// One etcd member by kubeadm's addresses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdMember {
    pub name: String,
    /// `https://<adv>:2380`.
    pub peer_url: String,
    /// `https://<adv>:2379`.
    pub client_url: String,
}

impl ApplyPlan {
    /// The node paths the plan names (kubeconfigs, the manifests and etcd data directories)
    /// must be absolute and clean, as `rootfs/` paths are: `--root` is a boundary that no
    /// `..` may cross. Returns the first that is not, with why.
    pub fn check_paths(&self) -> Result<(), String> {
        let named = [
            ("adminKubeconfig", Some(&self.admin_kubeconfig)),
            ("superAdminKubeconfig", Some(&self.super_admin_kubeconfig)),
            ("kubeletKubeconfig", Some(&self.kubelet_kubeconfig)),
            (
                "preflight.manifestsDir",
                Some(&self.preflight.manifests_dir),
            ),
            (
                "preflight.etcdDataDir",
                self.preflight.etcd_data_dir.as_ref(),
            ),
        ];
        let etcd = self.join.as_ref().and_then(|j| j.etcd.as_ref());
        let bootstrap = self.join.as_ref().map(|j| &j.bootstrap_kubeconfig);
        let named = named.into_iter().chain([
            ("join.bootstrapKubeconfig", bootstrap),
            (
                "join.caCertPath",
                self.join.as_ref().map(|j| &j.ca_cert_path),
            ),
            ("join.etcd.manifest", etcd.map(|e| &e.manifest)),
            ("join.etcd.dataDir", etcd.map(|e| &e.data_dir)),
        ]);
        for (field, path) in named {
            let Some(path) = path.filter(|p| !p.is_empty()) else {
                continue;
            };
            let reason = match path.strip_prefix('/') {
                None => Some("the path is not absolute"),
                Some(rel) => crate::check_path(rel).err(),
            };
            if let Some(reason) = reason {
                return Err(format!("apply.{field} {path:?}: {reason}"));
            }
        }
        Ok(())
    }
}

/// One `api/NN-<phase>.yaml` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiFileRef {
    pub path: String,
    pub phase: String,
}

/// A bootstrap token Secret in an api file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRef {
    /// `bootstrap-token-<id>` in `kube-system`.
    pub secret_name: String,
    /// Seconds from apply time to expiration; `None` for tokens that never expire (ttl 0) or
    /// that carry an absolute `expiration` already.
    pub ttl_seconds: Option<u64>,
}

/// What wait-control-plane waits for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitPlan {
    /// `kube-apiserver` always; the controller-manager and scheduler too with
    /// WaitForAllControlPlaneComponents.
    pub components: Vec<WaitTarget>,
    pub kubelet_health_check_seconds: u64,
    pub control_plane_component_health_check_seconds: u64,
    pub kubernetes_api_call_seconds: u64,
}

/// A health endpoint to poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitTarget {
    pub name: String,
    /// e.g. `https://10.0.0.10:6443/livez`, `https://127.0.0.1:10257/healthz`.
    pub url: String,
}

/// mark-control-plane and the CRI socket annotation of upload-config/kubelet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePlan {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    pub effect: String,
}

/// Inputs of the preflight checks (kubeadm's init preflight).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreflightPlan {
    pub kubernetes_version: String,
    pub node_name: String,
    pub cri_socket: String,
    /// Ports that must be free: bindPort, 10259, 10257, 10250, and 2379/2380 with local etcd.
    pub ports: Vec<u16>,
    pub manifests_dir: String,
    /// Local etcd's data directory; `None` with external etcd.
    pub etcd_data_dir: Option<String>,
    /// `nodeRegistration.ignorePreflightErrors`, lower-cased.
    pub ignore_errors: Vec<String>,
}
