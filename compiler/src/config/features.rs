//! kubeadm's own feature gates in v1.31 (`cmd/kubeadm/app/features/features.go`).
//!
//! Only these names are valid in `ClusterConfiguration.featureGates`; core Kubernetes gates
//! belong in component extraArgs or component configs.

pub(crate) struct Gate {
    pub name: &'static str,
    pub default: bool,
    /// `Some(message)` for deprecated gates: kubeadm accepts them and warns.
    pub deprecated: Option<&'static str>,
}

pub(crate) const CONTROL_PLANE_KUBELET_LOCAL_MODE: &str = "ControlPlaneKubeletLocalMode";
pub(crate) const ETCD_LEARNER_MODE: &str = "EtcdLearnerMode";
pub(crate) const PUBLIC_KEYS_ECDSA: &str = "PublicKeysECDSA";
pub(crate) const ROOTLESS_CONTROL_PLANE: &str = "RootlessControlPlane";
pub(crate) const WAIT_FOR_ALL_CONTROL_PLANE_COMPONENTS: &str = "WaitForAllControlPlaneComponents";

pub(crate) const GATES: &[Gate] = &[
    Gate {
        name: CONTROL_PLANE_KUBELET_LOCAL_MODE,
        default: false,
        deprecated: None,
    },
    Gate {
        name: ETCD_LEARNER_MODE,
        default: true,
        deprecated: None,
    },
    Gate {
        name: PUBLIC_KEYS_ECDSA,
        default: false,
        deprecated: Some(
            "The PublicKeysECDSA feature gate is deprecated and will be removed when v1beta3 is removed. v1beta4 supports a new option 'ClusterConfiguration.EncryptionAlgorithm'.",
        ),
    },
    Gate {
        name: ROOTLESS_CONTROL_PLANE,
        default: false,
        deprecated: Some(
            "Deprecated in favor of the core kubelet feature UserNamespacesSupport which is beta since 1.30. Once UserNamespacesSupport graduates to GA, kubeadm will start using it and RootlessControlPlane will be removed.",
        ),
    },
    Gate {
        name: WAIT_FOR_ALL_CONTROL_PLANE_COMPONENTS,
        default: false,
        deprecated: None,
    },
];

/// Gates kubeadm removed; naming one is the same error as naming an unknown gate.
pub(crate) const REMOVED: &[(&str, &str)] = &[
    ("IPv6DualStack", "1.24"),
    ("UnversionedKubeletConfigMap", "1.26"),
    ("UpgradeAddonsBeforeControlPlane", "1.31"),
];

pub(crate) fn gate(name: &str) -> Option<&'static Gate> {
    GATES.iter().find(|g| g.name == name)
}

/// The value of a gate after the user's settings.
pub(crate) fn enabled(gates: &std::collections::BTreeMap<String, bool>, name: &str) -> bool {
    gates
        .get(name)
        .copied()
        .unwrap_or_else(|| gate(name).is_some_and(|g| g.default))
}
