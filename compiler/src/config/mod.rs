//! kubeadm's configuration file, from bytes to a validated [`Cluster`].
//!
//! The stages follow `documentMapToInitConfiguration` (`cmd/kubeadm/app/util/config/initconfiguration.go`):
//! split into documents → version gate → strict decode → convert to v1beta4 → static
//! defaults → kbc's offline dynamic defaults → component-config overlay → validation. Every
//! stage adds to one [`Report`], so a file with five mistakes gets five errors in one run.

pub(crate) mod cluster;
pub(crate) mod component;
pub(crate) mod convert;
pub(crate) mod defaults;
pub(crate) mod diag;
pub mod documents;
pub mod duration;
pub(crate) mod features;
pub(crate) mod join;
pub mod release;
pub mod validate;
pub(crate) mod wire;

pub use cluster::{Cluster, EncryptionAlgorithm};
pub use defaults::Overrides;
pub use diag::{Diagnostic, Report, Severity};

use crate::yaml::node::Node;
use documents::{Decoded, Documents};
use wire::kubelet::KubeletConfiguration;
use wire::kubeproxy::KubeProxyConfiguration;
use wire::v1beta4::{ClusterConfiguration, InitConfiguration};

/// Where a configuration came from: the name to print and its text.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Init, Cluster and (optionally) the component configs as one multi-document YAML.
pub fn documents(
    init: &InitConfiguration,
    cluster: &ClusterConfiguration,
    components: Option<(
        &wire::kubelet::KubeletConfiguration,
        &wire::kubeproxy::KubeProxyConfiguration,
    )>,
) -> String {
    let mut docs = vec![
        crate::yaml::ser::to_yaml(init),
        crate::yaml::ser::to_yaml(cluster),
    ];
    if let Some((kubelet, proxy)) = components {
        docs.push(crate::yaml::ser::to_yaml(kubelet));
        docs.push(crate::yaml::ser::to_yaml(proxy));
    }
    crate::yaml::ser::join_documents(docs)
}

/// Choices that change how a file is read.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub overrides: Overrides,
    /// Report unknown and duplicate fields as warnings (kubeadm's behaviour) instead of errors.
    pub allow_unknown_fields: bool,
    /// Whether the node runs systemd-resolved; decides the kubelet's `resolvConf` (kubeadm
    /// probes the host for it).
    pub systemd_resolved: bool,
}

/// Every document after conversion and defaulting, before validation: what `kbc config view`
/// prints and what validation checks.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub init: InitConfiguration,
    pub cluster: ClusterConfiguration,
    pub kubelet: KubeletConfiguration,
    pub kube_proxy: KubeProxyConfiguration,
    /// Whether the file held these component documents (else kubeadm's defaults alone).
    pub kubelet_user_supplied: bool,
    pub kube_proxy_user_supplied: bool,
    /// The JoinConfiguration documents of a cluster file, with their labels.
    pub joins: Vec<(String, wire::join::JoinConfiguration)>,
}

/// A loaded and validated configuration with the warnings met on the way.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The init node.
    pub cluster: Cluster,
    /// The further nodes of a cluster file, in file order.
    pub joins: Vec<join::JoinNode>,
    pub warnings: Report,
}

/// Reads, converts, defaults and validates a configuration file.
pub fn load(src: &Source, opts: &LoadOptions) -> Result<Loaded, Report> {
    let (config, docs, mut report) = read_unfinished(src, opts);
    let Some(mut config) = config else {
        return Err(finish(report, &docs, src));
    };
    let mut found = Vec::new();
    let resolved = cluster::resolve(&mut config, opts, &mut found);
    let joins = match &resolved {
        Some(cluster) => join::resolve(&config.joins, cluster, &mut found),
        None => Vec::new(),
    };
    if resolved.is_none() && !found.iter().any(Diagnostic::is_error) {
        // Validation passed but a value did not resolve: a kbc bug, never a silent refusal.
        found.push(Diagnostic::error(
            "",
            "kbc could not resolve a value that passed validation (a bug in kbc; please report it with this file)",
        ));
    }
    report.diagnostics.extend(found);
    let report = finish(report, &docs, src);
    match resolved {
        Some(cluster) if !report.has_errors() => Ok(Loaded {
            cluster,
            joins,
            warnings: report,
        }),
        _ => Err(report),
    }
}

/// The defaulted documents without validation (for `config migrate` and `config images
/// list`), plus what went wrong reading them, located in `src`.
pub(crate) fn read_config(src: &Source, opts: &LoadOptions) -> (Option<Config>, Documents, Report) {
    let (config, docs, report) = read_unfinished(src, opts);
    let report = finish(report, &docs, src);
    (config, docs, report)
}

