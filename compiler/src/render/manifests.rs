//! The control-plane static Pod manifests of `kubeadm init` v1.31: `kube-apiserver.yaml`,
//! `kube-controller-manager.yaml`, `kube-scheduler.yaml` and (local etcd only) `etcd.yaml`.
//!
//! Mirrors `GetStaticPodSpecs` and the `get*Command` builders in
//! `cmd/kubeadm/app/phases/controlplane/manifests.go`, `getHostPathVolumesForTheControlPlane`
//! in `cmd/kubeadm/app/phases/controlplane/volumes.go`, `GetEtcdPodSpec` / `getEtcdCommand` in
//! `cmd/kubeadm/app/phases/etcd/local.go` and the Pod, probe and volume helpers of
//! `cmd/kubeadm/app/util/staticpod/utils.go`.
//!
//! Pods are built as `serde_json::Value`s whose maps sort their keys, then written with
//! [`value_to_yaml`], which is the shape kubeadm's object → JSON → YAML serializer gives:
//! keys alphabetical at every level, Go's `omitempty` fields left out, `creationTimestamp: null`
//! and `status: {}` present.
//!
//! Deliberate differences from kubeadm, all because kbc reads nothing from the host:
//! - **CA certificate directories.** kubeadm `stat`s `/etc/pki/ca-trust`, `/etc/pki/tls/certs`,
//!   `/etc/ca-certificates`, `/usr/share/ca-certificates` and `/usr/local/share/ca-certificates`
//!   on the machine running `kubeadm init` and mounts those that exist into the API server and
//!   the controller manager, because `/etc/ssl/certs` may hold symlinks into them. kbc takes
//!   the list from [`HostInputs::ca_cert_extra_dirs`]; the default mounts all five (the union
//!   of the Debian and Red Hat layouts, `DirectoryOrCreate`, read-only), so symlinks resolve on
//!   either family. On a host where all five exist this is exactly kubeadm's output; elsewhere
//!   the kubelet creates the missing ones as empty directories.
//! - **Proxy variables.** kubeadm copies every non-empty `*_proxy` variable of its own process
//!   environment into the API server, controller manager and scheduler containers. kbc never
//!   reads its environment: give proxies through `extraEnvs`.
//! - **Environment order.** kubeadm 1.31.0 emits the merged env list in Go map order (random);
//!   kbc sorts by name, which is one of 1.31.0's possible outputs and what later releases do.
//! - **External CA mode** (kubeadm finds `ca.crt` without `ca.key` on disk) is the input
//!   [`HostInputs::external_ca`], normally taken from the PKI stage.
//!
//! No kubeadm feature gate of 1.31 changes these manifests: `RootlessControlPlane` (the only
//! one that did) is refused by validation, and kubeadm's gates are never passed to components.

use super::args::{self, arg};
use crate::config::cluster::{image_inputs, Cluster};
use crate::config::release;
use crate::config::wire::v1beta4::{Arg, EnvVar, ExternalEtcd, HostPathMount};
use crate::netutil::join_host_port;
use crate::yaml::ser::value_to_yaml;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::paths::{
    CONTROLLER_MANAGER_PORT, ETCD_CLIENT_PORT, ETCD_METRICS_PORT, KUBERNETES_DIR, SCHEDULER_PORT,
};
/// `system-node-critical`'s priority value, written into every Pod.
const PRIORITY: i64 = 2_000_001_000;
const PRIORITY_CLASS: &str = "system-node-critical";
const CA_CERTS_PATH: &str = "/etc/ssl/certs";
const FLEXVOLUME_DIR: &str = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec";
const APISERVER_ENDPOINT_ANNOTATION: &str =
    "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint";
const ETCD_CLIENT_URLS_ANNOTATION: &str = "kubeadm.kubernetes.io/etcd.advertise-client-urls";

/// `caCertsExtraVolumePaths` of kubeadm 1.31, in kubeadm's order. (1.30 and earlier had a
/// single `/etc/pki`.)
pub(crate) const CA_CERTS_EXTRA_DIRS: [&str; 5] = [
    "/etc/pki/ca-trust",
    "/etc/pki/tls/certs",
    "/etc/ca-certificates",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
];

/// A control-plane component with a static Pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
}

impl Component {
    /// kbc's listing order: the `control-plane` phase's three Pods as kubeadm lists them, then
    /// etcd. (kubeadm runs its `etcd` phase before `control-plane`; bundles sort paths anyway.)
    pub const ALL: [Component; 4] = [
        Component::ApiServer,
        Component::ControllerManager,
        Component::Scheduler,
        Component::Etcd,
    ];

    /// Pod, container and binary name.
    pub fn name(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
        }
    }

    /// The manifest's file name in [`crate::paths::MANIFESTS_DIR`].
    pub fn file_name(self) -> String {
        format!("{}.yaml", self.name())
    }
}

/// What kubeadm reads from the host while building the Pods, given explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostInputs {
    /// The entries of [`CA_CERTS_EXTRA_DIRS`] to mount (kubeadm: those that exist on the
    /// host). Default: all five. Paths outside that list are mounted the same way.
    pub ca_cert_extra_dirs: Vec<String>,
    /// The cluster CA is used without its key (kubeadm's `UsingExternalCA`): the controller
    /// manager gets empty `--cluster-signing-*` flags. Default: false.
    pub external_ca: bool,
}

