//! `KubeletConfiguration` of `kubelet.config.k8s.io/v1beta1`, as kubeadm v1.31 reads and writes it.
//!
//! kubeadm registers only the external Go types for this group (no kubelet defaulting), decodes
//! the user's document into them and marshals them back through `encoding/json`. These structs
//! mirror those Go types field by field so that the YAML kbc writes is the YAML kubeadm writes:
//!
//! - Go `omitempty` on a non-pointer scalar, slice or map omits the *zero* value (`""`, `0`,
//!   `false`, nil or empty); such fields are `Option<T>` skipped when `None` **or** zero (the
//!   [`omit`] helpers). Go `omitempty` on a pointer omits only nil: `Option<T>` skipped when
//!   `None`. `omitempty` on a struct (`metav1.Duration`, `MemorySwapConfiguration`,
//!   `LoggingConfiguration`) never omits anything in `encoding/json`, so those are plain fields.
//! - Non-pointer fields without `omitempty` are plain `T` with `#[serde(default)]` (Go's zero
//!   value when absent); nil-able slices/maps without `omitempty` are `Option<..>` written as
//!   `null`.
//! - Field declaration order is Go's; output order is alphabetical anyway (see `yaml::ser`).
//!
//! Sources read (kubernetes/kubernetes):
//! - `staging/src/k8s.io/kubelet/config/v1beta1/types.go` at `001332b0422071acf4860769f18e34b5e9b7c1bc`
//!   (a post-1.31 version: JSON tags and Go types) and `8383bd62ee26c68c4eac4b49431d3403d0880a26`
//!   (an older one), narrowed to the v1.31 field set given by the generated v1.31 reference
//!   `kubernetes/website: content/en/docs/reference/config-api/kubelet-config.v1beta1.md`
//!   (the version that links `kubernetes-api/v1.31` and ends with `failCgroupV1`). Fields added
//!   after 1.31 (`crashLoopBackOff`/`CrashLoopBackOffConfig`, `singleProcessOOMKill`,
//!   `imagePullCredentialsVerificationPolicy`, `preloadedImagesVerificationAllowlist`,
//!   `tlsCurvePreferences`, `draManagerReconcilePeriod`, `mergeDefaultEvictionSettings`,
//!   `memoryReservationPolicy`, `userNamespaces`) are deliberately absent, so kbc reports them
//!   as unknown fields like kubeadm v1.31's strict decoding does.
//! - `staging/src/k8s.io/component-base/logs/api/v1/types.go` at
//!   `008b3652959ca58af8be3fb5b6ecfe9ae7638282` ([`LoggingConfiguration`]).
//! - `staging/src/k8s.io/component-base/tracing/api/v1/types.go` ([`TracingConfiguration`]).
//! - `k8s.io/api/core/v1` `Taint` and `metav1.Duration` (known shapes: `key`, `value,omitempty`,
//!   `effect`, `timeAdded,omitempty`; Duration as a Go duration string).
//!
//! Known approximation: `resource.Quantity` values are kept verbatim as strings; Go would print a
//! non-canonical quantity (e.g. `1.5Gi`) in canonical form (`1536Mi`).

use crate::config::duration::Duration;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// `skip_serializing_if` predicates reproducing Go's `omitempty` on non-pointer fields.
///
/// Go omits the zero value, so a field the user wrote as `""`, `0`, `false`, `[]` or `{}` is
/// dropped from kubeadm's output exactly like an absent one.
pub(crate) mod omit {
    use std::collections::BTreeMap;

    pub(crate) fn str(v: &Option<String>) -> bool {
        v.as_deref().is_none_or(str::is_empty)
    }
    pub(crate) fn i32(v: &Option<i32>) -> bool {
        v.is_none_or(|n| n == 0)
    }
    pub(crate) fn i64(v: &Option<i64>) -> bool {
        v.is_none_or(|n| n == 0)
    }
    pub(crate) fn bool(v: &Option<bool>) -> bool {
        v.is_none_or(|b| !b)
    }
    pub(crate) fn vec<T>(v: &Option<Vec<T>>) -> bool {
        v.as_ref().is_none_or(Vec::is_empty)
    }
    pub(crate) fn map<V>(v: &Option<BTreeMap<String, V>>) -> bool {
        v.as_ref().is_none_or(BTreeMap::is_empty)
    }
}

