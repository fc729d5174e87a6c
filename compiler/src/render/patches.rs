//! kubeadm's patches: `--patches DIR` / `InitConfiguration.patches.directory`, applied to the
//! control-plane static Pods, the kubelet's `config.yaml` and the CoreDNS Deployment.
//!
//! Mirrors `cmd/kubeadm/app/util/patches/patches.go` (file names, order, splitting, the three
//! patch types), `PatchStaticPod` in `cmd/kubeadm/app/util/staticpod/utils.go` and
//! `applyKubeletConfigPatches` in `cmd/kubeadm/app/phases/kubelet/config.go` of the v1.31 line,
//! and the part of `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go` those targets need.
//!
//! **Files.** kubeadm walks the directory with Go's `filepath.Walk`: names sorted byte-wise in
//! each directory, sub-directories descended into where they sort (the comment in patches.go
//! says they are ignored; the code recurses), the directory itself must not be a symlink
//! (`os.Lstat`). A file name is `target[suffix][+patchtype].(json|yaml)`, read with the regular
//! expression `^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubeletconfiguration|corednsdeployment)([^.+\n]*)?(\+)?(json|merge|strategic)?`
//! anchored at the start only; the patch type defaults to `strategic`. A file holds one or more
//! YAML or JSON documents separated by `---`; each non-empty document is one patch. For each
//! target the patches apply in walk order, so the suffix orders them (`kube-apiserver+json.json`
//! sorts before `kube-apiserver.yaml`, which sorts before `kube-apiserver0.yaml`).
//!
//! **Strategic merge** uses the patch metadata of the Go type of the target: `v1.Pod` for the
//! four static Pods, `apps/v1.Deployment` for CoreDNS, and the kubelet's
//! `KubeletConfiguration`, which declares no merge keys, so there every list is replaced and
//! strategic behaves as a JSON merge patch that also understands `$patch` directives.
//!
//! Deliberate differences, all stricter than kubeadm:
//! - kubeadm skips (and lists) files whose target it does not know; kbc refuses a `.json` or
//!   `.yaml` file with an unknown target, and a `.yml` file (kubeadm silently ignores that
//!   extension). Files with other extensions, and empty files, are skipped and listed in
//!   [`PatchSet::ignored`] as kubeadm does.
//! - A patch for a target that this configuration does not produce (`etcd` with external
//!   etcd; `corednsdeployment` with CoreDNS disabled, see [`PatchSet::refuse_target`]) is an
//!   error; kubeadm never reads it.
//! - Malformed patches are refused when loading, with file, line and column: a JSON patch that
//!   is not a list of known operations, a merge or strategic patch that is not a mapping,
//!   duplicate keys, YAML that does not parse. kubeadm finds some of these only while applying.
//! - kubeadm decodes a patched Pod into `v1.Pod` and encodes it again, which drops unknown
//!   fields, zero values of `omitempty` fields and canonicalises quantities. kbc has no Pod
//!   schema: it drops `null` values, restores `creationTimestamp: null` and `status: {}`, and
//!   refuses a result that is no longer a `v1` `Pod`; other fields are written as patched.

use crate::config::cluster::Cluster;
use crate::render::manifests::{self, Component, HostInputs};
use crate::yaml::node::{self, Node, Resolved, Style, Value as YamlValue};
use crate::yaml::ser::value_to_yaml;
use kbc_bundle::limits::MAX_PATCH_DIR_BYTES;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};

/// Patch target of the local etcd static Pod.
pub(crate) const ETCD: &str = "etcd";
/// Patch target of the kube-apiserver static Pod.
pub(crate) const KUBE_APISERVER: &str = "kube-apiserver";
/// Patch target of the kube-controller-manager static Pod.
pub(crate) const KUBE_CONTROLLER_MANAGER: &str = "kube-controller-manager";
/// Patch target of the kube-scheduler static Pod.
pub(crate) const KUBE_SCHEDULER: &str = "kube-scheduler";
/// Patch target of `/var/lib/kubelet/config.yaml`.
pub(crate) const KUBELET_CONFIGURATION: &str = "kubeletconfiguration";
/// Patch target of the CoreDNS Deployment (kubeadm 1.31 added it).
pub(crate) const COREDNS_DEPLOYMENT: &str = "corednsdeployment";

/// `patches.KnownTargets()` of kubeadm 1.31, in its order.
pub(crate) const KNOWN_TARGETS: [&str; 6] = [
    ETCD,
    KUBE_APISERVER,
    KUBE_CONTROLLER_MANAGER,
    KUBE_SCHEDULER,
    KUBELET_CONFIGURATION,
    COREDNS_DEPLOYMENT,
];

/// The patch types kubeadm accepts after `+`, in the order its regular expression tries them.
const PATCH_TYPES: [(&str, PatchType); 3] = [
    ("json", PatchType::Json),
    ("merge", PatchType::Merge),
    ("strategic", PatchType::Strategic),
];

/// How a patch file's documents apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// Kubernetes strategic merge patch (the default).
    Strategic,
    /// RFC 7386 JSON merge patch.
    Merge,
    /// RFC 6902 JSON patch.
    Json,
}

impl fmt::Display for PatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PatchType::Strategic => "strategic",
            PatchType::Merge => "merge",
            PatchType::Json => "json",
        })
    }
}