impl Default for HostInputs {
    fn default() -> Self {
        HostInputs {
            ca_cert_extra_dirs: CA_CERTS_EXTRA_DIRS.iter().map(|s| s.to_string()).collect(),
            external_ca: false,
        }
    }
}

/// Every static Pod of the cluster as (file name, YAML), in [`Component::ALL`]'s order;
/// `host` holds what kubeadm would read from the machine (`HostInputs::default()`: kbc's
/// defaults, see the module notes).
pub fn static_pods(cluster: &Cluster, host: &HostInputs) -> Vec<(String, String)> {
    Component::ALL
        .into_iter()
        .filter_map(|c| Some((c.file_name(), value_to_yaml(&static_pod(cluster, host, c)?))))
        .collect()
}

/// One Pod object; `None` for etcd when etcd is external.
pub fn static_pod(cluster: &Cluster, host: &HostInputs, component: Component) -> Option<Value> {
    let p = PodInputs {
        cluster,
        host,
        component,
        ctx: Ctx::new(cluster),
        images: image_inputs(&cluster.config, &cluster.version),
        startup_threshold: startup_failure_threshold(cluster),
    };
    Some(match component {
        Component::ApiServer => api_server_pod(&p),
        Component::ControllerManager | Component::Scheduler => controller_or_scheduler_pod(&p),
        Component::Etcd => etcd_pod(&p)?,
    })
}

/// What every static Pod is built from.
struct PodInputs<'a> {
    cluster: &'a Cluster,
    host: &'a HostInputs,
    component: Component,
    ctx: Ctx,
    images: release::ImageInputs<'a>,
    startup_threshold: i64,
}

/// kube-apiserver (`GetStaticPodSpecs`, `GetAPIServerProbeAddress`).
fn api_server_pod(p: &PodInputs) -> Value {
    let (cluster, component) = (p.cluster, p.component);
    let host_addr = probe_address(&p.ctx.adv);
    let port = cluster.bind_port;
    let mounts = control_plane_mounts(cluster, p.host, component);
    let container = Container {
        readiness: Some(readiness(&host_addr, "/readyz", port, "HTTPS")),
        requests: json!({"cpu": "250m"}),
        env: merge_envs(&cluster.config.api_server.extra_envs),
        ..component_container(p, mounts.mounts(), (&host_addr, port), "/livez")
    };
    let annotations = [(
        APISERVER_ENDPOINT_ANNOTATION,
        join_host_port(&p.ctx.adv, port),
    )];
    component_pod(container, mounts.volumes(), &annotations)
}

/// The container of a control-plane component: its image and command, its mounts, and the
/// liveness and startup probes kubeadm gives every component (HTTPS on `addr:port` at
/// `path`); no readiness probe, no requests, no environment (the callers add theirs).
fn component_container(
    p: &PodInputs,
    mounts: Vec<Value>,
    (addr, port): (&str, u16),
    path: &str,
) -> Container {
    let component = p.component;
    Container {
        name: component.name(),
        image: release::kubernetes_image(component.name(), &p.images),
        command: component_command(p.cluster, p.host, component),
        mounts,
        liveness: Some(liveness(addr, path, port, "HTTPS")),
        readiness: None,
        startup: Some(startup(addr, path, port, "HTTPS", p.startup_threshold)),
        requests: Value::Null,
        env: Vec::new(),
    }
}

/// kube-controller-manager or kube-scheduler (`GetControllerManagerProbeAddress`,
/// `GetSchedulerProbeAddress`).
fn controller_or_scheduler_pod(p: &PodInputs) -> Value {
    let (cluster, component) = (p.cluster, p.component);
    let cfg = &cluster.config;
    let (extra, envs, port, cpu) = if component == Component::ControllerManager {
        let c = &cfg.controller_manager;
        (
            &c.extra_args,
            &c.extra_envs,
            CONTROLLER_MANAGER_PORT,
            "200m",
        )
    } else {
        let c = &cfg.scheduler;
        (&c.extra_args, &c.extra_envs, SCHEDULER_PORT, "100m")
    };
    let host_addr = args::last_value(extra, "bind-address")
        .map_or_else(|| "127.0.0.1".to_string(), probe_address);
    let mounts = control_plane_mounts(cluster, p.host, component);
    let container = Container {
        requests: json!({"cpu": cpu}),
        env: merge_envs(envs),
        ..component_container(p, mounts.mounts(), (&host_addr, port), "/healthz")
    };
    component_pod(container, mounts.volumes(), &[])
}

