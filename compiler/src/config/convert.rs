//! v1beta3 → v1beta4, as `cmd/kubeadm/app/apis/kubeadm/v1beta3/conversion.go` does through
//! the internal type: argument maps become lists sorted by name, the fields v1beta3 lacks get
//! their v1beta4 defaults (`imagePullSerial`, `encryptionAlgorithm`, validity periods,
//! timeouts), and `apiServer.timeoutForControlPlane` moves to
//! `timeouts.controlPlaneComponentHealthCheck` (what `kubeadm config migrate` writes).

use super::wire::{v1beta3 as old, v1beta4 as new};

fn args(map: old::ArgMap) -> Vec<new::Arg> {
    // A BTreeMap iterates in name order, which is kubeadm's sort.
    map.into_iter()
        .map(|(name, value)| new::Arg { name, value })
        .collect()
}

pub(crate) fn init(c: old::InitConfiguration) -> new::InitConfiguration {
    let nr = c.node_registration;
    new::InitConfiguration {
        api_version: new::GROUP_VERSION.into(),
        kind: c.kind,
        bootstrap_tokens: c.bootstrap_tokens,
        dry_run: false,
        node_registration: new::NodeRegistrationOptions {
            name: nr.name,
            cri_socket: nr.cri_socket,
            taints: nr.taints,
            kubelet_extra_args: args(nr.kubelet_extra_args),
            ignore_preflight_errors: nr.ignore_preflight_errors,
            image_pull_policy: nr.image_pull_policy,
            image_pull_serial: None,
        },
        local_api_endpoint: c.local_api_endpoint,
        certificate_key: c.certificate_key,
        skip_phases: c.skip_phases,
        patches: c.patches,
        timeouts: None,
    }
}

/// Converts a ClusterConfiguration; the second value is the v1beta3 control-plane timeout.
pub(crate) fn cluster(
    c: old::ClusterConfiguration,
) -> (new::ClusterConfiguration, Option<super::duration::Duration>) {
    let component = |c: old::ControlPlaneComponent| new::ControlPlaneComponent {
        extra_args: args(c.extra_args),
        extra_volumes: c.extra_volumes,
        extra_envs: Vec::new(),
    };
    // kubeadm ignores a zero timeout.
    let timeout = c
        .api_server
        .timeout_for_control_plane
        .filter(|d| !d.is_zero());
    let out = new::ClusterConfiguration {
        api_version: new::GROUP_VERSION.into(),
        kind: c.kind,
        etcd: new::Etcd {
            local: c.etcd.local.map(|l| new::LocalEtcd {
                image_repository: l.image_repository,
                image_tag: l.image_tag,
                data_dir: l.data_dir,
                extra_args: args(l.extra_args),
                extra_envs: Vec::new(),
                server_cert_sans: l.server_cert_sans,
                peer_cert_sans: l.peer_cert_sans,
            }),
            external: c.etcd.external,
        },
        networking: c.networking,
        kubernetes_version: c.kubernetes_version,
        control_plane_endpoint: c.control_plane_endpoint,
        api_server: new::ApiServer {
            extra_args: args(c.api_server.extra_args),
            extra_volumes: c.api_server.extra_volumes,
            extra_envs: Vec::new(),
            cert_sans: c.api_server.cert_sans,
        },
        controller_manager: component(c.controller_manager),
        scheduler: component(c.scheduler),
        dns: new::Dns {
            image_repository: c.dns.image_repository,
            image_tag: c.dns.image_tag,
            disabled: false,
        },
        proxy: new::Proxy::default(),
        certificates_dir: c.certificates_dir,
        image_repository: c.image_repository,
        feature_gates: c.feature_gates,
        cluster_name: c.cluster_name,
        encryption_algorithm: String::new(),
        certificate_validity_period: None,
        ca_certificate_validity_period: None,
    };
    (out, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_maps_become_sorted_lists() {
        let mut c = old::ClusterConfiguration::default();
        c.api_server.extra_args.insert("v".into(), "2".into());
        c.api_server
            .extra_args
            .insert("audit-log-path".into(), "-".into());
        let (n, _) = cluster(c);
        let names: Vec<_> = n
            .api_server
            .extra_args
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, ["audit-log-path", "v"]);
    }
}