/// Everything that can go wrong loading or applying patches; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patches directory could not be listed, or one of its entries could not be read.
    #[error("could not list patch files in {}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The patches path exists but is not a directory (a symlink to one counts as not).
    #[error("could not list patch files in {}: not a directory", path.display())]
    NotADirectory { path: PathBuf },
    /// A patch file could not be read.
    #[error("could not read the patch file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `.json`/`.yaml` file whose name starts with no known target.
    #[error("{}: unknown patch target; the file name must start with one of {}", path.display(), KNOWN_TARGETS.join(", "))]
    UnknownTarget { path: PathBuf },
    /// `+` in the file name without one of the known patch types after it.
    #[error("{}: unknown or missing patch type after '+', must be one of json, merge, strategic", path.display())]
    UnknownPatchType { path: PathBuf },
    /// A `.yml` file, which kubeadm would silently skip.
    #[error("{}: kubeadm ignores the extension .yml; rename the file to .yaml", path.display())]
    YmlExtension { path: PathBuf },
    /// A file that is not UTF-8, or YAML that does not parse or has duplicate keys.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A document that parses but is not a patch of the file's type.
    #[error("{}:{line}: not a valid {patch_type} patch: {message}", path.display())]
    BadPatch {
        path: PathBuf,
        line: usize,
        patch_type: PatchType,
        message: String,
    },
    /// A patch that does not apply to its target.
    #[error("{}:{line}: could not apply the {patch_type} patch to target {target:?}: {message}", path.display())]
    Apply {
        path: PathBuf,
        line: usize,
        patch_type: PatchType,
        target: String,
        message: String,
    },
    /// The patched object is no longer what kubeadm writes (e.g. a Pod patched into another kind).
    #[error("{}: the patched {target:?} is not a valid {expected}: {message}", path.display())]
    BadResult {
        path: PathBuf,
        target: String,
        expected: &'static str,
        message: String,
    },
    /// Patch files for a target this configuration does not produce.
    #[error("{}: patches target {target:?}, but {reason}", paths_list(paths))]
    NoTarget {
        paths: Vec<PathBuf>,
        target: String,
        reason: String,
    },
    /// A target name that kubeadm does not know (a programmer error in kbc).
    #[error("unknown patch target name {0:?}, must be one of {known}", known = KNOWN_TARGETS.join(", "))]
    UnknownTargetName(String),
}

fn paths_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One document of a patch file, ready to apply.
#[derive(Clone, Debug)]
struct Patch {
    /// 1-based line where the document starts.
    line: usize,
    body: Body,
}

#[derive(Clone, Debug)]
enum Body {
    Strategic(Map<String, Value>),
    Merge(Value),
    Json(json_patch::Patch),
}

/// One patch file: its target, type and documents.
#[derive(Clone, Debug)]
pub struct PatchFile {
    /// The file as found under the patches directory (the directory joined with its name).
    pub path: PathBuf,
    /// One of [`KNOWN_TARGETS`].
    pub target: &'static str,
    pub patch_type: PatchType,
    patches: Vec<Patch>,
}

impl PatchFile {
    /// How many patches (non-empty documents) the file holds.
    pub fn len(&self) -> usize {
        self.patches.len()
    }

    /// Whether the file holds only empty or comment-only documents.
    pub fn is_empty(&self) -> bool {
        self.patches.is_empty()
    }
}

/// A file kubeadm would skip, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredFile {
    pub path: PathBuf,
    pub reason: String,
}

/// The patches of one directory in kubeadm's application order. The default is empty (no
/// `--patches`), which leaves every target unchanged.
#[derive(Clone, Debug, Default)]
pub struct PatchSet {
    files: Vec<PatchFile>,
    ignored: Vec<IgnoredFile>,
    /// Bytes read so far, against [`MAX_PATCH_DIR_BYTES`].
    bytes_read: u64,
}

impl PatchSet {
    /// One file found under the patches directory (`edge::load_patches` walks it as Go's
    /// `filepath.Walk` does): a file kubeadm ignores by its name is recorded and never read;
    /// otherwise `read` gives its bytes, counted against [`MAX_PATCH_DIR_BYTES`], and an empty
    /// file is ignored as kubeadm does.
    pub(crate) fn add_entry(
        &mut self,
        path: PathBuf,
        read: impl FnOnce(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<(), PatchError> {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            self.ignored.push(IgnoredFile {
                path,
                reason: "the file name is not UTF-8".into(),
            });
            return Ok(());
        };
        if let FileName::Ignore(reason) = parse_file_name(name) {
            self.ignored.push(IgnoredFile { path, reason });
            return Ok(());
        }
        let data = read(&path).map_err(|source| PatchError::Read {
            path: path.clone(),
            source,
        })?;
        self.bytes_read += data.len() as u64;
        if self.bytes_read > MAX_PATCH_DIR_BYTES {
            return Err(PatchError::Read {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the patch files add up to more than {} MiB, the limit for a patches directory",
                        MAX_PATCH_DIR_BYTES >> 20
                    ),
                ),
            });
        }
        if data.is_empty() {
            self.ignored.push(IgnoredFile {
                path,
                reason: "empty file".into(),
            });
            return Ok(());
        }
        self.add_file(path, &data)
    }

    /// Adds one patch file from its bytes, named by `path` (whose file name says the target
    /// and the patch type): the part of `edge::load_patches` that touches no file system, and
    /// the entry point of the patch fuzzer.
    pub fn add_file(&mut self, path: PathBuf, data: &[u8]) -> Result<(), PatchError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let (target, patch_type) = match parse_file_name(name) {
            FileName::Patch(target, patch_type) => (target, patch_type),
            FileName::Ignore(reason) => {
                self.ignored.push(IgnoredFile { path, reason });
                return Ok(());
            }
            FileName::UnknownTarget => return Err(PatchError::UnknownTarget { path }),
            FileName::UnknownPatchType => return Err(PatchError::UnknownPatchType { path }),
            FileName::Yml => return Err(PatchError::YmlExtension { path }),
        };
        let text = std::str::from_utf8(data).map_err(|e| {
            let (line, column) = line_col(data, e.valid_up_to());
            PatchError::Yaml {
                path: path.clone(),
                line,
                column,
                message: "the file is not valid UTF-8".into(),
            }
        })?;
        let patches = parse_patches(&path, patch_type, text)?;
        self.files.push(PatchFile {
            path,
            target,
            patch_type,
            patches,
        });
        Ok(())
    }
}

fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

enum FileName {
    Patch(&'static str, PatchType),
    Ignore(String),
    UnknownTarget,
    UnknownPatchType,
    Yml,
}

/// `parseFilename`: the extension first, then the target, suffix and patch type.
fn parse_file_name(name: &str) -> FileName {
    let known_ext = [".json", ".yaml"]
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext));
    if !known_ext {
        if name.ends_with(".yml") && KNOWN_TARGETS.iter().any(|t| name.starts_with(t)) {
            return FileName::Yml;
        }
        return FileName::Ignore("the file extension must be one of [json yaml]".into());
    }
    let Some(target) = KNOWN_TARGETS.iter().find(|t| name.starts_with(**t)) else {
        return FileName::UnknownTarget;
    };
    let rest = &name[target.len()..];
    // `([^.+\n]*)?`: the suffix runs to the first '.', '+' or newline.
    let rest = &rest[rest.find(['.', '+', '\n']).unwrap_or(rest.len())..];
    let Some(after_plus) = rest.strip_prefix('+') else {
        return FileName::Patch(target, PatchType::Strategic);
    };
    match PATCH_TYPES.iter().find(|(p, _)| after_plus.starts_with(p)) {
        Some((_, t)) => FileName::Patch(target, *t),
        None => FileName::UnknownPatchType,
    }
}