/// Local etcd (`cmd/kubeadm/app/phases/etcd/local.go`); `None` with external etcd.
fn etcd_pod(p: &PodInputs) -> Option<Value> {
    let (cluster, component) = (p.cluster, p.component);
    let cfg = &cluster.config;
    let local = cluster.local_etcd()?;
    let certs_dir = format!("{}/etcd", cfg.certificates_dir);
    let (probe_host, probe_port, scheme) = etcd_probe_endpoint(&local.extra_args, p.ctx.ipv6);
    let container = Container {
        name: component.name(),
        image: release::etcd_image(&p.images)?,
        command: component_command(cluster, p.host, component),
        // Fixed order, read-write: the data dir, then the certificates.
        mounts: vec![
            volume_mount("etcd-data", &local.data_dir, false),
            volume_mount("etcd-certs", &certs_dir, false),
        ],
        liveness: Some(liveness(&probe_host, "/livez", probe_port, scheme)),
        readiness: Some(readiness(&probe_host, "/readyz", probe_port, scheme)),
        startup: Some(startup(
            &probe_host,
            "/readyz",
            probe_port,
            scheme,
            p.startup_threshold,
        )),
        requests: json!({"cpu": "100m", "memory": "100Mi"}),
        env: merge_envs(&local.extra_envs),
    };
    let volumes = vec![
        host_path_volume("etcd-certs", &certs_dir, "DirectoryOrCreate"),
        host_path_volume("etcd-data", &local.data_dir, "DirectoryOrCreate"),
    ];
    let annotations = [(ETCD_CLIENT_URLS_ANNOTATION, p.ctx.client_url())];
    Some(component_pod(container, volumes, &annotations))
}

/// The container command of `component`: kubeadm's defaults merged with extraArgs
/// (`cmd/kubeadm/app/util/arguments.go`).
pub fn component_command(
    cluster: &Cluster,
    host: &HostInputs,
    component: Component,
) -> Vec<String> {
    let cfg = &cluster.config;
    let (base, extra): (Vec<Arg>, &[Arg]) = match component {
        Component::ApiServer => (apiserver_args(cluster), &cfg.api_server.extra_args),
        Component::ControllerManager => (
            controller_manager_args(cluster, host),
            &cfg.controller_manager.extra_args,
        ),
        Component::Scheduler => (scheduler_args(), &cfg.scheduler.extra_args),
        Component::Etcd => match cluster.local_etcd() {
            Some(local) => (etcd_args(cluster), &local.extra_args),
            None => return Vec::new(),
        },
    };
    let mut command = vec![component.name().to_string()];
    command.extend(args::to_command(&base, extra));
    command
}

/// The advertise address as kubeadm sees it: the configured string and its family.
struct Ctx {
    /// `localAPIEndpoint.advertiseAddress` verbatim (flags use the string as written).
    adv: String,
    /// Go's `IsIPv6String`: an IPv4-mapped IPv6 address counts as IPv4.
    ipv6: bool,
}

impl Ctx {
    fn new(cluster: &Cluster) -> Self {
        let adv = cluster.advertise_address_text.clone();
        let ipv6 = match cluster.advertise_address {
            IpAddr::V4(_) => false,
            IpAddr::V6(v6) => v6.to_ipv4_mapped().is_none(),
        };
        Ctx { adv, ipv6 }
    }

    /// `127.0.0.1`, or `::1` for an IPv6 advertise address.
    fn localhost(&self) -> &'static str {
        if self.ipv6 {
            "::1"
        } else {
            "127.0.0.1"
        }
    }

    /// `etcdutil.GetClientURL`.
    fn client_url(&self) -> String {
        crate::paths::etcd_client_url(&self.adv)
    }

    /// `etcdutil.GetPeerURL`.
    fn peer_url(&self) -> String {
        crate::paths::etcd_peer_url(&self.adv)
    }
}

