//! API requests as data. The URL rules live here and nowhere else:
//!
//! - core group (`apiVersion: v1`): `/api/v1/...`; other groups: `/apis/<group>/<version>/...`;
//! - namespaced kinds: `.../namespaces/<ns>/<plural>/<name>`; cluster-scoped kinds
//!   ([`CLUSTER_SCOPED`]): `.../<plural>/<name>`;
//! - the plural is the lower-cased kind with English plural rules (`ConfigMap` →
//!   `configmaps`, `NetworkPolicy` → `networkpolicies`, `Ingress` → `ingresses`).

use std::fmt;

use serde_json::Value;

/// Field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "kbc";
/// Content type of a server-side apply PATCH.
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";
/// Content type of the Node patches (kubeadm sends a strategic merge patch).
pub const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";

/// Kinds without a namespace (the ones a kubeadm bundle can hold, and their neighbours).
pub const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Patch => "PATCH",
        }
    }
}

/// Which object a request is about: used for its URL and in every error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// Why an object cannot be addressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("an object has no {0}")]
    Missing(&'static str),
    #[error("{kind} \"{name}\" has no metadata.namespace (the kind is namespaced)")]
    NoNamespace { kind: String, name: String },
    #[error("{kind} \"{name}\" is cluster-scoped but has metadata.namespace \"{namespace}\"")]
    Namespaced {
        kind: String,
        name: String,
        namespace: String,
    },
    #[error("{field} \"{value}\" cannot be part of a URL path")]
    BadSegment { field: &'static str, value: String },
}

impl ObjectRef {
    /// Reads `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` of an object.
    pub fn of(object: &Value) -> Result<ObjectRef, RefError> {
        let text = |v: Option<&Value>, what| {
            v.and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or(RefError::Missing(what))
        };
        let r = ObjectRef {
            api_version: text(object.get("apiVersion"), "apiVersion")?,
            kind: text(object.get("kind"), "kind")?,
            name: text(object.pointer("/metadata/name"), "metadata.name")?,
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        };
        r.check()?;
        Ok(r)
    }

    /// A Node by name.
    pub fn node(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Node".into(),
            namespace: None,
            name: name.into(),
        }
    }

    /// A core-group Secret.
    pub fn secret(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Secret".into(),
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    fn check(&self) -> Result<(), RefError> {
        let cluster_scoped = CLUSTER_SCOPED.contains(&self.kind.as_str());
        match (&self.namespace, cluster_scoped) {
            (None, false) => {
                return Err(RefError::NoNamespace {
                    kind: self.kind.clone(),
                    name: self.name.clone(),
                })
            }
            (Some(ns), true) => {
                return Err(RefError::Namespaced {
                    kind: self.kind.clone(),
                    name: self.name.clone(),
                    namespace: ns.clone(),
                })
            }
            _ => {}
        }
        let segments = [
            ("metadata.name", Some(&self.name)),
            ("metadata.namespace", self.namespace.as_ref()),
            ("kind", Some(&self.kind)),
        ];
        for (field, value) in segments {
            if let Some(v) = value {
                if v.is_empty()
                    || v == "."
                    || v == ".."
                    || v.chars().any(|c| {
                        matches!(c, '/' | '?' | '#' | '%') || c.is_whitespace() || c.is_control()
                    })
                {
                    return Err(RefError::BadSegment {
                        field,
                        value: v.clone(),
                    });
                }
            }
        }
        let parts: Vec<&str> = self.api_version.split('/').collect();
        if parts.len() > 2
            || parts
                .iter()
                .any(|p| p.is_empty() || p.contains(['?', '#', '%', ' ']))
        {
            return Err(RefError::BadSegment {
                field: "apiVersion",
                value: self.api_version.clone(),
            });
        }
        Ok(())
    }

    /// The resource path: `/api/v1/namespaces/kube-system/configmaps/kubeadm-config`,
    /// `/apis/rbac.authorization.k8s.io/v1/clusterroles/kubeadm:get-nodes`.
    pub fn path(&self) -> String {
        let mut path = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        if let Some(ns) = &self.namespace {
            path.push_str("/namespaces/");
            path.push_str(ns);
        }
        path.push('/');
        path.push_str(&plural(&self.kind));
        path.push('/');
        path.push_str(&self.name);
        path
    }
}

impl fmt::Display for ObjectRef {
    /// `ConfigMap kube-system/kubeadm-config`, `ClusterRole kubeadm:get-nodes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// The resource name of a kind.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    format!("{lower}s")
}

/// One request, before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    /// Already URL-safe pairs.
    pub query: Vec<(&'static str, &'static str)>,
    pub content_type: Option<&'static str>,
    pub body: Option<Vec<u8>>,
    /// The object it is about, for error messages.
    pub object: ObjectRef,
}