/// [`read_config`] before the diagnostics get their file and position.
fn read_unfinished(src: &Source, opts: &LoadOptions) -> (Option<Config>, Documents, Report) {
    let mut report = Report::default();
    let docs = documents::read(&src.text, opts.allow_unknown_fields, &mut report);
    if report.has_errors() {
        return (None, docs, report);
    }
    let Decoded {
        init,
        cluster,
        kubelet,
        kube_proxy,
        v1beta3_timeout,
        joins,
    } = docs.decoded.clone();
    if init.is_none() && cluster.is_none() {
        report.push(
            Diagnostic::error(
                "",
                "no InitConfiguration or ClusterConfiguration kind was found in the configuration file",
            )
            .hint("start the file with `apiVersion: kubeadm.k8s.io/v1beta4` and `kind: ClusterConfiguration` (see `kbc config print init-defaults`)"),
        );
        return (None, docs, report);
    }
    let mut init = init.unwrap_or_default();
    let mut cluster = cluster.unwrap_or_default();
    init.api_version = wire::v1beta4::GROUP_VERSION.into();
    init.kind = "InitConfiguration".into();
    cluster.api_version = wire::v1beta4::GROUP_VERSION.into();
    cluster.kind = "ClusterConfiguration".into();
    defaults::default_init(&mut init);
    defaults::default_cluster(&mut cluster);
    if let (Some(t), Some(timeouts)) = (v1beta3_timeout, init.timeouts.as_mut()) {
        timeouts.control_plane_component_health_check = Some(t);
    }
    report.diagnostics.extend(defaults::dynamic_defaults(
        &mut init,
        &mut cluster,
        &opts.overrides,
    ));
    let overlay = component::OverlayInput {
        certificates_dir: &cluster.certificates_dir,
        dns_domain: &cluster.networking.dns_domain,
        service_subnet: &cluster.networking.service_subnet,
        pod_subnet: Some(cluster.networking.pod_subnet.as_str()).filter(|s| !s.is_empty()),
        advertise_address_is_ipv6: init.local_api_endpoint.advertise_address.contains(':'),
    };
    let kubelet_user_supplied = kubelet.is_some();
    let kube_proxy_user_supplied = kube_proxy.is_some();
    let (kubelet, kubelet_notes) = component::default_kubelet(kubelet, &overlay);
    let (kube_proxy, proxy_notes) = component::default_kube_proxy(kube_proxy, &overlay);
    // kubeadm warns about a resolvConf it would not write when it writes config.yaml; kbc
    // says it while reading, where the position is known.
    let resolv_note = component::mutate_kubelet(&mut kubelet.clone(), opts.systemd_resolved);
    for note in kubelet_notes.iter().chain(&proxy_notes).chain(&resolv_note) {
        report.push(Diagnostic::warning(note.field.clone(), note.to_string()).kind(note.kind));
    }
    (
        Some(Config {
            init,
            cluster,
            kubelet,
            kube_proxy,
            kubelet_user_supplied,
            kube_proxy_user_supplied,
            joins,
        }),
        docs,
        report,
    )
}

/// Gives each diagnostic its file name and, from its kind and path, its position, and puts
/// them in file order. Safe to apply again after more diagnostics were added.
pub(crate) fn finish(mut report: Report, docs: &Documents, src: &Source) -> Report {
    for d in &mut report.diagnostics {
        d.file = src.name.clone();
        if d.pos.is_none() {
            if let Some(node) = d.kind.as_deref().and_then(|k| docs.node(k)) {
                d.pos = Some(locate(node, &d.path));
            }
        }
    }
    report.sort();
    report
}

/// The position of the deepest node on `path` (`a.b[2].c`) that exists in the document.
pub(crate) fn locate(root: &Node, path: &str) -> crate::yaml::node::Pos {
    use crate::yaml::node::Value;
    let mut node = root;
    let mut pos = root.pos;
    for seg in path_segments(path) {
        let next = match (&node.value, seg) {
            (Value::Map(_), Seg::Key(k)) => node.get(k).map(|e| (e.key_pos, &e.value)),
            (Value::Seq(items), Seg::Index(i)) => items.get(i).map(|n| (n.pos, n)),
            _ => None,
        };
        match next {
            Some((p, n)) => {
                pos = if matches!(n.value, Value::Scalar(..)) {
                    n.pos
                } else {
                    p
                };
                node = n;
            }
            None => break,
        }
    }
    pos
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}