/// `getAPIServerCommand`'s base list.
fn apiserver_args(cluster: &Cluster) -> Vec<Arg> {
    let cfg = &cluster.config;
    let ctx = Ctx::new(cluster);
    let pki = |name: &str| join(&cfg.certificates_dir, name);
    let mut base = vec![
        arg("advertise-address", ctx.adv.as_str()),
        arg("enable-admission-plugins", "NodeRestriction"),
        arg(
            "service-cluster-ip-range",
            cfg.networking.service_subnet.as_str(),
        ),
        arg("service-account-key-file", pki("sa.pub")),
        arg("service-account-signing-key-file", pki("sa.key")),
        arg(
            "service-account-issuer",
            format!(
                "https://kubernetes.default.svc.{}",
                cfg.networking.dns_domain
            ),
        ),
        arg("client-ca-file", pki("ca.crt")),
        arg("tls-cert-file", pki("apiserver.crt")),
        arg("tls-private-key-file", pki("apiserver.key")),
        arg(
            "kubelet-client-certificate",
            pki("apiserver-kubelet-client.crt"),
        ),
        arg("kubelet-client-key", pki("apiserver-kubelet-client.key")),
        arg("enable-bootstrap-token-auth", "true"),
        arg("secure-port", cluster.bind_port.to_string()),
        arg("allow-privileged", "true"),
        arg(
            "kubelet-preferred-address-types",
            "InternalIP,ExternalIP,Hostname",
        ),
        arg("requestheader-username-headers", "X-Remote-User"),
        arg("requestheader-group-headers", "X-Remote-Group"),
        arg("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
        arg("requestheader-client-ca-file", pki("front-proxy-ca.crt")),
        arg("requestheader-allowed-names", "front-proxy-client"),
        arg("proxy-client-cert-file", pki("front-proxy-client.crt")),
        arg("proxy-client-key-file", pki("front-proxy-client.key")),
    ];
    match (&cfg.etcd.external, &cfg.etcd.local) {
        (Some(ext), _) => {
            args::set_value(&mut base, "etcd-servers", ext.endpoints.join(","));
            if !ext.ca_file.is_empty() {
                args::set_value(&mut base, "etcd-cafile", ext.ca_file.as_str());
            }
            if !ext.cert_file.is_empty() && !ext.key_file.is_empty() {
                args::set_value(&mut base, "etcd-certfile", ext.cert_file.as_str());
                args::set_value(&mut base, "etcd-keyfile", ext.key_file.as_str());
            }
        }
        (None, local) => {
            let servers = format!(
                "https://{}",
                join_host_port(ctx.localhost(), ETCD_CLIENT_PORT)
            );
            args::set_value(&mut base, "etcd-servers", servers);
            args::set_value(&mut base, "etcd-cafile", pki("etcd/ca.crt"));
            args::set_value(&mut base, "etcd-certfile", pki("apiserver-etcd-client.crt"));
            args::set_value(&mut base, "etcd-keyfile", pki("apiserver-etcd-client.key"));
            if let Some(v) = local
                .as_ref()
                .and_then(|l| args::last_value(&l.extra_args, "advertise-client-urls"))
            {
                args::set_value(&mut base, "etcd-servers", v);
            }
        }
    }
    let extra = &cfg.api_server.extra_args;
    // `authorization-config` and `authorization-mode` are mutually exclusive in the API server.
    if args::last_value(extra, "authorization-config").is_none() {
        let modes = authz_modes(args::last_value(extra, "authorization-mode").unwrap_or(""));
        args::set_value(&mut base, "authorization-mode", modes);
    }
    base
}

/// `getAuthzModes`: the user's known modes in their order, else `Node,RBAC`.
fn authz_modes(requested: &str) -> String {
    const KNOWN: [&str; 6] = [
        "Node",
        "RBAC",
        "Webhook",
        "ABAC",
        "AlwaysAllow",
        "AlwaysDeny",
    ];
    let modes: Vec<&str> = if requested.is_empty() {
        Vec::new()
    } else {
        requested.split(',').filter(|m| KNOWN.contains(m)).collect()
    };
    if modes.is_empty() {
        "Node,RBAC".to_string()
    } else {
        modes.join(",")
    }
}

/// `getControllerManagerCommand`'s base list.
fn controller_manager_args(cluster: &Cluster, host: &HostInputs) -> Vec<Arg> {
    let cfg = &cluster.config;
    let pki = |name: &str| join(&cfg.certificates_dir, name);
    let kubeconfig = join(KUBERNETES_DIR, "controller-manager.conf");
    let mut base = vec![
        arg("bind-address", "127.0.0.1"),
        arg("leader-elect", "true"),
        arg("kubeconfig", kubeconfig.as_str()),
        arg("authentication-kubeconfig", kubeconfig.as_str()),
        arg("authorization-kubeconfig", kubeconfig.as_str()),
        arg("client-ca-file", pki("ca.crt")),
        arg("requestheader-client-ca-file", pki("front-proxy-ca.crt")),
        arg("root-ca-file", pki("ca.crt")),
        arg("service-account-private-key-file", pki("sa.key")),
        arg("cluster-signing-cert-file", pki("ca.crt")),
        arg("cluster-signing-key-file", pki("ca.key")),
        arg("use-service-account-credentials", "true"),
        arg("controllers", "*,bootstrapsigner,tokencleaner"),
    ];
    if host.external_ca {
        args::set_value(&mut base, "cluster-signing-key-file", "");
        args::set_value(&mut base, "cluster-signing-cert-file", "");
    }
    let net = &cfg.networking;
    if !net.pod_subnet.is_empty() {
        args::set_value(&mut base, "allocate-node-cidrs", "true");
        args::set_value(&mut base, "cluster-cidr", net.pod_subnet.as_str());
        if !net.service_subnet.is_empty() {
            args::set_value(
                &mut base,
                "service-cluster-ip-range",
                net.service_subnet.as_str(),
            );
        }
    }
    if !cfg.cluster_name.is_empty() {
        args::set_value(&mut base, "cluster-name", cfg.cluster_name.as_str());
    }
    base
}

/// `getSchedulerCommand`'s base list.
fn scheduler_args() -> Vec<Arg> {
    let kubeconfig = join(KUBERNETES_DIR, "scheduler.conf");
    vec![
        arg("bind-address", "127.0.0.1"),
        arg("leader-elect", "true"),
        arg("kubeconfig", kubeconfig.as_str()),
        arg("authentication-kubeconfig", kubeconfig.as_str()),
        arg("authorization-kubeconfig", kubeconfig.as_str()),
    ]
}

/// `getEtcdCommand`'s base list for `kubeadm init` (a single-member cluster).
fn etcd_args(cluster: &Cluster) -> Vec<Arg> {
    let cfg = &cluster.config;
    let ctx = Ctx::new(cluster);
    let pki = |name: &str| join(&cfg.certificates_dir, name);
    let data_dir = cfg.etcd.local.as_ref().map_or("", |l| l.data_dir.as_str());
    let local = ctx.localhost();
    let local_client = format!("https://{}", join_host_port(local, ETCD_CLIENT_PORT));
    let mut base = vec![
        arg("name", cluster.node_name()),
        arg("experimental-initial-corrupt-check", "true"),
        arg(
            "listen-client-urls",
            format!("{local_client},{}", ctx.client_url()),
        ),
        arg("advertise-client-urls", ctx.client_url()),
        arg("listen-peer-urls", ctx.peer_url()),
        arg("initial-advertise-peer-urls", ctx.peer_url()),
        arg("data-dir", data_dir),
        arg("cert-file", pki("etcd/server.crt")),
        arg("key-file", pki("etcd/server.key")),
        arg("trusted-ca-file", pki("etcd/ca.crt")),
        arg("client-cert-auth", "true"),
        arg("peer-cert-file", pki("etcd/peer.crt")),
        arg("peer-key-file", pki("etcd/peer.key")),
        arg("peer-trusted-ca-file", pki("etcd/ca.crt")),
        arg("peer-client-cert-auth", "true"),
        arg("snapshot-count", "10000"),
        arg(
            "listen-metrics-urls",
            format!("http://{}", join_host_port(local, ETCD_METRICS_PORT)),
        ),
        arg("experimental-watch-progress-notify-interval", "5s"),
    ];
    if cluster.etcd_initial_cluster.is_empty() {
        let initial = format!("{}={}", cluster.node_name(), ctx.peer_url());
        args::set_value(&mut base, "initial-cluster", initial);
    } else {
        // A joining member (`CreateStackedEtcdStaticPodManifestFile`, `cmd/kubeadm/app/phases/etcd/local.go`): the members before it and itself, and
        // `existing`. kubeadm lists them in etcd's member-ID order, which only etcd knows
        // at add time; kbc lists them in join order, which etcd accepts (etcd's `ValidateClusterAndAssignIDs`).
        let initial: Vec<String> = cluster
            .etcd_initial_cluster
            .iter()
            .map(|(name, url)| format!("{name}={url}"))
            .collect();
        args::set_value(&mut base, "initial-cluster", initial.join(","));
        args::set_value(&mut base, "initial-cluster-state", "existing");
    }
    base
}

/// `StartupProbe`'s failure threshold: `ceil(controlPlaneComponentHealthCheck / 10s)`.
fn startup_failure_threshold(cluster: &Cluster) -> i64 {
    let timeout = cluster
        .timeouts
        .control_plane_component_health_check
        .nanos();
    // Go: math.Ceil(d.Seconds() / 10), with Seconds() = whole seconds + fraction.
    let seconds = (timeout / 1_000_000_000) as f64 + (timeout % 1_000_000_000) as f64 / 1e9;
    (seconds / 10.0).ceil() as i64
}

/// The hostPath volumes and mounts of one control-plane Pod, keyed (and so sorted) by name,
/// as kubeadm's `controlPlaneHostPathMounts` maps are.
#[derive(Default)]
struct Mounts {
    volumes: BTreeMap<String, Value>,
    mounts: BTreeMap<String, Value>,
}

impl Mounts {
    fn add(
        &mut self,
        name: &str,
        host_path: &str,
        mount_path: &str,
        read_only: bool,
        path_type: &str,
    ) {
        self.volumes.insert(
            name.to_string(),
            host_path_volume(name, host_path, path_type),
        );
        self.mounts
            .insert(name.to_string(), volume_mount(name, mount_path, read_only));
    }

    /// `AddExtraHostPathMounts`: a user entry replaces a default of the same name. The
    /// `pathType` is copied as given, so an omitted one is written as `type: ""`.
    fn add_extra(&mut self, extra: &[HostPathMount]) {
        for e in extra {
            self.add(
                &e.name,
                &e.host_path,
                &e.mount_path,
                e.read_only,
                &e.path_type,
            );
        }
    }

    fn volumes(&self) -> Vec<Value> {
        self.volumes.values().cloned().collect()
    }

    fn mounts(&self) -> Vec<Value> {
        self.mounts.values().cloned().collect()
    }
}

/// `getHostPathVolumesForTheControlPlane`, for one component.
fn control_plane_mounts(cluster: &Cluster, host: &HostInputs, component: Component) -> Mounts {
    let cfg = &cluster.config;
    let mut m = Mounts::default();
    let dir_or_create = "DirectoryOrCreate";
    let certs = cfg.certificates_dir.as_str();
    match component {
        Component::ApiServer => {
            m.add("k8s-certs", certs, certs, true, dir_or_create);
            m.add(
                "ca-certs",
                CA_CERTS_PATH,
                CA_CERTS_PATH,
                true,
                dir_or_create,
            );
            if let Some(ext) = &cfg.etcd.external {
                for (i, dir) in etcd_cert_dirs(ext, certs).iter().enumerate() {
                    m.add(&format!("etcd-certs-{i}"), dir, dir, true, dir_or_create);
                }
            }
        }
        Component::ControllerManager => {
            m.add("k8s-certs", certs, certs, true, dir_or_create);
            m.add(
                "ca-certs",
                CA_CERTS_PATH,
                CA_CERTS_PATH,
                true,
                dir_or_create,
            );
            let kubeconfig = join(KUBERNETES_DIR, "controller-manager.conf");
            m.add("kubeconfig", &kubeconfig, &kubeconfig, true, "FileOrCreate");
            // Read-write: flexvolume drivers talk over sockets in this directory.
            let flex =
                args::last_value(&cfg.controller_manager.extra_args, "flex-volume-plugin-dir")
                    .unwrap_or(FLEXVOLUME_DIR);
            m.add("flexvolume-dir", flex, flex, false, dir_or_create);
        }
        Component::Scheduler => {
            let kubeconfig = join(KUBERNETES_DIR, "scheduler.conf");
            m.add("kubeconfig", &kubeconfig, &kubeconfig, true, "FileOrCreate");
        }
        Component::Etcd => {}
    }
    if matches!(
        component,
        Component::ApiServer | Component::ControllerManager
    ) {
        for dir in &host.ca_cert_extra_dirs {
            let name = dir.replace('/', "-");
            let name = name.strip_prefix('-').unwrap_or(&name);
            m.add(name, dir, dir, true, dir_or_create);
        }
    }
    match component {
        Component::ApiServer => m.add_extra(&cfg.api_server.extra_volumes),
        Component::ControllerManager => m.add_extra(&cfg.controller_manager.extra_volumes),
        Component::Scheduler => m.add_extra(&cfg.scheduler.extra_volumes),
        Component::Etcd => {}
    }
    m
}

/// `getEtcdCertVolumes`: the directories of the external etcd files that no default mount
/// covers, outermost only, sorted. The prefix tests are plain string prefixes, as in kubeadm,
/// and always against all five CA directories, whatever [`HostInputs`] says.
fn etcd_cert_dirs(ext: &ExternalEtcd, certificates_dir: &str) -> Vec<String> {
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for file in [&ext.ca_file, &ext.cert_file, &ext.key_file] {
        let dir = dir_name(file);
        let covered = CA_CERTS_EXTRA_DIRS.iter().any(|p| dir.starts_with(p))
            || dir.starts_with(CA_CERTS_PATH)
            || dir.starts_with(certificates_dir);
        if dir == "." || covered {
            continue;
        }
        let mut nested = false;
        for existing in dirs.clone() {
            if existing.starts_with(&dir) {
                dirs.remove(&existing);
            } else if dir.starts_with(&existing) {
                nested = true;
            }
        }
        if !nested {
            dirs.insert(dir);
        }
    }
    dirs.into_iter().collect()
}

/// `GetEtcdProbeEndpoint`: host, port and scheme of the etcd probes, from the first URL of a
/// user `listen-metrics-urls` if there is one.
fn etcd_probe_endpoint(extra: &[Arg], ipv6: bool) -> (String, u16, &'static str) {
    let localhost = if ipv6 { "::1" } else { "127.0.0.1" };
    let default = (localhost.to_string(), ETCD_METRICS_PORT, "HTTP");
    let Some(urls) = args::last_value(extra, "listen-metrics-urls") else {
        return default;
    };
    let first = urls.split(',').next().unwrap_or("");
    let Some(url) = GoUrl::parse(first) else {
        return default;
    };
    let scheme = if url.scheme == "https" {
        "HTTPS"
    } else {
        "HTTP"
    };
    let host = if url.hostname.is_empty() {
        localhost.to_string()
    } else {
        url.hostname
    };
    // kubeadmutil.ParsePort: a decimal in 1..=65535, else the default port.
    let port = url
        .port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .unwrap_or(ETCD_METRICS_PORT);
    (host, port, scheme)
}

/// The parts of Go's `url.Parse` that `GetEtcdProbeEndpoint` looks at.
struct GoUrl {
    /// Lower-cased.
    scheme: String,
    /// `URL.Hostname()`: without port and brackets.
    hostname: String,
    /// `URL.Port()`: digits, possibly empty.
    port: String,
}

impl GoUrl {
    /// `None` where Go's parser returns an error.
    fn parse(raw: &str) -> Option<GoUrl> {
        let raw = raw.split('#').next().unwrap_or("");
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return None;
        }
        // getScheme
        let mut scheme = "";
        let mut rest = raw;
        for (i, c) in raw.char_indices() {
            match c {
                'a'..='z' | 'A'..='Z' => {}
                '0'..='9' | '+' | '-' | '.' if i > 0 => {}
                ':' if i == 0 => return None,
                ':' => {
                    scheme = &raw[..i];
                    rest = &raw[i + 1..];
                    break;
                }
                _ => break,
            }
        }
        let rest = rest.split('?').next().unwrap_or("");
        let empty = |scheme: &str| GoUrl {
            scheme: scheme.to_ascii_lowercase(),
            hostname: String::new(),
            port: String::new(),
        };
        if !rest.starts_with('/') {
            // An opaque URL (`scheme:x`) or a relative path; a colon in its first segment
            // without a scheme is an error.
            if scheme.is_empty() && rest.split('/').next().unwrap_or("").contains(':') {
                return None;
            }
            return Some(empty(scheme));
        }
        let Some(after) = rest
            .strip_prefix("//")
            .filter(|_| !scheme.is_empty() || !rest.starts_with("///"))
        else {
            return Some(empty(scheme));
        };
        let authority = after.split('/').next().unwrap_or("");
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // parseHost: the port after the host (or after `]`) must be `:digits*`.
        let valid_port = |p: &str| {
            p.is_empty() || (p.starts_with(':') && p[1..].bytes().all(|b| b.is_ascii_digit()))
        };
        if host.starts_with('[') {
            let close = host.rfind(']')?;
            if !valid_port(&host[close + 1..]) {
                return None;
            }
        } else if let Some(colon) = host.rfind(':') {
            if !valid_port(&host[colon..]) {
                return None;
            }
        }
        // splitHostPort
        let (mut hostname, port) = match host.rfind(':') {
            Some(colon) if valid_port(&host[colon..]) => (&host[..colon], &host[colon + 1..]),
            _ => (host, ""),
        };
        if hostname.starts_with('[') && hostname.ends_with(']') {
            hostname = &hostname[1..hostname.len() - 1];
        }
        Some(GoUrl {
            scheme: scheme.to_ascii_lowercase(),
            hostname: hostname.to_string(),
            port: port.to_string(),
        })
    }
}