/// Number formatting as Go's `encoding/json` does it: integral floats print without a
/// fraction (`qps: 0`, not `0.0`), and a `float32` prints its shortest `float32` decimal.
pub(crate) mod gofloat {
    use serde::Serializer;

    /// Largest integer every f64 below represents exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;

    pub(crate) fn f64_value<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
        if v.fract() == 0.0 && v.abs() < EXACT {
            // Exact by the check above: an integral value below 2^53.
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }

    pub(crate) fn f32<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
        // Shortest decimal that round-trips as f32, re-read as f64, so 0.1f32 prints "0.1".
        let widened: f64 = v.to_string().parse().unwrap_or(f64::from(*v));
        f64_value(widened, s)
    }

    pub(crate) fn opt_f64<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => f64_value(*f, s),
            None => s.serialize_none(),
        }
    }
}

/// `resource.Quantity` (and `QuantityValue`) kept as its string form.
///
/// Go accepts a quoted string or a bare JSON number and writes the zero quantity as `"0"`.
pub(crate) mod quantity {
    use serde::{de, Deserializer, Serializer};
    use std::fmt;

    pub(crate) fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if v.is_empty() { "0" } else { v })
    }

    struct V;
    impl de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a quantity such as 1Gi, 500m or 0")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_any(V)
    }
}

