//! The API objects of `kubeadm init` v1.31 after wait-control-plane: one multi-document YAML
//! file per phase for the bundle's `api/` directory, and the Node patch (CRI-socket
//! annotation, mark-control-plane labels and taints) as data for the manifest's `apply` section.
//!
//! Mirrors, in kubernetes/kubernetes: `EnsureAdminClusterRoleBindingImpl` in
//! `cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go`; `UploadConfiguration` in
//! `cmd/kubeadm/app/phases/uploadconfig/uploadconfig.go`; `CreateConfigMap` and
//! `createConfigMapRBACRules` in `cmd/kubeadm/app/phases/kubelet/config.go`; `SignConfigMap` in
//! `cmd/kubeadm/app/componentconfigs/checksums.go`; `UpdateOrCreateTokens` in
//! `cmd/kubeadm/app/phases/bootstraptoken/node/token.go` with `BootstrapTokenToSecret` in
//! `cmd/kubeadm/app/apis/bootstraptoken/v1/utils.go`; the bindings of
//! `cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go` in the order
//! `runBootstrapToken` (`cmd/kubeadm/app/cmd/phases/init/bootstraptoken.go`) calls them;
//! `cmd/kubeadm/app/phases/bootstraptoken/clusterinfo/clusterinfo.go`; `AnnotateCRISocket` in
//! `cmd/kubeadm/app/phases/patchnode/patchnode.go` and `MarkControlPlane` in
//! `cmd/kubeadm/app/phases/markcontrolplane/markcontrolplane.go`. The addons are in
//! [`super::addons`].
//!
//! Each object is a `serde_json::Value` written with [`value_to_yaml`] (keys sorted, go-yaml
//! quoting); a file joins its objects with `---` in the order kubeadm sends them.
//!
//! Shape: the object as an apply input, i.e. what kubeadm sends minus the empty fields its Go
//! structs add on the wire (`metadata.creationTimestamp: null`, `status: {}`), and with RBAC
//! subjects in the form the API server stores: `apiGroup: rbac.authorization.k8s.io` on `User`
//! and `Group` subjects (kubeadm leaves it empty and the server defaults it), none on
//! `ServiceAccount` subjects.
//!
//! Deliberate differences from kubeadm:
//! - **Token expiration.** kubeadm writes `expiration` = now + `ttl` when it creates a token
//!   Secret. A bundle is applied later than it is compiled, so a Secret whose token has a TTL
//!   carries no `expiration` here; the applier adds it at apply time from [`Token::ttl`]. An
//!   explicit `expires` is kept (normalized to UTC, as kubeadm formats it).
//! - **`cluster-info` JWS keys** are not written: the controller-manager's bootstrap signer
//!   adds `jws-kubeconfig-<id>`, exactly as after a kubeadm init.
//! - **Not every kubeadm write is a file.** The CRI-socket annotation (upload-config/kubelet)
//!   and the mark-control-plane labels and taints patch an object the kubelet registers; they
//!   are [`node_patch`] data, not objects.

use super::objects::{
    cluster_role_binding, config_map, config_map_reader_role, group, metadata, role_binding,
    sign_config_map, user, BOOTSTRAP_GROUP, KUBE_SYSTEM,
};
use crate::config::cluster::Cluster;
use crate::config::duration::Duration;
use crate::config::wire::v1beta4::{BootstrapToken, Taint};
use crate::yaml::ser::{join_documents, to_yaml, value_to_yaml};
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `metav1.NamespacePublic`.
const KUBE_PUBLIC: &str = "kube-public";
/// `constants.NodesGroup`.
const NODES_GROUP: &str = "system:nodes";
/// `constants.ClusterAdminsGroupAndClusterRoleBinding`: admin.conf's group and its binding.
const CLUSTER_ADMINS: &str = "kubeadm:cluster-admins";
/// `constants.KubeadmConfigConfigMap` and its only key.
const KUBEADM_CONFIG: &str = "kubeadm-config";
const CLUSTER_CONFIGURATION_KEY: &str = "ClusterConfiguration";
/// `NodesKubeadmConfigClusterRoleName` (a Role despite the name).
const NODES_KUBEADM_CONFIG_ROLE: &str = "kubeadm:nodes-kubeadm-config";
/// `constants.KubeletBaseConfigurationConfigMap`, its key and `KubeletBaseConfigMapRole`.
const KUBELET_CONFIG: &str = "kubelet-config";
const KUBELET_CONFIG_KEY: &str = "kubelet";
const KUBELET_CONFIG_ROLE: &str = "kubeadm:kubelet-config";
/// `bootstrapapi.ConfigMapClusterInfo`, its key `KubeConfigKey`, and the Role that exposes it.
const CLUSTER_INFO: &str = "cluster-info";
const CLUSTER_INFO_KEY: &str = "kubeconfig";
const CLUSTER_INFO_ROLE: &str = "kubeadm:bootstrap-signer-clusterinfo";
/// `user.Anonymous`.
const ANONYMOUS_USER: &str = "system:anonymous";
/// `bootstrapapi.SecretTypeBootstrapToken` and `BootstrapTokenSecretPrefix`.
const TOKEN_SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
const TOKEN_SECRET_PREFIX: &str = "bootstrap-token-";
/// `constants.AnnotationKubeadmCRISocket`.
pub(crate) const CRI_SOCKET_ANNOTATION: &str = "kubeadm.alpha.kubernetes.io/cri-socket";
/// `constants.LabelNodeRoleControlPlane` and `LabelExcludeFromExternalLB`, in kubeadm's order.
pub(crate) const CONTROL_PLANE_LABELS: [&str; 2] = [
    "node-role.kubernetes.io/control-plane",
    "node.kubernetes.io/exclude-from-external-load-balancers",
];