/// `MergeKubeadmEnvVars(proxyEnvs, extraEnvs)` with no proxy variables (kbc reads no
/// environment): the last entry of each name wins; sorted by name.
fn merge_envs(envs: &[EnvVar]) -> Vec<Value> {
    let mut by_name: BTreeMap<&str, &EnvVar> = BTreeMap::new();
    for e in envs {
        by_name.insert(&e.name, e);
    }
    by_name
        .values()
        .map(|e| serde_json::to_value(e).expect("EnvVar always serializes to JSON"))
        .collect()
}

/// The container fields kubeadm sets.
struct Container {
    name: &'static str,
    image: String,
    command: Vec<String>,
    mounts: Vec<Value>,
    liveness: Option<Value>,
    readiness: Option<Value>,
    startup: Option<Value>,
    requests: Value,
    env: Vec<Value>,
}

/// `staticpod.ComponentPod`: the Pod around one container.
fn component_pod(c: Container, volumes: Vec<Value>, annotations: &[(&str, String)]) -> Value {
    let mut container = Map::new();
    container.insert("name".into(), json!(c.name));
    container.insert("image".into(), json!(c.image));
    container.insert("imagePullPolicy".into(), json!("IfNotPresent"));
    container.insert("command".into(), json!(c.command));
    container.insert("resources".into(), json!({ "requests": c.requests }));
    let optional = [
        ("livenessProbe", c.liveness),
        ("readinessProbe", c.readiness),
        ("startupProbe", c.startup),
        ("env", Some(Value::Array(c.env)).filter(non_empty)),
        (
            "volumeMounts",
            Some(Value::Array(c.mounts)).filter(non_empty),
        ),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            container.insert(key.into(), v);
        }
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(c.name));
    metadata.insert("namespace".into(), json!("kube-system"));
    metadata.insert("creationTimestamp".into(), Value::Null);
    metadata.insert(
        "labels".into(),
        json!({"component": c.name, "tier": "control-plane"}),
    );
    if !annotations.is_empty() {
        let map: Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        metadata.insert("annotations".into(), Value::Object(map));
    }
    let mut spec = Map::new();
    spec.insert("containers".into(), json!([Value::Object(container)]));
    spec.insert("hostNetwork".into(), json!(true));
    spec.insert("priority".into(), json!(PRIORITY));
    spec.insert("priorityClassName".into(), json!(PRIORITY_CLASS));
    spec.insert(
        "securityContext".into(),
        json!({"seccompProfile": {"type": "RuntimeDefault"}}),
    );
    if !volumes.is_empty() {
        spec.insert("volumes".into(), Value::Array(volumes));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {},
    })
}

