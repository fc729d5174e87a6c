//! Splitting a file into documents and decoding each by its `apiVersion` and `kind`, with
//! kubeadm's rules (`SplitConfigDocuments` in `cmd/kubeadm/app/util/marshal.go`,
//! `validateSupportedVersion` in `cmd/kubeadm/app/util/config/common.go`,
//! `documentMapToInitConfiguration`, `componentconfigs/configset.go`).
//!
//! Deliberate differences: unknown and duplicate fields are errors (kubeadm warns during
//! `init`) unless `--allow-unknown-fields`; documents of an unknown kind are errors (kubeadm
//! ignores them with a warning); every problem is collected instead of stopping at the first.

use super::diag::{Diagnostic, Report};
use super::duration::Duration;
use super::wire::{join, kubelet, kubeproxy, v1beta3, v1beta4};
use crate::yaml::de::from_node;
use crate::yaml::node::{parse_document, split_documents, Node, Pos};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

pub(crate) const KUBEADM_GROUP: &str = "kubeadm.k8s.io";
pub(crate) const KUBELET_GROUP_VERSION: &str = "kubelet.config.k8s.io/v1beta1";
pub(crate) const KUBE_PROXY_GROUP_VERSION: &str = "kubeproxy.config.k8s.io/v1alpha1";

/// kubeadm API versions that kubeadm 1.31 refuses, with the release to use instead.
const OLD_VERSIONS: &[(&str, &str)] = &[
    ("v1alpha1", "v1.11"),
    ("v1alpha2", "v1.12"),
    ("v1alpha3", "v1.14"),
    ("v1beta1", "v1.15"),
    ("v1beta2", "v1.22"),
];

/// The documents kbc uses, decoded into their wire types.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub init: Option<v1beta4::InitConfiguration>,
    pub cluster: Option<v1beta4::ClusterConfiguration>,
    pub kubelet: Option<kubelet::KubeletConfiguration>,
    pub kube_proxy: Option<kubeproxy::KubeProxyConfiguration>,
    /// `apiServer.timeoutForControlPlane` of a v1beta3 ClusterConfiguration.
    pub v1beta3_timeout: Option<Duration>,
    /// Every JoinConfiguration, in file order, converted to v1beta4, with its label
    /// ([`join_label`]).
    pub joins: Vec<(String, join::JoinConfiguration)>,
}

/// How diagnostics name the `n`th JoinConfiguration of a file (1-based): a cluster file
/// holds one per further node, so the kind alone does not say which.
pub(crate) fn join_label(n: usize) -> String {
    format!("JoinConfiguration #{n}")
}

/// Decoded documents and the trees they came from, for locating later problems.
#[derive(Clone, Debug, Default)]
pub struct Documents {
    pub decoded: Decoded,
    nodes: BTreeMap<String, Node>,
}

impl Documents {
    /// The tree of the document of `kind`, if the file has one.
    pub fn node(&self, kind: &str) -> Option<&Node> {
        self.nodes.get(kind)
    }
}

/// Splits, gates, and decodes every document, adding each problem to `report`.
pub fn read(text: &str, allow_unknown: bool, report: &mut Report) -> Documents {
    let mut docs = Documents::default();
    let Some(chunks) = split(text, report) else {
        return docs;
    };
    let mut seen_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut joins = 0;
    for chunk in &chunks {
        let Some(mut doc) = typed_document(chunk, report) else {
            continue;
        };
        // A cluster file holds one JoinConfiguration per further node (docs/clusters.md;
        // kubeadm's own reader takes one per file).
        if doc.kind == "JoinConfiguration" {
            joins += 1;
            doc.label = join_label(joins);
        }
        if let Some(first) = seen_kinds.get(&doc.label) {
            report.push(
                Diagnostic::error(
                    "kind",
                    format!(
                        "invalid configuration: kind {:?} is specified twice in YAML file",
                        doc.kind
                    ),
                )
                .kind(doc.kind.clone())
                .at(doc.kind_pos)
                .hint(format!(
                    "the first {} starts on line {first}; merge the two documents",
                    doc.kind
                )),
            );
            continue;
        }
        seen_kinds.insert(doc.label.clone(), chunk.first_line);
        for dup in &doc.duplicates {
            report.push(field_problem(
                allow_unknown,
                &doc.label,
                &dup.path,
                dup.again,
                format!(
                    "duplicate field {:?} (first set on line {})",
                    dup.key, dup.first.line
                ),
                "Go's YAML reader keeps the last value; delete one of them",
            ));
        }
        if !version_gate(&doc, report) {
            continue;
        }
        decode(&doc, allow_unknown, &mut docs, report);
        docs.nodes.insert(doc.label, doc.root);
    }
    docs
}

