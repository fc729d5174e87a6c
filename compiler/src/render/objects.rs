//! The Kubernetes objects kubeadm's API phases and add-ons are made of (ConfigMaps, RBAC
//! roles and bindings, ServiceAccounts), as the API server stores them: shared by
//! [`super::api`] and [`super::addons`], which both build from here and never from each
//! other.

use crate::config::defaults::DEFAULT_TOKEN_GROUP;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// `rbac.GroupName`, the `apiGroup` of every `roleRef` and of User/Group subjects.
pub(crate) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// `metav1.NamespaceSystem`.
pub(crate) const KUBE_SYSTEM: &str = "kube-system";
/// `constants.NodeBootstrapTokenAuthGroup`: the group of kubeadm's default bootstrap tokens.
pub(crate) const BOOTSTRAP_GROUP: &str = DEFAULT_TOKEN_GROUP;
/// `constants.ComponentConfigHashAnnotationKey`.
pub(crate) const CONFIG_HASH_ANNOTATION: &str = "kubeadm.kubernetes.io/component-config.hash";

/// `metadata` with a name and, for namespaced kinds, a namespace.
pub(crate) fn metadata(namespace: Option<&str>, name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    if let Some(ns) = namespace {
        m.insert("namespace".into(), ns.into());
    }
    m
}

/// A `v1` ConfigMap with string data.
pub(crate) fn config_map(namespace: &str, name: &str, data: &[(&str, &str)]) -> Value {
    let data: Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(Some(namespace), name),
        "data": data,
    })
}

/// `SignConfigMap`: annotates a ConfigMap with `ChecksumForConfigMap`, the SHA-256 of its data
/// values concatenated in key order (no binaryData here).
pub(crate) fn sign_config_map(cm: &mut Value) {
    let mut hash = Sha256::new();
    if let Some(data) = cm["data"].as_object() {
        // serde_json's Map iterates in key order.
        for v in data.values() {
            hash.update(v.as_str().unwrap_or_default().as_bytes());
        }
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    cm["metadata"]["annotations"] = json!({ CONFIG_HASH_ANNOTATION: format!("sha256:{hex}") });
}

/// A `Role` with one rule: `get` on the named ConfigMap.
pub(crate) fn config_map_reader_role(namespace: &str, name: &str, config_map: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": metadata(Some(namespace), name),
        "rules": [{
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [config_map],
            "verbs": ["get"],
        }],
    })
}

/// A `RoleBinding` to the Role of the same namespace.
pub(crate) fn role_binding(namespace: &str, name: &str, role: &str, subjects: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": metadata(Some(namespace), name),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": role},
        "subjects": subjects,
    })
}

/// A `ClusterRoleBinding` to a ClusterRole.
pub(crate) fn cluster_role_binding(name: &str, cluster_role: &str, subjects: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(None, name),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": cluster_role},
        "subjects": subjects,
    })
}

/// A `Group` subject, `apiGroup` defaulted as the API server stores it.
pub(crate) fn group(name: &str) -> Value {
    json!({"apiGroup": RBAC_GROUP, "kind": "Group", "name": name})
}

/// A `User` subject, `apiGroup` defaulted as the API server stores it.
pub(crate) fn user(name: &str) -> Value {
    json!({"apiGroup": RBAC_GROUP, "kind": "User", "name": name})
}

/// A `ServiceAccount` subject (no `apiGroup`).
pub(crate) fn service_account_subject(namespace: &str, name: &str) -> Value {
    json!({"kind": "ServiceAccount", "name": name, "namespace": namespace})
}

/// A `v1` ServiceAccount, name and namespace only.
pub(crate) fn service_account(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(Some(namespace), name),
    })
}
