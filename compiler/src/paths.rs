//! The host paths and ports kubeadm fixes (`cmd/kubeadm/app/constants/constants.go`), one
//! definition each, and the mapping of a host path to its bundle path (`rootfs/...`,
//! docs/bundle-format.md).

/// `KubernetesDir`: kubeconfigs and static Pod manifests.
pub(crate) const KUBERNETES_DIR: &str = "/etc/kubernetes";
/// `GetStaticPodDirectory()`: where the kubelet reads static Pods (shared with kbc-apply).
pub(crate) use kbc_bundle::apply::MANIFESTS_DIR;

/// etcd's client port (`EtcdListenClientPort`).
pub(crate) const ETCD_CLIENT_PORT: u16 = 2379;
/// etcd's peer port (`EtcdListenPeerPort`).
pub(crate) const ETCD_PEER_PORT: u16 = 2380;
/// etcd's metrics port (`EtcdMetricsPort`).
pub(crate) const ETCD_METRICS_PORT: u16 = 2381;
/// kube-controller-manager's secure port (`KubeControllerManagerPort`).
pub(crate) const CONTROLLER_MANAGER_PORT: u16 = 10257;
/// kube-scheduler's secure port (`KubeSchedulerPort`).
pub(crate) const SCHEDULER_PORT: u16 = 10259;
/// The kubelet's port (`KubeletPort`).
pub(crate) const KUBELET_PORT: u16 = 10250;

/// etcd's client URL on `host` (`etcdutil.GetClientURL`): `https://<host>:2379`, IPv6
/// bracketed.
pub(crate) fn etcd_client_url(host: &str) -> String {
    format!(
        "https://{}",
        crate::netutil::join_host_port(host, ETCD_CLIENT_PORT)
    )
}

/// etcd's peer URL on `host` (`etcdutil.GetPeerURL`): `https://<host>:2380`.
pub(crate) fn etcd_peer_url(host: &str) -> String {
    format!(
        "https://{}",
        crate::netutil::join_host_port(host, ETCD_PEER_PORT)
    )
}

/// `/etc/kubernetes/<name>` (a kubeconfig).
pub(crate) fn kubernetes_file(name: &str) -> String {
    format!("{KUBERNETES_DIR}/{name}")
}

/// The bundle path of host path `abs`: `/etc/kubernetes/admin.conf` →
/// `rootfs/etc/kubernetes/admin.conf` ([`kbc_bundle::ROOTFS_PREFIX`]).
pub(crate) fn rootfs(abs: &str) -> String {
    format!(
        "{}{}",
        kbc_bundle::ROOTFS_PREFIX,
        abs.trim_start_matches('/')
    )
}