/// One bootstrap token, resolved: the id and secret come from the config or from the seed.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The public 6-character part.
    pub id: String,
    /// The private 16-character part.
    pub secret: String,
    pub description: String,
    /// Lifetime from apply time; `None` or zero: never expires (unless `expires` is set).
    pub ttl: Option<Duration>,
    /// Absolute expiry (RFC 3339), wins over `ttl` as in kubeadm.
    pub expires: Option<String>,
    pub usages: Vec<String>,
    pub groups: Vec<String>,
}

impl std::fmt::Debug for Token {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("description", &self.description)
            .field("ttl", &self.ttl)
            .field("expires", &self.expires)
            .field("usages", &self.usages)
            .field("groups", &self.groups)
            .finish()
    }
}

impl Token {
    /// The token as kubeadm's flags and kubeconfigs spell it: `<id>.<secret>`.
    pub fn value(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }

    /// A defaulted `bootstrapTokens` entry with its `id.secret` (from `token`, or generated).
    pub fn from_config(t: &BootstrapToken, id: &str, secret: &str) -> Token {
        Token {
            id: id.to_string(),
            secret: secret.to_string(),
            description: t.description.clone(),
            ttl: t.ttl,
            expires: t.expires.clone(),
            usages: t.usages.clone(),
            groups: t.groups.clone(),
        }
    }

    /// `bootstrap-token-<id>`, the name of the token's Secret.
    pub fn secret_name(&self) -> String {
        format!("{TOKEN_SECRET_PREFIX}{}", self.id)
    }

    /// The TTL the applier turns into `expiration` when it creates the Secret: `None` when the
    /// token has an explicit `expires` or never expires.
    pub fn ttl_at_apply(&self) -> Option<Duration> {
        if self.expires.is_some() {
            return None;
        }
        self.ttl.filter(|d| d.nanos() > 0)
    }
}

/// What the API phases need besides the cluster.
#[derive(Clone, Debug)]
pub struct ApiInput<'a> {
    pub cluster: &'a Cluster,
    /// `cluster.init.bootstrap_tokens`, resolved, in config order.
    pub tokens: &'a [Token],
    /// The cluster CA certificate (PEM, the complete `ca.crt` bytes), embedded in cluster-info.
    pub ca_cert_pem: &'a str,
    /// The `server` of admin.conf (`https://host:port`), used by cluster-info and kube-proxy.
    pub server: &'a str,
    /// The config file held a KubeletConfiguration document (kubeadm's `IsUserSupplied`): the
    /// `kubelet-config` ConfigMap is then left without the config hash annotation.
    pub kubelet_user_supplied: bool,
    /// Likewise for KubeProxyConfiguration and the `kube-proxy` ConfigMap.
    pub kube_proxy_user_supplied: bool,
}

/// One file of the bundle's `api/` directory.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiFile {
    /// Path in the bundle, `api/NN-<name>.yaml`; NN gives the apply order.
    pub name: String,
    /// kubeadm's phase that creates these objects (`upload-config/kubeadm`, ...);
    /// [`CLUSTER_ADMINS_PHASE`] for the binding kubeadm creates on first use of its client.
    pub phase: &'static str,
    /// The objects in kubeadm's order, joined with `---` lines.
    pub yaml: String,
    /// The file holds a token secret.
    pub secret: bool,
}