/// One YAML document with its type meta.
struct TypedDocument {
    root: Node,
    duplicates: Vec<crate::yaml::node::DuplicateKey>,
    api_version: String,
    kind: String,
    /// The kind, or [`join_label`] for a JoinConfiguration: how diagnostics name it.
    label: String,
    kind_pos: Pos,
    api_version_pos: Pos,
}

impl TypedDocument {
    /// `(group, version)` of the apiVersion.
    fn group_version(&self) -> (&str, &str) {
        self.api_version
            .rsplit_once('/')
            .unwrap_or(("", self.api_version.as_str()))
    }
}

/// Kubernetes' YAML document split; `None` (and the error reported) on a bad separator.
fn split(text: &str, report: &mut Report) -> Option<Vec<crate::yaml::node::Chunk>> {
    match split_documents(text) {
        Ok(chunks) => Some(chunks),
        Err(bad) => {
            report.push(
                Diagnostic::error(
                    "",
                    "invalid document separator: only spaces or a comment may follow `---`",
                )
                .at(Pos {
                    line: bad.line,
                    column: 4,
                })
                .hint("put the document's content on the next line"),
            );
            None
        }
    }
}

/// Parses a chunk and reads its apiVersion and kind (kubeadm's `SplitYAMLDocuments`: both
/// are required); `None` with the problem reported.
fn typed_document(chunk: &crate::yaml::node::Chunk, report: &mut Report) -> Option<TypedDocument> {
    let (root, duplicates) = match parse_document(chunk) {
        Ok(r) => r,
        Err(e) => {
            report.push(
                Diagnostic::error("", format!("invalid YAML: {}", e.message))
                    .at(e.pos)
                    .hint("check the indentation and quoting around this position"),
            );
            return None;
        }
    };
    let start = Pos {
        line: chunk.first_line,
        column: 1,
    };
    let Some(root) = root.filter(|r| r.get("kind").is_some() || r.get("apiVersion").is_some())
    else {
        report.push(missing_type_meta(start, "", ""));
        return None;
    };
    let text = |key: &str| {
        root.get(key)
            .and_then(|e| e.value.as_str())
            .unwrap_or("")
            .to_string()
    };
    let pos_of = |key: &str| root.get(key).map_or(root.pos, |e| e.value.pos);
    let doc = TypedDocument {
        api_version: text("apiVersion"),
        kind: text("kind"),
        label: text("kind"),
        kind_pos: pos_of("kind"),
        api_version_pos: pos_of("apiVersion"),
        duplicates,
        root,
    };
    let (group, version) = doc.group_version();
    if group.is_empty() || version.is_empty() || doc.kind.is_empty() {
        report.push(missing_type_meta(doc.root.pos, &doc.api_version, &doc.kind));
        return None;
    }
    Some(doc)
}

/// kubeadm's version gate: API versions older than v1beta3 are refused (`false`), v1beta3
/// is deprecated with a warning.
fn version_gate(doc: &TypedDocument, report: &mut Report) -> bool {
    let (group, version) = doc.group_version();
    if group != KUBEADM_GROUP {
        return true;
    }
    let (api_version, kind) = (&doc.api_version, &doc.kind);
    let label = &doc.label;
    if let Some((_, release)) = OLD_VERSIONS.iter().find(|(v, _)| *v == version) {
        report.push(
            Diagnostic::error("apiVersion", format!("your configuration file uses an old API spec: {api_version:?} (kind: {kind:?}). Please use kubeadm {release} instead and run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version."))
                .kind(label.clone())
                .at(doc.api_version_pos)
                .hint("kbc reads kubeadm.k8s.io/v1beta4 and v1beta3"),
        );
        return false;
    }
    if version == "v1beta3" {
        report.push(
            Diagnostic::warning("apiVersion", format!("your configuration file uses a deprecated API spec: {api_version:?} (kind: {kind:?}). Please use 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version."))
                .kind(label.clone())
                .at(doc.api_version_pos)
                .hint("`kbc config migrate --old-config FILE` prints the v1beta4 form"),
        );
    }
    true
}