/// KubeletConfiguration contains the configuration for the Kubelet (v1.31 field set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletConfiguration {
    #[serde(rename = "apiVersion", default, skip_serializing_if = "omit::str")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "omit::str")]
    pub kind: Option<String>,

    #[serde(
        rename = "enableServer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_server: Option<bool>,
    #[serde(rename = "staticPodPath", default, skip_serializing_if = "omit::str")]
    pub static_pod_path: Option<String>,
    #[serde(rename = "podLogsDir", default, skip_serializing_if = "omit::str")]
    pub pod_logs_dir: Option<String>,
    #[serde(rename = "syncFrequency", default)]
    pub sync_frequency: Duration,
    #[serde(rename = "fileCheckFrequency", default)]
    pub file_check_frequency: Duration,
    #[serde(rename = "httpCheckFrequency", default)]
    pub http_check_frequency: Duration,
    #[serde(rename = "staticPodURL", default, skip_serializing_if = "omit::str")]
    pub static_pod_url: Option<String>,
    #[serde(
        rename = "staticPodURLHeader",
        default,
        skip_serializing_if = "omit::map"
    )]
    pub static_pod_url_header: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "omit::str")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "omit::i32")]
    pub port: Option<i32>,
    #[serde(rename = "readOnlyPort", default, skip_serializing_if = "omit::i32")]
    pub read_only_port: Option<i32>,
    #[serde(rename = "tlsCertFile", default, skip_serializing_if = "omit::str")]
    pub tls_cert_file: Option<String>,
    #[serde(
        rename = "tlsPrivateKeyFile",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub tls_private_key_file: Option<String>,
    #[serde(rename = "tlsCipherSuites", default, skip_serializing_if = "omit::vec")]
    pub tls_cipher_suites: Option<Vec<String>>,
    #[serde(rename = "tlsMinVersion", default, skip_serializing_if = "omit::str")]
    pub tls_min_version: Option<String>,
    #[serde(
        rename = "rotateCertificates",
        default,
        skip_serializing_if = "omit::bool"
    )]
    pub rotate_certificates: Option<bool>,
    #[serde(
        rename = "serverTLSBootstrap",
        default,
        skip_serializing_if = "omit::bool"
    )]
    pub server_tls_bootstrap: Option<bool>,
    #[serde(default)]
    pub authentication: KubeletAuthentication,
    #[serde(default)]
    pub authorization: KubeletAuthorization,
    #[serde(
        rename = "registryPullQPS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub registry_pull_qps: Option<i32>,
    #[serde(rename = "registryBurst", default, skip_serializing_if = "omit::i32")]
    pub registry_burst: Option<i32>,
    #[serde(
        rename = "eventRecordQPS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_record_qps: Option<i32>,
    #[serde(rename = "eventBurst", default, skip_serializing_if = "omit::i32")]
    pub event_burst: Option<i32>,
    #[serde(
        rename = "enableDebuggingHandlers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_debugging_handlers: Option<bool>,
    #[serde(
        rename = "enableContentionProfiling",
        default,
        skip_serializing_if = "omit::bool"
    )]
    pub enable_contention_profiling: Option<bool>,
    #[serde(
        rename = "healthzPort",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub healthz_port: Option<i32>,
    #[serde(
        rename = "healthzBindAddress",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub healthz_bind_address: Option<String>,
    #[serde(
        rename = "oomScoreAdj",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub oom_score_adj: Option<i32>,
    #[serde(rename = "clusterDomain", default, skip_serializing_if = "omit::str")]
    pub cluster_domain: Option<String>,
    #[serde(rename = "clusterDNS", default, skip_serializing_if = "omit::vec")]
    pub cluster_dns: Option<Vec<String>>,
    #[serde(rename = "streamingConnectionIdleTimeout", default)]
    pub streaming_connection_idle_timeout: Duration,
    #[serde(rename = "nodeStatusUpdateFrequency", default)]
    pub node_status_update_frequency: Duration,
    #[serde(rename = "nodeStatusReportFrequency", default)]
    pub node_status_report_frequency: Duration,
    #[serde(
        rename = "nodeLeaseDurationSeconds",
        default,
        skip_serializing_if = "omit::i32"
    )]
    pub node_lease_duration_seconds: Option<i32>,
    #[serde(rename = "imageMinimumGCAge", default)]
    pub image_minimum_gc_age: Duration,
    #[serde(rename = "imageMaximumGCAge", default)]
    pub image_maximum_gc_age: Duration,
    #[serde(
        rename = "imageGCHighThresholdPercent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub image_gc_high_threshold_percent: Option<i32>,
    #[serde(
        rename = "imageGCLowThresholdPercent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub image_gc_low_threshold_percent: Option<i32>,
    #[serde(rename = "volumeStatsAggPeriod", default)]
    pub volume_stats_agg_period: Duration,
    #[serde(rename = "kubeletCgroups", default, skip_serializing_if = "omit::str")]
    pub kubelet_cgroups: Option<String>,
    #[serde(rename = "systemCgroups", default, skip_serializing_if = "omit::str")]
    pub system_cgroups: Option<String>,
    #[serde(rename = "cgroupRoot", default, skip_serializing_if = "omit::str")]
    pub cgroup_root: Option<String>,
    #[serde(
        rename = "cgroupsPerQOS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cgroups_per_qos: Option<bool>,
    #[serde(rename = "cgroupDriver", default, skip_serializing_if = "omit::str")]
    pub cgroup_driver: Option<String>,
    #[serde(
        rename = "cpuManagerPolicy",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub cpu_manager_policy: Option<String>,
    #[serde(
        rename = "cpuManagerPolicyOptions",
        default,
        skip_serializing_if = "omit::map"
    )]
    pub cpu_manager_policy_options: Option<BTreeMap<String, String>>,
    #[serde(rename = "cpuManagerReconcilePeriod", default)]
    pub cpu_manager_reconcile_period: Duration,
    #[serde(
        rename = "memoryManagerPolicy",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub memory_manager_policy: Option<String>,
    #[serde(
        rename = "topologyManagerPolicy",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub topology_manager_policy: Option<String>,
    #[serde(
        rename = "topologyManagerScope",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub topology_manager_scope: Option<String>,
    #[serde(
        rename = "topologyManagerPolicyOptions",
        default,
        skip_serializing_if = "omit::map"
    )]
    pub topology_manager_policy_options: Option<BTreeMap<String, String>>,
    #[serde(rename = "qosReserved", default, skip_serializing_if = "omit::map")]
    pub qos_reserved: Option<BTreeMap<String, String>>,
    #[serde(rename = "runtimeRequestTimeout", default)]
    pub runtime_request_timeout: Duration,
    #[serde(rename = "hairpinMode", default, skip_serializing_if = "omit::str")]
    pub hairpin_mode: Option<String>,
    #[serde(rename = "maxPods", default, skip_serializing_if = "omit::i32")]
    pub max_pods: Option<i32>,
    #[serde(rename = "podCIDR", default, skip_serializing_if = "omit::str")]
    pub pod_cidr: Option<String>,
    #[serde(
        rename = "podPidsLimit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pod_pids_limit: Option<i64>,
    /// Go field `ResolverConfig`; a pointer, so an explicit `""` is kept and printed.
    #[serde(
        rename = "resolvConf",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resolv_conf: Option<String>,
    #[serde(rename = "runOnce", default, skip_serializing_if = "omit::bool")]
    pub run_once: Option<bool>,
    #[serde(
        rename = "cpuCFSQuota",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_cfs_quota: Option<bool>,
    #[serde(
        rename = "cpuCFSQuotaPeriod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_cfs_quota_period: Option<Duration>,
    #[serde(
        rename = "nodeStatusMaxImages",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub node_status_max_images: Option<i32>,
    #[serde(rename = "maxOpenFiles", default, skip_serializing_if = "omit::i64")]
    pub max_open_files: Option<i64>,
    #[serde(rename = "contentType", default, skip_serializing_if = "omit::str")]
    pub content_type: Option<String>,
    #[serde(
        rename = "kubeAPIQPS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_api_qps: Option<i32>,
    #[serde(rename = "kubeAPIBurst", default, skip_serializing_if = "omit::i32")]
    pub kube_api_burst: Option<i32>,
    #[serde(
        rename = "serializeImagePulls",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub serialize_image_pulls: Option<bool>,
    #[serde(
        rename = "maxParallelImagePulls",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_parallel_image_pulls: Option<i32>,
    #[serde(rename = "evictionHard", default, skip_serializing_if = "omit::map")]
    pub eviction_hard: Option<BTreeMap<String, String>>,
    #[serde(rename = "evictionSoft", default, skip_serializing_if = "omit::map")]
    pub eviction_soft: Option<BTreeMap<String, String>>,
    #[serde(
        rename = "evictionSoftGracePeriod",
        default,
        skip_serializing_if = "omit::map"
    )]
    pub eviction_soft_grace_period: Option<BTreeMap<String, String>>,
    #[serde(rename = "evictionPressureTransitionPeriod", default)]
    pub eviction_pressure_transition_period: Duration,
    #[serde(
        rename = "evictionMaxPodGracePeriod",
        default,
        skip_serializing_if = "omit::i32"
    )]
    pub eviction_max_pod_grace_period: Option<i32>,
    #[serde(
        rename = "evictionMinimumReclaim",
        default,
        skip_serializing_if = "omit::map"
    )]
    pub eviction_minimum_reclaim: Option<BTreeMap<String, String>>,
    #[serde(rename = "podsPerCore", default, skip_serializing_if = "omit::i32")]
    pub pods_per_core: Option<i32>,
    #[serde(
        rename = "enableControllerAttachDetach",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_controller_attach_detach: Option<bool>,
    #[serde(
        rename = "protectKernelDefaults",
        default,
        skip_serializing_if = "omit::bool"
    )]
    pub protect_kernel_defaults: Option<bool>,
    #[serde(
        rename = "makeIPTablesUtilChains",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub make_iptables_util_chains: Option<bool>,
    #[serde(
        rename = "iptablesMasqueradeBit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub iptables_masquerade_bit: Option<i32>,
    #[serde(
        rename = "iptablesDropBit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub iptables_drop_bit: Option<i32>,
    #[serde(rename = "featureGates", default, skip_serializing_if = "omit::map")]
    pub feature_gates: Option<BTreeMap<String, bool>>,
    #[serde(
        rename = "failSwapOn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fail_swap_on: Option<bool>,
    #[serde(rename = "memorySwap", default)]
    pub memory_swap: MemorySwapConfiguration,
    #[serde(
        rename = "containerLogMaxSize",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub container_log_max_size: Option<String>,
    #[serde(
        rename = "containerLogMaxFiles",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub container_log_max_files: Option<i32>,
    #[serde(
        rename = "containerLogMaxWorkers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub container_log_max_workers: Option<i32>,
    #[serde(
        rename = "containerLogMonitorInterval",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub container_log_monitor_interval: Option<Duration>,
    #[serde(
        rename = "configMapAndSecretChangeDetectionStrategy",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub config_map_and_secret_change_detection_strategy: Option<String>,
    #[serde(rename = "systemReserved", default, skip_serializing_if = "omit::map")]
    pub system_reserved: Option<BTreeMap<String, String>>,
    #[serde(rename = "kubeReserved", default, skip_serializing_if = "omit::map")]
    pub kube_reserved: Option<BTreeMap<String, String>>,
    #[serde(
        rename = "reservedSystemCPUs",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub reserved_system_cpus: Option<String>,
    #[serde(
        rename = "showHiddenMetricsForVersion",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub show_hidden_metrics_for_version: Option<String>,
    #[serde(
        rename = "systemReservedCgroup",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub system_reserved_cgroup: Option<String>,
    #[serde(
        rename = "kubeReservedCgroup",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub kube_reserved_cgroup: Option<String>,
    #[serde(
        rename = "enforceNodeAllocatable",
        default,
        skip_serializing_if = "omit::vec"
    )]
    pub enforce_node_allocatable: Option<Vec<String>>,
    #[serde(
        rename = "allowedUnsafeSysctls",
        default,
        skip_serializing_if = "omit::vec"
    )]
    pub allowed_unsafe_sysctls: Option<Vec<String>>,
    #[serde(rename = "volumePluginDir", default, skip_serializing_if = "omit::str")]
    pub volume_plugin_dir: Option<String>,
    #[serde(rename = "providerID", default, skip_serializing_if = "omit::str")]
    pub provider_id: Option<String>,
    #[serde(
        rename = "kernelMemcgNotification",
        default,
        skip_serializing_if = "omit::bool"
    )]
    pub kernel_memcg_notification: Option<bool>,
    /// `json:"logging,omitempty"` on a struct: always written.
    #[serde(default)]
    pub logging: LoggingConfiguration,
    #[serde(
        rename = "enableSystemLogHandler",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_system_log_handler: Option<bool>,
    #[serde(
        rename = "enableSystemLogQuery",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_system_log_query: Option<bool>,
    #[serde(rename = "shutdownGracePeriod", default)]
    pub shutdown_grace_period: Duration,
    #[serde(rename = "shutdownGracePeriodCriticalPods", default)]
    pub shutdown_grace_period_critical_pods: Duration,
    #[serde(
        rename = "shutdownGracePeriodByPodPriority",
        default,
        skip_serializing_if = "omit::vec"
    )]
    pub shutdown_grace_period_by_pod_priority: Option<Vec<ShutdownGracePeriodByPodPriority>>,
    #[serde(rename = "reservedMemory", default, skip_serializing_if = "omit::vec")]
    pub reserved_memory: Option<Vec<MemoryReservation>>,
    #[serde(
        rename = "enableProfilingHandler",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_profiling_handler: Option<bool>,
    #[serde(
        rename = "enableDebugFlagsHandler",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_debug_flags_handler: Option<bool>,
    #[serde(
        rename = "seccompDefault",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub seccomp_default: Option<bool>,
    /// Go `*float64`.
    #[serde(
        rename = "memoryThrottlingFactor",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "gofloat::opt_f64"
    )]
    pub memory_throttling_factor: Option<f64>,
    #[serde(
        rename = "registerWithTaints",
        default,
        skip_serializing_if = "omit::vec"
    )]
    pub register_with_taints: Option<Vec<Taint>>,
    #[serde(
        rename = "registerNode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub register_node: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfiguration>,
    #[serde(
        rename = "localStorageCapacityIsolation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_storage_capacity_isolation: Option<bool>,
    /// No `omitempty` in Go: always written, `""` when unset.
    #[serde(rename = "containerRuntimeEndpoint", default)]
    pub container_runtime_endpoint: String,
    #[serde(
        rename = "imageServiceEndpoint",
        default,
        skip_serializing_if = "omit::str"
    )]
    pub image_service_endpoint: Option<String>,
    /// New in v1.31 (KEP-4569).
    #[serde(
        rename = "failCgroupV1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fail_cgroup_v1: Option<bool>,
}