impl ApiRequest {
    /// GET the object.
    pub fn get(object: &ObjectRef) -> ApiRequest {
        ApiRequest {
            method: Method::Get,
            path: object.path(),
            query: Vec::new(),
            content_type: None,
            body: None,
            object: object.clone(),
        }
    }

    /// Server-side apply: `PATCH <path>?fieldManager=kbc&force=true` with the object as the
    /// body (JSON, which is YAML) and `Content-Type: application/apply-patch+yaml`.
    pub fn apply(object: &ObjectRef, body: &Value) -> ApiRequest {
        ApiRequest {
            method: Method::Patch,
            path: object.path(),
            query: vec![("fieldManager", FIELD_MANAGER), ("force", "true")],
            content_type: Some(APPLY_PATCH),
            body: Some(body.to_string().into_bytes()),
            object: object.clone(),
        }
    }

    /// A strategic merge patch (Node labels, annotations, taints).
    pub fn strategic_merge(object: &ObjectRef, patch: &Value) -> ApiRequest {
        ApiRequest {
            method: Method::Patch,
            path: object.path(),
            query: vec![("fieldManager", FIELD_MANAGER)],
            content_type: Some(STRATEGIC_MERGE_PATCH),
            body: Some(patch.to_string().into_bytes()),
            object: object.clone(),
        }
    }

    /// Path and query string, as sent.
    pub fn path_and_query(&self) -> String {
        let mut s = self.path.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

impl fmt::Display for ApiRequest {
    /// `PATCH /api/v1/...?fieldManager=kbc&force=true (application/apply-patch+yaml)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path_and_query())?;
        if let Some(ct) = self.content_type {
            write!(f, " ({ct})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_for_core_group_and_cluster_scoped_objects() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"}});
        assert_eq!(
            ObjectRef::of(&cm).unwrap().path(),
            "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"
        );
        let crb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "kubeadm:get-nodes"}});
        assert_eq!(
            ObjectRef::of(&crb).unwrap().path(),
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:get-nodes"
        );
        let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}});
        assert_eq!(
            ObjectRef::of(&ds).unwrap().path(),
            "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy"
        );
        assert_eq!(ObjectRef::node("cp-1").path(), "/api/v1/nodes/cp-1");
    }

    #[test]
    fn plurals() {
        for (kind, p) in [
            ("ConfigMap", "configmaps"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Endpoints", "endpoints"),
            ("PriorityClass", "priorityclasses"),
            ("Gateway", "gateways"),
        ] {
            assert_eq!(plural(kind), p);
        }
    }

    #[test]
    fn bad_objects_are_refused() {
        let no_ns = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}});
        assert!(matches!(
            ObjectRef::of(&no_ns),
            Err(RefError::NoNamespace { .. })
        ));
        let ns_on_cluster = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "x", "namespace": "a"}});
        assert!(matches!(
            ObjectRef::of(&ns_on_cluster),
            Err(RefError::Namespaced { .. })
        ));
        let slash = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "../x", "namespace": "a"}});
        assert!(matches!(
            ObjectRef::of(&slash),
            Err(RefError::BadSegment { .. })
        ));
    }
}