/// `createPatchSet`: split on `---`, skip blank documents, convert each to JSON.
fn parse_patches(path: &Path, patch_type: PatchType, text: &str) -> Result<Vec<Patch>, PatchError> {
    let yaml_err = |line, column, message: String| PatchError::Yaml {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let chunks = node::split_documents(text).map_err(|e| {
        yaml_err(
            e.line,
            1,
            "a document separator '---' may only be followed by a comment".into(),
        )
    })?;
    let mut out = Vec::new();
    for chunk in chunks {
        if chunk.text.trim().is_empty() {
            continue;
        }
        let (root, duplicates) = node::parse_document(&chunk)
            .map_err(|e| yaml_err(e.pos.line, e.pos.column, e.message))?;
        if let Some(d) = duplicates.first() {
            // The path ends with the key itself.
            let parent = d.path.strip_suffix(d.key.as_str()).unwrap_or(&d.path);
            let parent = parent.trim_end_matches('.');
            let at = if parent.is_empty() {
                String::new()
            } else {
                format!(" in {parent}")
            };
            return Err(yaml_err(
                d.again.line,
                d.again.column,
                format!(
                    "duplicate key {:?}{at} (first at line {})",
                    d.key, d.first.line
                ),
            ));
        }
        // A document of comments only is no patch.
        let Some(root) = root else { continue };
        let line = root.pos.line;
        let value = to_json(&root).map_err(|(pos, msg)| yaml_err(pos.line, pos.column, msg))?;
        let bad = |message: String| PatchError::BadPatch {
            path: path.to_path_buf(),
            line,
            patch_type,
            message,
        };
        let body = match patch_type {
            PatchType::Json => {
                match value.as_array().map(Vec::len) {
                    None => {
                        return Err(bad(format!(
                            "expected a list of operations, got {}",
                            kind_of(&value)
                        )))
                    }
                    Some(n) if n > MAX_JSON_PATCH_OPERATIONS => {
                        return Err(bad(format!(
                            "{n} operations; kbc takes at most {MAX_JSON_PATCH_OPERATIONS} in one patch"
                        )))
                    }
                    Some(_) => {}
                }
                Body::Json(serde_json::from_value(value).map_err(|e| bad(e.to_string()))?)
            }
            PatchType::Merge => match value {
                Value::Object(_) => Body::Merge(value),
                other => return Err(bad(format!("expected a mapping, got {}", kind_of(&other)))),
            },
            PatchType::Strategic => match value {
                Value::Object(map) => Body::Strategic(map),
                other => return Err(bad(format!("expected a mapping, got {}", kind_of(&other)))),
            },
        };
        out.push(Patch { line, body });
    }
    Ok(out)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `yaml.YAMLToJSON`: go-yaml v2 (YAML 1.1) scalars, mapping keys as written.
fn to_json(node: &Node) -> Result<Value, (node::Pos, String)> {
    Ok(match &node.value {
        YamlValue::Scalar(s, Style::Plain) => match node::resolve_plain(s) {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => {
                if let Ok(i) = i64::try_from(i) {
                    Value::from(i)
                } else if let Ok(u) = u64::try_from(i) {
                    Value::from(u)
                } else {
                    return Err((node.pos, format!("the number {s} is out of range")));
                }
            }
            Resolved::Float(f) => serde_json::Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| (node.pos, format!("{s} cannot be represented in JSON")))?,
            Resolved::Str(s) => Value::String(s.to_string()),
        },
        YamlValue::Scalar(s, _) => Value::String(s.clone()),
        YamlValue::Seq(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        YamlValue::Map(entries) => {
            let mut map = Map::new();
            for e in entries {
                map.insert(e.key.clone(), to_json(&e.value)?);
            }
            Value::Object(map)
        }
    })
}

impl PatchSet {
    /// No patches at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The patch files in application order.
    pub fn files(&self) -> &[PatchFile] {
        &self.files
    }

    /// Files kubeadm would skip (unknown extension, empty), to be listed as kubeadm lists them.
    pub fn ignored(&self) -> &[IgnoredFile] {
        &self.ignored
    }

    /// Whether any file patches `target`.
    pub fn has_target(&self, target: &str) -> bool {
        self.files.iter().any(|f| f.target == target)
    }

    /// Errors when a file patches `target`, which the caller does not produce (`reason` says
    /// why, e.g. "etcd is external"). Renderers call it for every target they skip.
    pub fn refuse_target(&self, target: &str, reason: &str) -> Result<(), PatchError> {
        let paths: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| f.target == target)
            .map(|f| f.path.clone())
            .collect();
        if paths.is_empty() {
            return Ok(());
        }
        Err(PatchError::NoTarget {
            paths,
            target: target.to_string(),
            reason: reason.to_string(),
        })
    }

    /// Applies every patch for `target` to `doc`, in order (`ApplyPatchesToTarget`).
    pub fn apply(&self, target: &str, doc: Value) -> Result<Value, PatchError> {
        let Some(schema) = Ty::for_target(target) else {
            return Err(PatchError::UnknownTargetName(target.to_string()));
        };
        let mut doc = doc;
        for file in self.files.iter().filter(|f| f.target == target) {
            for patch in &file.patches {
                let fail = |message: String| PatchError::Apply {
                    path: file.path.clone(),
                    line: patch.line,
                    patch_type: file.patch_type,
                    target: target.to_string(),
                    message,
                };
                doc = match &patch.body {
                    Body::Json(p) => {
                        apply_json_patch(&mut doc, p).map_err(fail)?;
                        doc
                    }
                    Body::Merge(p) => {
                        json_patch::merge(&mut doc, p);
                        doc
                    }
                    Body::Strategic(p) => match doc {
                        Value::Object(original) => {
                            Value::Object(merge_map(original, p.clone(), schema).map_err(fail)?)
                        }
                        other => {
                            return Err(fail(format!(
                                "the target is {}, not a mapping",
                                kind_of(&other)
                            )))
                        }
                    },
                };
            }
        }
        Ok(doc)
    }

    /// Applies the `corednsdeployment` patches to kubeadm's CoreDNS Deployment (as a JSON
    /// value); the result is checked to still be an `apps/v1` Deployment.
    pub fn apply_coredns_deployment(&self, deployment: Value) -> Result<Value, PatchError> {
        if !self.has_target(COREDNS_DEPLOYMENT) {
            return Ok(deployment);
        }
        let out = self.apply(COREDNS_DEPLOYMENT, deployment)?;
        self.check_kind(COREDNS_DEPLOYMENT, &out, "apps/v1", "Deployment")?;
        Ok(out)
    }

    /// Applies the `kubeletconfiguration` patches to the kubelet's `config.yaml` document; the
    /// result must still be of `api_version` and `kind`. kubeadm writes whatever
    /// the patch made (a Secret, `null`, a list) and the kubelet then cannot start; kbc
    /// refuses it (review B28).
    pub fn apply_kubelet_configuration(
        &self,
        config: Value,
        (api_version, kind): (&str, &'static str),
    ) -> Result<Value, PatchError> {
        if !self.has_target(KUBELET_CONFIGURATION) {
            return Ok(config);
        }
        let out = self.apply(KUBELET_CONFIGURATION, config)?;
        self.check_kind(KUBELET_CONFIGURATION, &out, api_version, kind)?;
        Ok(out)
    }

    /// kubeadm decodes a patched object back into its Go type: a patch may not change it.
    fn check_kind(
        &self,
        target: &str,
        doc: &Value,
        api_version: &str,
        kind: &'static str,
    ) -> Result<(), PatchError> {
        let got = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("");
        let message =
            if !(doc.is_object() && got("apiVersion") == api_version && got("kind") == kind) {
                format!(
                    "apiVersion {:?} and kind {:?}, expected {api_version:?} and {kind:?}",
                    got("apiVersion"),
                    got("kind")
                )
            } else if let Some(m) = non_string_metadata(doc) {
                m
            } else {
                return Ok(());
            };
        let last = self
            .files
            .iter()
            .rev()
            .find(|f| f.target == target)
            .map(|f| f.path.clone())
            .unwrap_or_default();
        Err(PatchError::BadResult {
            path: last,
            target: target.to_string(),
            expected: kind,
            message,
        })
    }
}

/// Most operations in one JSON patch: a real one has a handful; the bound also bounds the
/// nesting that `move` operations can build.
pub(crate) const MAX_JSON_PATCH_OPERATIONS: usize = 1000;

/// Largest patched document: kubeadm's targets are a few kilobytes; `copy` operations that
/// double a subtree must not fill memory (review B21).
pub(crate) const MAX_PATCHED_BYTES: u64 = 4 << 20;

/// Applies a JSON patch one operation at a time, so that the growth a `copy` causes is
/// checked before the next one: the document may not exceed [`MAX_PATCHED_BYTES`].
fn apply_json_patch(doc: &mut Value, patch: &json_patch::Patch) -> Result<(), String> {
    let mut size = json_size(doc);
    for (i, op) in patch.0.iter().enumerate() {
        size += match op {
            json_patch::PatchOperation::Copy(c) => {
                doc.pointer(c.from.as_str()).map_or(0, json_size)
            }
            json_patch::PatchOperation::Add(a) => json_size(&a.value),
            json_patch::PatchOperation::Replace(r) => json_size(&r.value),
            _ => 0,
        };
        if size > MAX_PATCHED_BYTES {
            return Err(format!(
                "operation '/{i}' would make the document larger than {} MiB (kbc's limit for a patched object)",
                MAX_PATCHED_BYTES >> 20
            ));
        }
        json_patch::patch_unsafe(doc, std::slice::from_ref(op)).map_err(|mut e| {
            e.operation = i;
            e.to_string()
        })?;
    }
    Ok(())
}

/// The length of `v` as compact JSON, without writing it.
fn json_size(v: &Value) -> u64 {
    match v {
        Value::Null => 4,
        Value::Bool(_) => 5,
        Value::Number(n) => n.to_string().len() as u64,
        Value::String(s) => s.len() as u64 + 2,
        Value::Array(items) => 2 + items.iter().map(|i| json_size(i) + 1).sum::<u64>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() as u64 + 4 + json_size(v))
                .sum::<u64>()
        }
    }
}