/// KubeletAuthentication: how requests to the kubelet's server are authenticated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletAuthentication {
    #[serde(default)]
    pub x509: KubeletX509Authentication,
    #[serde(default)]
    pub webhook: KubeletWebhookAuthentication,
    #[serde(default)]
    pub anonymous: KubeletAnonymousAuthentication,
}

/// KubeletX509Authentication: client-certificate authentication settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletX509Authentication {
    #[serde(rename = "clientCAFile", default, skip_serializing_if = "omit::str")]
    pub client_ca_file: Option<String>,
}

/// KubeletWebhookAuthentication: bearer-token authentication via TokenReview.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletWebhookAuthentication {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(rename = "cacheTTL", default)]
    pub cache_ttl: Duration,
}

/// KubeletAnonymousAuthentication: anonymous request settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletAnonymousAuthentication {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// KubeletAuthorization: how requests to the kubelet's server are authorized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletAuthorization {
    /// `AlwaysAllow` or `Webhook` in Go; kept as a string, kubeadm does not validate it.
    #[serde(default, skip_serializing_if = "omit::str")]
    pub mode: Option<String>,
    #[serde(default)]
    pub webhook: KubeletWebhookAuthorization,
}

/// KubeletWebhookAuthorization: SubjectAccessReview cache settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletWebhookAuthorization {
    #[serde(rename = "cacheAuthorizedTTL", default)]
    pub cache_authorized_ttl: Duration,
    #[serde(rename = "cacheUnauthorizedTTL", default)]
    pub cache_unauthorized_ttl: Duration,
}