/// Decodes a document by its group, version and kind into `docs`, or reports why not.
fn decode(doc: &TypedDocument, allow_unknown: bool, docs: &mut Documents, report: &mut Report) {
    let (group, version) = doc.group_version();
    let (root, kind, api_version) = (&doc.root, doc.kind.as_str(), doc.api_version.as_str());
    let ctx = Ctx {
        report: &mut *report,
        allow_unknown,
        kind: &doc.label,
    };
    let d = &mut docs.decoded;
    match (group, version, kind) {
        (KUBEADM_GROUP, "v1beta4", "InitConfiguration") => d.init = ctx.decode(root),
        (KUBEADM_GROUP, "v1beta4", "ClusterConfiguration") => d.cluster = ctx.decode(root),
        (KUBEADM_GROUP, "v1beta3", "InitConfiguration") => {
            d.init = ctx.decode::<v1beta3::InitConfiguration>(root).map(super::convert::init)
        }
        (KUBEADM_GROUP, "v1beta3", "ClusterConfiguration") => {
            if let Some(c) = ctx.decode::<v1beta3::ClusterConfiguration>(root) {
                let (c, timeout) = super::convert::cluster(c);
                d.cluster = Some(c);
                d.v1beta3_timeout = timeout;
            }
        }
        (KUBEADM_GROUP, "v1beta4", "JoinConfiguration") => {
            if let Some(j) = ctx.decode::<join::JoinConfiguration>(root) {
                d.joins.push((doc.label.clone(), j));
            }
        }
        (KUBEADM_GROUP, "v1beta3", "JoinConfiguration") => {
            if let Some(j) = ctx.decode::<join::JoinConfigurationV1beta3>(root) {
                d.joins.push((doc.label.clone(), join::convert(j)));
            }
        }
        (KUBEADM_GROUP, "v1beta4", "ResetConfiguration" | "UpgradeConfiguration") => {
            report.push(ignored(kind, api_version, doc.kind_pos))
        }
        (_, _, "InitConfiguration" | "ClusterConfiguration") => report.push(
            Diagnostic::error("apiVersion", format!("no kind {kind:?} is registered for version {api_version:?}"))
                .kind(kind)
                .at(doc.api_version_pos)
                .hint("use apiVersion: kubeadm.k8s.io/v1beta4"),
        ),
        ("kubelet.config.k8s.io", _, "KubeletConfiguration") if api_version == KUBELET_GROUP_VERSION => {
            d.kubelet = ctx.decode(root)
        }
        ("kubeproxy.config.k8s.io", _, "KubeProxyConfiguration") if api_version == KUBE_PROXY_GROUP_VERSION => {
            d.kube_proxy = ctx.decode(root)
        }
        ("kubelet.config.k8s.io", ..) | ("kubeproxy.config.k8s.io", ..) => {
            let preferred = if group.starts_with("kubelet") { KUBELET_GROUP_VERSION } else { KUBE_PROXY_GROUP_VERSION };
            report.push(
                Diagnostic::error("apiVersion", format!("unsupported apiVersion {api_version:?}, you may have to do manual conversion to {preferred:?} and run kubeadm again"))
                    .kind(kind)
                    .at(doc.api_version_pos),
            )
        }
        _ if allow_unknown => unknown_document_warnings(group, version, kind, doc.kind_pos, report),
        _ => report.push(
            Diagnostic::error("kind", format!("unknown document with GroupVersionKind {api_version}, Kind={kind}: kubeadm would ignore it with a warning"))
                .kind(kind)
                .at(doc.kind_pos)
                .hint("kbc reads InitConfiguration, ClusterConfiguration (kubeadm.k8s.io/v1beta4 or v1beta3), KubeletConfiguration (kubelet.config.k8s.io/v1beta1) and KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1); remove other documents (--allow-unknown-fields ignores them as kubeadm does)"),
        ),
    }
}