/// Labels and annotations are `map[string]string` in Go: a YAML 1.1 boolean or a number there
/// (`backup: on`) makes kubeadm's decoding of the patched object fail.
fn non_string_metadata(doc: &Value) -> Option<String> {
    for field in ["labels", "annotations"] {
        let Some(Value::Object(map)) = doc.get("metadata").and_then(|m| m.get(field)) else {
            continue;
        };
        if let Some((k, v)) = map.iter().find(|(_, v)| !v.is_string()) {
            return Some(format!(
                "metadata.{field}.{k} must be a string, got {} (quote values such as \"on\", \"yes\" or \"y\")",
                kind_of(v)
            ));
        }
    }
    None
}

/// Every manifest `kubeadm init` writes, as `(file name, YAML)` in [`Component::ALL`] order,
/// with the patches of `patches` applied (`PatchStaticPod`). With external etcd a patch for
/// `etcd` is an error.
pub fn patched_static_pods(
    cluster: &Cluster,
    host: &HostInputs,
    patches: &PatchSet,
) -> Result<Vec<(String, String)>, PatchError> {
    let mut out = Vec::new();
    for component in Component::ALL {
        let target = component.name();
        let Some(pod) = manifests::static_pod(cluster, host, component) else {
            patches.refuse_target(target, "etcd is external, so kubeadm writes no etcd Pod")?;
            continue;
        };
        let pod = if patches.has_target(target) {
            let mut pod = patches.apply(target, pod)?;
            patches.check_kind(target, &pod, "v1", "Pod")?;
            normalize_pod(&mut pod);
            pod
        } else {
            pod
        };
        out.push((component.file_name(), value_to_yaml(&pod)));
    }
    Ok(out)
}

/// The part of kubeadm's decode into `v1.Pod` and encode again that kbc reproduces: `null`
/// values vanish, `metadata.creationTimestamp: null` and `status: {}` are always written.
fn normalize_pod(pod: &mut Value) {
    drop_nulls(pod);
    if let Value::Object(map) = pod {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert("creationTimestamp".into(), Value::Null);
        }
        map.entry("status")
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch: `mergeMap`, `mergeSlice` and their helpers from
// `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`, with the patch metadata
// (`patchStrategy`/`patchMergeKey` struct tags of `k8s.io/api`) as a table.

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// The Go types whose fields carry patch metadata, and `Other` for everything else (maps and
/// structs without merge lists: every list replaced, every map merged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Other,
    Pod,
    ObjectMeta,
    PodSpec,
    Container,
    Deployment,
    DeploymentSpec,
    PodTemplateSpec,
}

/// `patchStrategy` of a list field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListStrategy {
    /// No strategy: the patch's list replaces the original.
    Replace,
    /// `patchStrategy:"merge"` on a list of scalars (`finalizers`).
    MergeScalars,
    /// `patchStrategy:"merge" patchMergeKey:"..."` on a list of objects.
    MergeBy(&'static str),
}

impl Ty {
    fn for_target(target: &str) -> Option<Ty> {
        Some(match target {
            ETCD | KUBE_APISERVER | KUBE_CONTROLLER_MANAGER | KUBE_SCHEDULER => Ty::Pod,
            COREDNS_DEPLOYMENT => Ty::Deployment,
            // k8s.io/kubelet/config/v1beta1 declares no patch strategy anywhere.
            KUBELET_CONFIGURATION => Ty::Other,
            _ => return None,
        })
    }

    /// `LookupPatchMetadata`: the field's type and list strategy (core/v1 and apps/v1 tags).
    fn field(self, key: &str) -> (Ty, ListStrategy) {
        use ListStrategy::*;
        use Ty::*;
        match (self, key) {
            (Pod | Deployment | PodTemplateSpec, "metadata") => (ObjectMeta, Replace),
            (Pod | PodTemplateSpec, "spec") => (PodSpec, Replace),
            (Deployment, "spec") => (DeploymentSpec, Replace),
            (DeploymentSpec, "template") => (PodTemplateSpec, Replace),
            (ObjectMeta, "finalizers") => (Other, MergeScalars),
            (ObjectMeta, "ownerReferences") => (Other, MergeBy("uid")),
            (PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
                (Container, MergeBy("name"))
            }
            // `volumes` and `resourceClaims` are "merge,retainKeys": retainKeys only acts
            // through a `$retainKeys` directive in the patch, handled for every map.
            (PodSpec, "volumes" | "imagePullSecrets" | "resourceClaims" | "schedulingGates") => {
                (Other, MergeBy("name"))
            }
            (PodSpec, "hostAliases") => (Other, MergeBy("ip")),
            (PodSpec, "topologySpreadConstraints") => (Other, MergeBy("topologyKey")),
            (Container, "ports") => (Other, MergeBy("containerPort")),
            (Container, "env") => (Other, MergeBy("name")),
            (Container, "volumeMounts") => (Other, MergeBy("mountPath")),
            (Container, "volumeDevices") => (Other, MergeBy("devicePath")),
            _ => (Other, Replace),
        }
    }
}