/// MemorySwapConfiguration: swap available to workloads (written as `{}` when empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySwapConfiguration {
    #[serde(rename = "swapBehavior", default, skip_serializing_if = "omit::str")]
    pub swap_behavior: Option<String>,
}

/// MemoryReservation: memory reserved per NUMA node for the memory manager.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryReservation {
    #[serde(rename = "numaNode", default)]
    pub numa_node: i32,
    /// `v1.ResourceList` (resource name → quantity), no `omitempty`: nil prints `null`.
    #[serde(default)]
    pub limits: Option<BTreeMap<String, String>>,
}

/// ShutdownGracePeriodByPodPriority: graceful-shutdown time for a pod priority range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownGracePeriodByPodPriority {
    #[serde(default)]
    pub priority: i32,
    #[serde(rename = "shutdownGracePeriodSeconds", default)]
    pub shutdown_grace_period_seconds: i64,
}

/// `core/v1` Taint, as used by `registerWithTaints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    #[serde(default)]
    pub key: String,
    #[serde(default, skip_serializing_if = "omit::str")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; not validated by kubeadm.
    #[serde(default)]
    pub effect: String,
    /// `*metav1.Time`, an RFC 3339 timestamp.
    #[serde(rename = "timeAdded", default, skip_serializing_if = "Option::is_none")]
    pub time_added: Option<String>,
}