fn non_empty(v: &Value) -> bool {
    v.as_array().is_some_and(|a| !a.is_empty())
}

/// `staticpod.NewVolume` with a hostPath type.
fn host_path_volume(name: &str, path: &str, path_type: &str) -> Value {
    json!({"name": name, "hostPath": {"path": path, "type": path_type}})
}

/// `staticpod.NewVolumeMount`; `readOnly: false` is omitted, as Go's `omitempty` does.
fn volume_mount(name: &str, path: &str, read_only: bool) -> Value {
    let mut m = json!({"name": name, "mountPath": path});
    if read_only {
        m["readOnly"] = json!(true);
    }
    m
}

/// `createHTTPProbe`; zero numbers and an empty host are omitted (`omitempty`). An empty host
/// makes the kubelet probe the Pod IP.
fn http_probe(
    host: &str,
    path: &str,
    port: u16,
    scheme: &str,
    delay: i64,
    threshold: i64,
    period: i64,
) -> Value {
    let mut get = json!({"path": path, "port": port, "scheme": scheme});
    if !host.is_empty() {
        get["host"] = json!(host);
    }
    let mut probe = json!({"httpGet": get, "timeoutSeconds": 15});
    for (key, n) in [
        ("initialDelaySeconds", delay),
        ("failureThreshold", threshold),
        ("periodSeconds", period),
    ] {
        if n != 0 {
            probe[key] = json!(n);
        }
    }
    probe
}