impl std::fmt::Debug for ApiFile {
    /// Prints the YAML only when it holds no secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let yaml: &dyn std::fmt::Debug = if self.secret {
            &"<redacted>"
        } else {
            &self.yaml
        };
        f.debug_struct("ApiFile")
            .field("name", &self.name)
            .field("phase", &self.phase)
            .field("secret", &self.secret)
            .field("yaml", yaml)
            .finish()
    }
}

/// The objects of one phase, before serialization.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseObjects {
    /// `api/NN-<name>.yaml`.
    pub name: String,
    pub phase: &'static str,
    pub objects: Vec<Value>,
    pub secret: bool,
}

pub(crate) use kbc_bundle::apply::CLUSTER_ADMINS_PHASE;

/// One row of [`PHASES`].
struct ApiPhase {
    /// File stem, `NN-<name>`.
    stem: &'static str,
    phase: &'static str,
    secret: bool,
    objects: fn(&ApiInput) -> Vec<Value>,
}

/// Every API file in apply order. NN leaves room for upload-certs (`30-upload-certs`, another
/// renderer) between upload-config and bootstrap-token, where kubeadm runs it.
const PHASES: [ApiPhase; 7] = [
    ApiPhase {
        stem: "00-cluster-admins",
        phase: CLUSTER_ADMINS_PHASE,
        secret: false,
        objects: cluster_admins,
    },
    ApiPhase {
        stem: "10-upload-config-kubeadm",
        phase: "upload-config/kubeadm",
        secret: false,
        objects: upload_config_kubeadm,
    },
    ApiPhase {
        stem: "20-upload-config-kubelet",
        phase: "upload-config/kubelet",
        secret: false,
        objects: upload_config_kubelet,
    },
    ApiPhase {
        stem: "40-bootstrap-token",
        phase: "bootstrap-token",
        secret: true,
        objects: bootstrap_token,
    },
    ApiPhase {
        stem: "50-cluster-info",
        phase: "bootstrap-token",
        secret: false,
        objects: cluster_info,
    },
    ApiPhase {
        stem: "70-addon-coredns",
        phase: "addon/coredns",
        secret: false,
        objects: |input| super::addons::coredns(input.cluster),
    },
    ApiPhase {
        stem: "80-addon-kube-proxy",
        phase: "addon/kube-proxy",
        secret: false,
        objects: |input| {
            super::addons::kube_proxy(input.cluster, input.server, input.kube_proxy_user_supplied)
        },
    },
];

/// Whether kubeadm skips `phase` for `skipPhases` (the one rule: [`kbc_bundle::phases`]).
pub(crate) fn phase_skipped(skip_phases: &[String], phase: &str) -> bool {
    kbc_bundle::phases::is_skipped(skip_phases, phase)
}

/// Whether the phase runs for this cluster: not skipped, and its addon not disabled.
fn runs(cluster: &Cluster, phase: &str) -> bool {
    match phase {
        "addon/coredns" if cluster.config.dns.disabled => false,
        "addon/kube-proxy" if cluster.config.proxy.disabled => false,
        CLUSTER_ADMINS_PHASE => true,
        _ => !phase_skipped(&cluster.skip_phases, phase),
    }
}

/// The objects of every phase that runs, in apply order.
pub fn api_objects(input: &ApiInput) -> Vec<PhaseObjects> {
    PHASES
        .iter()
        .filter(|p| runs(input.cluster, p.phase))
        .map(|p| PhaseObjects {
            name: format!("api/{}.yaml", p.stem),
            phase: p.phase,
            objects: (p.objects)(input),
            secret: p.secret,
        })
        .collect()
}

/// Every `api/` file of the bundle, in apply order.
pub fn api_files(input: &ApiInput) -> Vec<ApiFile> {
    api_objects(input)
        .into_iter()
        .map(|p| ApiFile {
            name: p.name,
            phase: p.phase,
            yaml: join_documents(p.objects.iter().map(value_to_yaml)),
            secret: p.secret,
        })
        .collect()
}

/// What kubeadm patches on its own Node object once the kubelet has registered it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodePatch {
    /// mark-control-plane's labels, all with the empty value.
    pub labels: BTreeMap<String, String>,
    /// mark-control-plane's taints (`nodeRegistration.taints`), in config order; kubeadm keeps
    /// taints already on the Node after them.
    pub taints: Vec<Taint>,
    /// upload-config/kubelet's CRI socket annotation.
    pub annotations: BTreeMap<String, String>,
}