/// component-base `LoggingConfiguration` (logs/api/v1), shared with kube-proxy.
///
/// With nothing set Go writes `flushFrequency: 0`, `verbosity: 0` and
/// `options: {json: {infoBufferSize: "0"}, text: {infoBufferSize: "0"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfiguration {
    #[serde(default, skip_serializing_if = "omit::str")]
    pub format: Option<String>,
    #[serde(rename = "flushFrequency", default)]
    pub flush_frequency: TimeOrMetaDuration,
    /// Go `VerbosityLevel` (`uint32`).
    #[serde(default)]
    pub verbosity: u32,
    /// Go `VModuleConfiguration` (`[]VModuleItem`), `omitempty`.
    #[serde(default, skip_serializing_if = "omit::vec")]
    pub vmodule: Option<Vec<VModuleItem>>,
    /// `json:"options,omitempty"` on a struct: always written.
    #[serde(default)]
    pub options: FormatOptions,
}

/// component-base `VModuleItem`: a verbosity threshold for files matching a pattern.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VModuleItem {
    #[serde(rename = "filePattern", default)]
    pub file_pattern: String,
    #[serde(default)]
    pub verbosity: u32,
}

/// component-base `FormatOptions`: per-format logging options (alpha).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatOptions {
    #[serde(default)]
    pub text: TextOptions,
    #[serde(default)]
    pub json: JsonOptions,
}