/// Go's `reflect.TypeOf` classes of a decoded JSON value.
fn class(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// Go's `==` on two decoded JSON scalars (numbers are all float64 there).
fn go_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Go's `%v` of a value, for messages.
fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>, String> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(format!(
                "unknown patch type: {} in map: {}",
                show(directive),
                show(&Value::Object(patch.clone()))
            )),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    apply_set_element_order(&mut original, &mut patch, ty)?;
    for (key, patch_value) in patch {
        let (key, is_delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(rest) => match rest.strip_prefix('/') {
                Some(k) if !k.is_empty() => (k.to_string(), true),
                _ => {
                    return Err(format!(
                        "invalid patch format for a primitive list: {key:?}, expected \"{DELETE_FROM_PRIMITIVE_LIST}/<field>\""
                    ))
                }
            },
            None => (key, false),
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(current) = original.remove(&key) else {
            original.insert(key, patch_value);
            continue;
        };
        if class(&current) != class(&patch_value) {
            original.insert(key, patch_value);
            continue;
        }
        let (child, strategy) = ty.field(&key);
        let merged = match (current, patch_value) {
            (Value::Object(o), Value::Object(p)) => Value::Object(merge_map(o, p, child)?),
            (Value::Array(o), Value::Array(p)) => match strategy {
                ListStrategy::Replace => Value::Array(p),
                ListStrategy::MergeScalars => {
                    Value::Array(merge_slice(o, p, child, None, is_delete_list)?)
                }
                ListStrategy::MergeBy(k) => {
                    Value::Array(merge_slice(o, p, child, Some(k), is_delete_list)?)
                }
            },
            (_, p) => p,
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// `mergePatchIntoOriginal` (server side): each `$setElementOrder/<list>` merges its list and
/// the patch's list for that field, then orders the result as the directive says, items it
/// does not name keeping their original places.
fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty,
) -> Result<(), String> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    let bad = || "invalid patch format for a $setElementOrder list".to_string();
    for directive in keys {
        let Some(Value::Array(order)) = patch.remove(&directive) else {
            return Err(bad());
        };
        let field = match directive[SET_ELEMENT_ORDER.len()..].strip_prefix('/') {
            Some(f) if !f.is_empty() => f.to_string(),
            _ => return Err(bad()),
        };
        let as_list = |v: Option<Value>| match v {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(format!(
                "expected a list for {field:?}, got {}",
                show(&other)
            )),
        };
        let original_list = as_list(original.get(&field).cloned())?;
        let patch_list = as_list(patch.remove(&field))?;
        let (child, strategy) = ty.field(&field);
        let key = match strategy {
            ListStrategy::MergeBy(k) => Some(k),
            ListStrategy::MergeScalars | ListStrategy::Replace => None,
        };
        check_order(patch_list.as_deref().unwrap_or(&[]), &order, key)?;
        let base = original_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list.clone()) {
            (None, None) => continue,
            (Some(o), None) => o,
            (None, Some(p)) => p,
            (Some(o), Some(p)) => match strategy {
                ListStrategy::Replace => p,
                _ => merge_slice(o, p, child, key, false)?,
            },
        };
        let is_map = merged.first().is_some_and(Value::is_object);
        if is_map && key.is_none() {
            return Err(format!("{directive:?} names a list without merge key"));
        }
        let named = |v: &Value| match key {
            Some(k) => order.iter().any(|o| match (o.get(k), v.get(k)) {
                (Some(a), Some(b)) => go_eq(a, b),
                _ => false,
            }),
            None => order.iter().any(|o| go_eq(o, v)),
        };
        let (in_order, server_only): (Vec<Value>, Vec<Value>) =
            merged.into_iter().partition(|v| named(v));
        original.insert(
            field,
            Value::Array(normalize_order(in_order, server_only, &order, &base, key)),
        );
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch's items (deletions aside) appear in the
/// directive's order.
fn check_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), String> {
    let same = |a: &Value, b: &Value| match key {
        Some(k) => match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => go_eq(x, y),
            _ => false,
        },
        None => go_eq(a, b),
    };
    let items: Vec<&Value> = patch
        .iter()
        .filter(|v| key.is_none() || v.get(DIRECTIVE).is_none())
        .collect();
    let (mut i, mut j) = (0, 0);
    while i < items.len() && j < order.len() {
        if same(items[i], &order[j]) {
            i += 1;
        }
        j += 1;
    }
    if i < items.len() {
        return Err(format!(
            "the order in patch list {} doesn't match the $setElementOrder list {}",
            show(&Value::Array(patch.to_vec())),
            show(&Value::Array(order.to_vec()))
        ));
    }
    Ok(())
}

/// `applyRetainKeysDirective` (server side): keep only the listed keys of `original`.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), String> {
    let Some(list) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let bad = || "invalid patch format for $retainKeys: expected a list of field names".to_string();
    let Value::Array(list) = list else {
        return Err(bad());
    };
    let keep: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !keep.contains(&k.as_str()) {
            return Err(format!("{}: {k:?} is patched but not retained", bad()));
        }
    }
    original.retain(|k, _| keep.contains(&k.as_str()));
    Ok(())
}