/// The Node patch of upload-config/kubelet and mark-control-plane, for the phases that run.
pub fn node_patch(cluster: &Cluster) -> NodePatch {
    let skip = &cluster.skip_phases;
    let mut patch = NodePatch::default();
    if !phase_skipped(skip, "upload-config/kubelet") {
        patch.annotations.insert(
            CRI_SOCKET_ANNOTATION.into(),
            cluster.cri_socket().to_string(),
        );
    }
    if !phase_skipped(skip, "mark-control-plane") {
        for label in CONTROL_PLANE_LABELS {
            patch.labels.insert(label.into(), String::new());
        }
        patch.taints = cluster.taints().to_vec();
    }
    patch
}

// ---------------------------------------------------------------------------------------------
// The phases.

/// `kubeadm:cluster-admins` (`EnsureAdminClusterRoleBinding`, `cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go`): admin.conf's group gets `cluster-admin`.
fn cluster_admins(_: &ApiInput) -> Vec<Value> {
    vec![cluster_role_binding(
        CLUSTER_ADMINS,
        "cluster-admin",
        vec![group(CLUSTER_ADMINS)],
    )]
}

/// upload-config/kubeadm (`cmd/kubeadm/app/phases/uploadconfig/uploadconfig.go`): the ClusterConfiguration as v1beta4 YAML, and read access
/// for joining nodes.
fn upload_config_kubeadm(input: &ApiInput) -> Vec<Value> {
    let stored = to_yaml(&input.cluster.config);
    vec![
        config_map(
            KUBE_SYSTEM,
            KUBEADM_CONFIG,
            &[(CLUSTER_CONFIGURATION_KEY, &stored)],
        ),
        config_map_reader_role(KUBE_SYSTEM, NODES_KUBEADM_CONFIG_ROLE, KUBEADM_CONFIG),
        role_binding(
            KUBE_SYSTEM,
            NODES_KUBEADM_CONFIG_ROLE,
            NODES_KUBEADM_CONFIG_ROLE,
            vec![group(BOOTSTRAP_GROUP), group(NODES_GROUP)],
        ),
    ]
}

/// The cluster-wide KubeletConfiguration as kubeadm marshals it (before node-local patches).
pub(crate) fn kubelet_config_yaml(cluster: &Cluster) -> String {
    to_yaml(&cluster.kubelet)
}

/// upload-config/kubelet (`cmd/kubeadm/app/phases/kubelet/config.go`): `kubelet-config` and read access for nodes and tokens.
fn upload_config_kubelet(input: &ApiInput) -> Vec<Value> {
    let kubelet = kubelet_config_yaml(input.cluster);
    let mut cm = config_map(
        KUBE_SYSTEM,
        KUBELET_CONFIG,
        &[(KUBELET_CONFIG_KEY, &kubelet)],
    );
    if !input.kubelet_user_supplied {
        sign_config_map(&mut cm);
    }
    vec![
        cm,
        config_map_reader_role(KUBE_SYSTEM, KUBELET_CONFIG_ROLE, KUBELET_CONFIG),
        role_binding(
            KUBE_SYSTEM,
            KUBELET_CONFIG_ROLE,
            KUBELET_CONFIG_ROLE,
            vec![group(NODES_GROUP), group(BOOTSTRAP_GROUP)],
        ),
    ]
}

/// `time.RFC3339` of an RFC 3339 time in UTC, whole seconds (`token.Expires.Time.UTC()`).
/// Text that does not parse (validation refuses it) is kept as given.
fn utc_rfc3339(s: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => crate::pki::rfc3339(t),
        Err(_) => s.to_string(),
    }
}

/// `BootstrapTokenToSecret` without the TTL-based `expiration` (see the module notes).
pub(crate) fn token_secret(t: &Token) -> Value {
    let mut data = BTreeMap::new();
    data.insert("token-id".to_string(), t.id.clone());
    data.insert("token-secret".to_string(), t.secret.clone());
    if !t.description.is_empty() {
        data.insert("description".to_string(), t.description.clone());
    }
    if let Some(expires) = &t.expires {
        data.insert("expiration".to_string(), utc_rfc3339(expires));
    }
    for usage in &t.usages {
        data.insert(format!("usage-bootstrap-{usage}"), "true".to_string());
    }
    if !t.groups.is_empty() {
        data.insert("auth-extra-groups".to_string(), t.groups.join(","));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let data: Map<String, Value> = data
        .into_iter()
        .map(|(k, v)| (k, Value::from(b64.encode(v))))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(Some(KUBE_SYSTEM), &t.secret_name()),
        "type": TOKEN_SECRET_TYPE,
        "data": data,
    })
}