/// kubeadm's two warnings for a document of a kind it does not know, here or in another
/// group (a `KubeProxyConfiguration` under `kubeadm.k8s.io/v1beta3`): `VerifyUnmarshalStrict`
/// finds no type for it (an error that `init` only logs), then `documentMapToInitConfiguration`
/// ignores it (`cmd/kubeadm/app/util/config/strict/strict.go`, `common.go`).
fn unknown_document_warnings(
    group: &str,
    version: &str,
    kind: &str,
    pos: Pos,
    report: &mut Report,
) {
    let gvk = format!("{group}/{version}, Kind={kind}");
    report.push(
        Diagnostic::warning("", format!("unknown configuration schema.GroupVersionKind{{Group:{group:?}, Version:{version:?}, Kind:{kind:?}}}"))
            .kind(kind)
            .at(pos),
    );
    report.push(
        Diagnostic::warning(
            "",
            format!("[config] WARNING: Ignored YAML document with GroupVersionKind {gvk}"),
        )
        .kind(kind)
        .at(pos)
        .hint("kubeadm and kbc ignore this document (--allow-unknown-fields)"),
    );
}

fn missing_type_meta(pos: Pos, api_version: &str, kind: &str) -> Diagnostic {
    let hint = if !api_version.is_empty() && !api_version.contains('/') {
        format!("{kind} of apiVersion {api_version:?} belongs to no API group, and kubeadm reads only grouped documents; remove it from this file")
    } else {
        "every document needs both, e.g. `apiVersion: kubeadm.k8s.io/v1beta4` and `kind: InitConfiguration`; a document of only comments between `---` lines counts too".to_string()
    };
    Diagnostic::error(
        "",
        "kind and apiVersion is mandatory information that must be specified",
    )
    .at(pos)
    .hint(hint)
}

fn ignored(kind: &str, api_version: &str, pos: Pos) -> Diagnostic {
    Diagnostic::warning("", format!("[config] WARNING: Ignored configuration document with GroupVersionKind {api_version}, Kind={kind}"))
        .kind(kind)
        .at(pos)
}

/// An unknown or duplicate field: an error, or kubeadm's warning under `--allow-unknown-fields`.
fn field_problem(
    allow: bool,
    kind: &str,
    path: &str,
    pos: Pos,
    msg: String,
    hint: &str,
) -> Diagnostic {
    let d = if allow {
        Diagnostic::warning(path, msg).hint(format!(
            "{hint} (kubeadm accepts the file and ignores the field with a warning)"
        ))
    } else {
        Diagnostic::error(path, msg).hint(format!(
            "{hint} (--allow-unknown-fields accepts the file as kubeadm would)"
        ))
    };
    d.kind(kind).at(pos)
}

struct Ctx<'a> {
    report: &'a mut Report,
    allow_unknown: bool,
    kind: &'a str,
}

impl Ctx<'_> {
    fn decode<T: DeserializeOwned>(self, root: &Node) -> Option<T> {
        let (result, unknown) = from_node::<T>(root);
        for u in unknown {
            if u.key == "apiVersion" || u.key == "kind" {
                continue;
            }
            let (msg, hint) = match u.did_you_mean {
                Some(f) => (
                    format!("unknown field {:?}", u.key),
                    format!("field names are case-sensitive: did you mean {f:?}?"),
                ),
                None => (
                    format!("unknown field {:?}", u.key),
                    format!(
                        "{} has no such field; check the spelling and the indentation",
                        self.kind
                    ),
                ),
            };
            self.report.push(field_problem(
                self.allow_unknown,
                self.kind,
                &u.path,
                u.pos,
                msg,
                &hint,
            ));
        }
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                let mut d = Diagnostic::error(e.path, e.message).kind(self.kind);
                d.pos = e.pos;
                d.hint = e.hint;
                self.report.push(d);
                None
            }
        }
    }
}