/// `mergeSlice` for a list with `patchStrategy:"merge"`; `key` is the merge key (`None` for
/// a list of scalars).
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    elem: Ty,
    key: Option<&'static str>,
    is_delete_list: bool,
) -> Result<Vec<Value>, String> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let mut classes = original.iter().chain(&patch).map(class);
    let first = classes.next().expect("one of the two lists is not empty");
    if first == class(&Value::Array(Vec::new())) {
        return Err("lists of lists are not supported".into());
    }
    if classes.any(|c| c != first) {
        return Err(format!(
            "list element types are not identical: {} and {}",
            show(&Value::Array(original)),
            show(&Value::Array(patch))
        ));
    }
    let is_map = first == class(&Value::Object(Map::new()));
    if !is_map {
        return Ok(merge_scalars(original, patch, is_delete_list));
    }
    let Some(key) = key else {
        return Err("cannot merge lists without merge key".into());
    };
    merge_maps(original, patch, elem, key)
}

/// [`merge_slice`] of scalars: a delete list removes, otherwise the union in kubeadm's order.
fn merge_scalars(original: Vec<Value>, patch: Vec<Value>, is_delete_list: bool) -> Vec<Value> {
    if is_delete_list {
        return original
            .into_iter()
            .filter(|v| !patch.iter().any(|p| go_eq(p, v)))
            .collect();
    }
    let mut merged: Vec<Value> = Vec::new();
    for v in original.iter().chain(&patch) {
        if !merged.iter().any(|m| go_eq(m, v)) {
            merged.push(v.clone());
        }
    }
    let (in_patch, server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| patch.iter().any(|p| go_eq(p, v)));
    normalize_order(in_patch, server_only, &patch, &original, None)
}

/// [`merge_slice`] of maps, merged element by element on `key`.
fn merge_maps(
    original: Vec<Value>,
    patch: Vec<Value>,
    elem: Ty,
    key: &'static str,
) -> Result<Vec<Value>, String> {
    let (original, patch) = split_special_elements(original, patch, key)?;
    let mut merged = original.clone();
    for item in &patch {
        let value = merge_key_of(item, key)?;
        let mut found = None;
        for (i, m) in merged.iter().enumerate() {
            let Value::Object(m) = m else {
                return Err(format!("value for key {i} is not a map."));
            };
            if m.get(key).is_some_and(|v| go_eq(v, value)) {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                let Value::Object(o) = std::mem::take(&mut merged[i]) else {
                    unreachable!("checked to be a map above")
                };
                let Value::Object(p) = item.clone() else {
                    unreachable!("merge_key_of accepts maps only")
                };
                merged[i] = Value::Object(merge_map(o, p, elem)?);
            }
            None => merged.push(item.clone()),
        }
    }
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for m in merged {
        let v = merge_key_of(&m, key)?;
        if patch
            .iter()
            .any(|p| p.get(key).is_some_and(|pv| go_eq(pv, v)))
        {
            in_patch.push(m);
        } else {
            server_only.push(m);
        }
    }
    for item in &original {
        merge_key_of(item, key)?;
    }
    Ok(normalize_order(
        in_patch,
        server_only,
        &patch,
        &original,
        Some(key),
    ))
}

fn merge_key_of<'a>(item: &'a Value, key: &str) -> Result<&'a Value, String> {
    match item {
        Value::Object(m) => m.get(key).ok_or_else(|| {
            format!(
                "map: {} does not contain declared merge key: {key}",
                show(item)
            )
        }),
        other => Err(format!("expected a map, got {}", show(other))),
    }
}

/// `mergeSliceWithSpecialElements`: `$patch: delete` items delete every original item with
/// their merge key; `$patch: replace` makes the patch's other items the whole list.
fn split_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut plain = Vec::new();
    let mut replace = false;
    for item in patch {
        let Value::Object(m) = &item else {
            return Err(format!("expected a map, got {}", show(&item)));
        };
        match m.get(DIRECTIVE) {
            None => plain.push(item),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let v = merge_key_of(&item, key)?;
                    original.retain(|o| !o.get(key).is_some_and(|ov| go_eq(ov, v)));
                }
                Some("replace") => replace = true,
                Some("merge") => {
                    return Err("merging lists cannot yet be specified in the patch".into())
                }
                _ => {
                    return Err(format!(
                        "unknown patch type: {} in map: {}",
                        show(d),
                        show(&item)
                    ))
                }
            },
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    Ok((original, plain))
}