/// `LivenessProbe`: 10 s delay, period 10 s, 8 failures.
fn liveness(host: &str, path: &str, port: u16, scheme: &str) -> Value {
    http_probe(host, path, port, scheme, 10, 8, 10)
}

/// `ReadinessProbe`: no delay, period 1 s, 3 failures.
fn readiness(host: &str, path: &str, port: u16, scheme: &str) -> Value {
    http_probe(host, path, port, scheme, 0, 3, 1)
}

/// `StartupProbe`: 10 s delay, period 10 s, failures to cover the health-check timeout.
fn startup(host: &str, path: &str, port: u16, scheme: &str, threshold: i64) -> Value {
    http_probe(host, path, port, scheme, 10, threshold, 10)
}

/// `getProbeAddress`: an unspecified address means "probe the Pod IP" (empty host).
fn probe_address(addr: &str) -> String {
    if addr == "0.0.0.0" || addr == "::" {
        String::new()
    } else {
        addr.to_string()
    }
}

/// Go's `filepath.Join` on Unix: the non-empty parts joined with `/`, then [`clean`]ed.
pub(crate) fn join(dir: &str, name: &str) -> String {
    let parts: Vec<&str> = [dir, name].into_iter().filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    clean(&parts.join("/"))
}

/// Go's `filepath.Dir` on Unix: everything before the last `/`, cleaned; `.` if none.
fn dir_name(path: &str) -> String {
    let head = path.rfind('/').map_or("", |i| &path[..=i]);
    clean(head)
}