/// bootstrap-token (`cmd/kubeadm/app/phases/bootstraptoken/node/`): the token Secrets in config order, then the RBAC for
/// joining nodes in `runBootstrapToken`'s order.
fn bootstrap_token(input: &ApiInput) -> Vec<Value> {
    let mut out: Vec<Value> = input.tokens.iter().map(token_secret).collect();
    // AllowBoostrapTokensToGetNodes
    out.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(None, "kubeadm:get-nodes"),
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}],
    }));
    out.push(cluster_role_binding(
        "kubeadm:get-nodes",
        "kubeadm:get-nodes",
        vec![group(BOOTSTRAP_GROUP)],
    ));
    // AllowBootstrapTokensToPostCSRs
    out.push(cluster_role_binding(
        "kubeadm:kubelet-bootstrap",
        "system:node-bootstrapper",
        vec![group(BOOTSTRAP_GROUP)],
    ));
    // AutoApproveNodeBootstrapTokens
    out.push(cluster_role_binding(
        "kubeadm:node-autoapprove-bootstrap",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        vec![group(BOOTSTRAP_GROUP)],
    ));
    // AutoApproveNodeCertificateRotation
    out.push(cluster_role_binding(
        "kubeadm:node-autoapprove-certificate-rotation",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        vec![group(NODES_GROUP)],
    ));
    out
}

/// The kubeconfig kubeadm stores in `cluster-info` (`cmd/kubeadm/app/phases/bootstraptoken/clusterinfo/clusterinfo.go`): admin.conf's cluster, flattened,
/// under the empty name, written by client-go's `clientcmd.Write` (keys sorted, Go's
/// non-`omitempty` fields `contexts`, `users`, `current-context` and `preferences` present).
pub(crate) fn cluster_info_kubeconfig(ca_cert_pem: &str, server: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_cert_pem.as_bytes());
    value_to_yaml(&json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "cluster": {"certificate-authority-data": ca, "server": server},
            "name": "",
        }],
        "contexts": null,
        "current-context": "",
        "preferences": {},
        "users": null,
    }))
}

/// The bootstrap-token phase's `cluster-info` part (`clusterinfo.go`): the ConfigMap anonymous
/// discovery reads, and the Role and RoleBinding that let it.
fn cluster_info(input: &ApiInput) -> Vec<Value> {
    let kubeconfig = cluster_info_kubeconfig(input.ca_cert_pem, input.server);
    vec![
        config_map(
            KUBE_PUBLIC,
            CLUSTER_INFO,
            &[(CLUSTER_INFO_KEY, &kubeconfig)],
        ),
        config_map_reader_role(KUBE_PUBLIC, CLUSTER_INFO_ROLE, CLUSTER_INFO),
        role_binding(
            KUBE_PUBLIC,
            CLUSTER_INFO_ROLE,
            CLUSTER_INFO_ROLE,
            vec![user(ANONYMOUS_USER)],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::objects::CONFIG_HASH_ANNOTATION;

    #[test]
    fn expires_is_written_in_utc_whole_seconds() {
        assert_eq!(
            utc_rfc3339("2024-08-14T12:20:30.5+02:00"),
            "2024-08-14T10:20:30Z"
        );
        assert_eq!(utc_rfc3339("2024-08-14T10:20:30Z"), "2024-08-14T10:20:30Z");
    }

    #[test]
    fn skip_phases_cover_children() {
        let skip = vec!["upload-config".to_string(), "addon/coredns".to_string()];
        assert!(phase_skipped(&skip, "upload-config/kubelet"));
        assert!(phase_skipped(&skip, "addon/coredns"));
        assert!(!phase_skipped(&skip, "addon/kube-proxy"));
        assert!(!phase_skipped(&skip, "upload-configx"));
    }

    #[test]
    fn config_map_hash_is_sha256_of_values_in_key_order() {
        let mut cm = config_map("ns", "n", &[("b", "2"), ("a", "1")]);
        sign_config_map(&mut cm);
        // sha256("12")
        assert_eq!(
            cm["metadata"]["annotations"][CONFIG_HASH_ANNOTATION],
            "sha256:6b51d431df5d7f141cbececcf79edf3dd861c3b4069f0b11661a3eefacbba918"
        );
    }
}