/// component-base `OutputRoutingOptions`, which `TextOptions` and `JSONOptions` embed inline
/// (their only content), so both are this one struct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputRoutingOptions {
    #[serde(rename = "splitStream", default, skip_serializing_if = "omit::bool")]
    pub split_stream: Option<bool>,
    /// `resource.QuantityValue` with `omitempty` (a struct, so always written; zero is `"0"`).
    #[serde(
        rename = "infoBufferSize",
        default,
        serialize_with = "quantity::serialize",
        deserialize_with = "quantity::deserialize"
    )]
    pub info_buffer_size: String,
}

/// component-base `TextOptions` (= inline [`OutputRoutingOptions`]).
pub(crate) type TextOptions = OutputRoutingOptions;
/// component-base `JSONOptions` (= inline [`OutputRoutingOptions`]).
pub(crate) type JsonOptions = OutputRoutingOptions;

/// component-base `TimeOrMetaDuration`: `flushFrequency` as either a duration string or an
/// integer of nanoseconds; it is written back in the form it was read (an integer when unset).
///
/// A struct in Go but a scalar on the wire, hence the hand-written serde impls (it has no
/// fields that could be unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimeOrMetaDuration {
    pub duration: Duration,
    pub serialize_as_string: bool,
}

impl Serialize for TimeOrMetaDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.serialize_as_string {
            self.duration.serialize(s)
        } else {
            s.serialize_i64(self.duration.nanos())
        }
    }
}

impl<'de> Deserialize<'de> for TimeOrMetaDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = TimeOrMetaDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 5s, or an integer number of nanoseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TimeOrMetaDuration {
                    duration: Duration::parse(v).map_err(E::custom)?,
                    serialize_as_string: true,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(TimeOrMetaDuration {
                    duration: Duration(v),
                    serialize_as_string: false,
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                let n = i64::try_from(v)
                    .map_err(|_| E::custom(format!("invalid duration \"{v}\": out of range")))?;
                self.visit_i64(n)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // Go decodes the number into an int64: only integral values are accepted.
                if v.fract() == 0.0 && v.abs() < 9.2e18 {
                    self.visit_i64(v as i64)
                } else {
                    Err(E::custom(format!(
                        "invalid duration \"{v}\": json: cannot unmarshal number {v} into Go value of type time.Duration"
                    )))
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TimeOrMetaDuration::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// component-base `TracingConfiguration` (tracing/api/v1): OpenTelemetry client settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(
        rename = "samplingRatePerMillion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sampling_rate_per_million: Option<i32>,
}