/// Go's `path.Clean`: no doubled slashes, no `.`, `..` resolved lexically, no trailing slash.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_paths() {
        assert_eq!(
            join("/etc/kubernetes/pki/", "sa.pub"),
            "/etc/kubernetes/pki/sa.pub"
        );
        assert_eq!(join("/a//b/../c", "etcd/ca.crt"), "/a/c/etcd/ca.crt");
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(clean(""), ".");
        assert_eq!(dir_name(""), ".");
        assert_eq!(dir_name("ca.crt"), ".");
        assert_eq!(dir_name("/ca.crt"), "/");
        assert_eq!(dir_name("/etc/etcd//pki/ca.crt"), "/etc/etcd/pki");
    }

    #[test]
    fn go_url_parts_used_by_the_etcd_probe() {
        let p = |s: &str| GoUrl::parse(s).map(|u| (u.scheme, u.hostname, u.port));
        let own = |a: &str, b: &str, c: &str| Some((a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(p("http://0.0.0.0:2381"), own("http", "0.0.0.0", "2381"));
        assert_eq!(p("HTTPS://[::1]:2382/x"), own("https", "::1", "2382"));
        assert_eq!(p("http://localhost"), own("http", "localhost", ""));
        assert_eq!(p("0.0.0.0:2381"), None);
        assert_eq!(p("http://a:b"), None);
        assert_eq!(p(":2381"), None);
    }

    #[test]
    fn etcd_probe_falls_back_per_part() {
        let extra = |v: &str| vec![arg("listen-metrics-urls", v)];
        assert_eq!(
            etcd_probe_endpoint(&extra("https://:0,http://10.0.0.1:9"), true),
            ("::1".to_string(), 2381, "HTTPS")
        );
        assert_eq!(
            etcd_probe_endpoint(&extra("not a url:1"), false),
            ("127.0.0.1".to_string(), 2381, "HTTP")
        );
    }

    #[test]
    fn external_etcd_dirs_are_outermost_and_skip_default_mounts() {
        let ext = ExternalEtcd {
            endpoints: vec![],
            ca_file: "/etc/etcd/ca.crt".into(),
            cert_file: "/etc/etcd/pki/client.crt".into(),
            key_file: "/etc/pki/tls/certs/client.key".into(),
        };
        assert_eq!(etcd_cert_dirs(&ext, "/etc/kubernetes/pki"), ["/etc/etcd"]);
        let ext = ExternalEtcd {
            endpoints: vec![],
            ca_file: "/etc/kubernetes/pki/etcd/ca.crt".into(),
            cert_file: "/b/c.crt".into(),
            key_file: "/a/k.key".into(),
        };
        assert_eq!(etcd_cert_dirs(&ext, "/etc/kubernetes/pki"), ["/a", "/b"]);
    }

    #[test]
    fn authz_modes_keep_known_user_modes() {
        assert_eq!(authz_modes(""), "Node,RBAC");
        assert_eq!(authz_modes("RBAC,Bogus,Webhook"), "RBAC,Webhook");
        assert_eq!(authz_modes("Bogus"), "Node,RBAC");
    }
}