/// `normalizeElementOrder` + `mergeSortedSlice`: patch items in patch order, server-only items
/// in original order, interleaved by their original positions; an item new to the list goes
/// before the server-only items that remain (so a new container comes first).
fn normalize_order(
    mut in_patch: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let index = |list: &[Value], item: &Value| -> Option<usize> {
        let probe = |v: &Value| match key {
            Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        };
        let want = probe(item);
        list.iter().position(|v| go_eq(&probe(v), &want))
    };
    in_patch.sort_by(
        |a, b| match (index(patch_order, a), index(patch_order, b)) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => Ordering::Equal,
        },
    );
    server_only.sort_by(
        |a, b| match (index(server_order, a), index(server_order, b)) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => Ordering::Equal,
        },
    );
    let mut out = Vec::with_capacity(in_patch.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = in_patch.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (Some(l), Some(r)) => {
                let take_left = matches!(
                    (index(server_order, l), index(server_order, r)),
                    (Some(i), Some(j)) if i < j
                );
                if take_left {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(original: Value, patch: Value, ty: Ty) -> Result<Value, String> {
        let (Value::Object(o), Value::Object(p)) = (original, patch) else {
            panic!("maps expected")
        };
        merge_map(o, p, ty).map(Value::Object)
    }

    #[test]
    fn file_names_follow_kubeadms_regular_expression() {
        let t = |n: &str| match parse_file_name(n) {
            FileName::Patch(t, p) => format!("{t} {p}"),
            FileName::Ignore(_) => "ignore".into(),
            FileName::UnknownTarget => "unknown-target".into(),
            FileName::UnknownPatchType => "unknown-type".into(),
            FileName::Yml => "yml".into(),
        };
        assert_eq!(t("etcd.json"), "etcd strategic");
        assert_eq!(t("kube-apiserver0+merge.yaml"), "kube-apiserver merge");
        assert_eq!(t("kube-apiserver+jsonx.json"), "kube-apiserver json");
        assert_eq!(
            t("kube-scheduler.extra+json.yaml"),
            "kube-scheduler strategic"
        );
        assert_eq!(
            t("kubeletconfiguration+strategic.yaml"),
            "kubeletconfiguration strategic"
        );
        assert_eq!(t("corednsdeployment+json.json"), "corednsdeployment json");
        assert_eq!(t("kube-apiserver+foo.yaml"), "unknown-type");
        assert_eq!(t("kube-apiserver+.yaml"), "unknown-type");
        assert_eq!(t("kube-proxy.yaml"), "unknown-target");
        assert_eq!(t("Kube-apiserver.yaml"), "unknown-target");
        assert_eq!(t("README.md"), "ignore");
        assert_eq!(t("kube-apiserver.yaml.bak"), "ignore");
        assert_eq!(t(".yaml"), "ignore");
        assert_eq!(t("etcd.yml"), "yml");
    }

    #[test]
    fn new_list_items_go_first_and_changed_ones_stay_in_place() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "image": "x"}, {"name": "c"}]}});
        let out = smp(
            pod.clone(),
            json!({"spec": {"containers": [{"name": "d"}]}}),
            Ty::Pod,
        )
        .unwrap();
        let names: Vec<_> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["d", "a", "b", "c"]);
        let out = smp(
            pod.clone(),
            json!({"spec": {"containers": [{"name": "b", "image": "y"}]}}),
            Ty::Pod,
        )
        .unwrap();
        assert_eq!(
            out["spec"]["containers"][1],
            json!({"name": "b", "image": "y"})
        );
        let out = smp(
            pod,
            json!({"spec": {"containers": [{"name": "c", "tty": true}, {"name": "e"}]}}),
            Ty::Pod,
        )
        .unwrap();
        let names: Vec<_> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c", "e"]);
    }

    #[test]
    fn scalar_merge_lists_and_deletion_lists() {
        let meta = json!({"metadata": {"finalizers": ["a", "b"]}});
        let out = smp(
            meta.clone(),
            json!({"metadata": {"finalizers": ["c", "a"]}}),
            Ty::Pod,
        )
        .unwrap();
        // Go: the patch items in patch order; "c" is new, so it goes before the server-only "b".
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let out = smp(
            meta,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            Ty::Pod,
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn retain_keys_clears_other_fields() {
        let pod = json!({"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}});
        let patch = json!({"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "emptyDir"], "emptyDir": {}}]}});
        let out = smp(pod, patch, Ty::Pod).unwrap();
        assert_eq!(
            out["spec"]["volumes"],
            json!([{"name": "v", "emptyDir": {}}])
        );
    }

    #[test]
    fn set_element_order_reorders_the_merged_list() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "d"}, {"name": "a"}],
            "containers": [{"name": "d"}, {"name": "a", "image": "x"}]
        }});
        let out = smp(pod.clone(), patch, Ty::Pod).unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "b"}, {"name": "c"}, {"name": "d"}, {"name": "a", "image": "x"}])
        );
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "d"}],
            "containers": [{"name": "d"}, {"name": "a", "image": "x"}]
        }});
        let err = smp(pod, patch, Ty::Pod).unwrap_err();
        assert!(err.contains("doesn't match"), "{err}");
    }

    #[test]
    fn ports_env_and_mounts_use_their_merge_keys() {
        let pod = json!({"spec": {"containers": [{"name": "a",
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "volumeMounts": [{"mountPath": "/x", "name": "x"}]}]}});
        let patch = json!({"spec": {"containers": [{"name": "a",
            // Go compares decoded JSON numbers as float64.
            "ports": [{"containerPort": 8080.0, "protocol": "TCP"}],
            "env": [{"name": "B", "value": "3"}],
            "volumeMounts": [{"mountPath": "/x", "readOnly": true}]}]}});
        let out = smp(pod, patch, Ty::Pod).unwrap();
        let c = &out["spec"]["containers"][0];
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 8080.0, "name": "http", "protocol": "TCP"}])
        );
        assert_eq!(
            c["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
        );
        assert_eq!(
            c["volumeMounts"],
            json!([{"mountPath": "/x", "name": "x", "readOnly": true}])
        );
    }

    #[test]
    fn non_pod_targets_replace_lists() {
        let cfg = json!({"clusterDNS": ["10.96.0.10"], "featureGates": {"A": true}});
        let out = smp(
            cfg,
            json!({"clusterDNS": ["10.0.0.10"], "featureGates": {"B": false}}),
            Ty::Other,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"clusterDNS": ["10.0.0.10"], "featureGates": {"A": true, "B": false}})
        );
    }

    #[test]
    fn bad_directives_are_errors() {
        let pod = json!({"spec": {"containers": [{"name": "a"}]}});
        let err = smp(
            pod.clone(),
            json!({"spec": {"containers": [{"$patch": "merge"}]}}),
            Ty::Pod,
        )
        .unwrap_err();
        assert!(err.contains("merging lists"), "{err}");
        let err = smp(
            pod.clone(),
            json!({"spec": {"containers": [{"image": "x"}]}}),
            Ty::Pod,
        )
        .unwrap_err();
        assert!(err.contains("merge key: name"), "{err}");
        let err = smp(pod, json!({"spec": {"$patch": "nope"}}), Ty::Pod).unwrap_err();
        assert!(err.contains("unknown patch type"), "{err}");
    }
}
