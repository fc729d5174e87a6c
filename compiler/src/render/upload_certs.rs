//! The API objects of `kubeadm init phase upload-certs --upload-certs`, the content of
//! `api/30-upload-certs.yaml` (a secret file: it holds a token and the encrypted CA keys).
//!
//! Mirrors `cmd/kubeadm/app/phases/copycerts/copycerts.go` (`UploadCerts`,
//! `createShortLivedBootstrapToken`, `certsToTransfer`, `getDataFromDisk`, `createRBAC`,
//! `getSecretOwnerRef`) and `cmd/kubeadm/app/util/crypto/crypto.go` (`EncryptBytes`,
//! `DecryptBytes`).
//!
//! Objects, in kubeadm's creation order:
//!
//! 1. the proxy bootstrap token Secret `kube-system/bootstrap-token-<id>` (type
//!    `bootstrap.kubernetes.io/token`; data `token-id`, `token-secret` and `description:
//!    Proxy for managing TTL for the kubeadm-certs secret`; no usages, no groups, so the
//!    token can neither authenticate nor sign: it exists only to expire, TTL 2h);
//! 2. Secret `kube-system/kubeadm-certs` (no `type`: the API server defaults it to `Opaque`),
//!    owned by that token Secret, one data key per file of [`transfer_keys`];
//! 3. Role and 4. RoleBinding `kube-system/kubeadm:kubeadm-certs` (`get` on that one Secret for
//!    `system:bootstrappers:kubeadm:default-node-token`).
//!
//! Each value is kubeadm's `EncryptBytes` layout, so that `kubeadm join --control-plane
//! --certificate-key <hex>` decrypts it: AES-256-GCM under the 32-byte certificate key, no
//! additional data, stored as `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)` (Go's
//! `gcm.Seal(nonce, nonce, data, nil)`).
//!
//! Deliberate differences from kubeadm, each forced by an offline, reproducible compile:
//!
//! - **Nonces are derived, not random** ([`nonce`]): the first 12 bytes of
//!   `HMAC-SHA256(key = certificate key, msg = "kbc/v1/upload-certs/nonce" ‖ 0x00 ‖ data key ‖
//!   0x00 ‖ plaintext)`. A nonce therefore repeats only for the same data key *and* the same
//!   plaintext under the same key, which then gives the same ciphertext: GCM's one rule (never
//!   one nonce for two different plaintexts under one key) holds up to a 96-bit HMAC collision.
//!   The price is that two compiles with the same key reveal whether a file changed, which the
//!   bundle's hashes reveal anyway. Data keys never contain NUL, so the message is unambiguous.
//! - **No `expiration`** in the proxy token Secret: kubeadm writes now + 2h; the applier sets it
//!   at apply time from [`ApiObjects::tokens`] (a bundle may be applied days after it was made).
//! - **The owner's `uid`** is only known once the API server has created the token Secret
//!   (kubeadm GETs it). The `kubeadm-certs` ownerReference carries the placeholder
//!   [`owner_uid_placeholder`] (`kbc:uid-of:kube-system/bootstrap-token-<id>`), listed in
//!   [`ApiObjects::owner_uids`]: the applier creates the token Secret, reads its `uid` and
//!   replaces the placeholder before it sends `kubeadm-certs`. A placeholder that slipped
//!   through would make the garbage collector delete `kubeadm-certs` at once (its owner does
//!   not exist), which fails closed.
//! - **Files are inputs**, never read from disk: the caller passes `(data key, bytes)` pairs. A
//!   key of [`transfer_keys`] that is not passed gets an empty value, as kubeadm stores a file
//!   that does not exist (external etcd without TLS); a passed empty file is encrypted, as
//!   kubeadm would encrypt an existing empty file.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::BTreeMap;

use crate::config::Cluster;

/// Where the objects go in the bundle.
pub(crate) const PATH: &str = "api/30-upload-certs.yaml";
/// The Secret holding the encrypted files (`constants.KubeadmCertsSecret`).
pub(crate) const KUBEADM_CERTS_SECRET: &str = "kubeadm-certs";
/// The Role and RoleBinding name (`constants.KubeadmCertsClusterRoleName`).
pub(crate) const KUBEADM_CERTS_ROLE: &str = "kubeadm:kubeadm-certs";
/// The proxy token's description, verbatim from `createShortLivedBootstrapToken`.
pub(crate) const PROXY_TOKEN_DESCRIPTION: &str =
    "Proxy for managing TTL for the kubeadm-certs secret";
/// `constants.DefaultCertTokenDuration`: 2h.
pub(crate) const PROXY_TOKEN_TTL_SECONDS: u64 = 2 * 60 * 60;
/// `constants.NodeBootstrapTokenAuthGroup`, the RoleBinding's subject.
pub(crate) const NODE_BOOTSTRAP_TOKEN_GROUP: &str =
    "system:bootstrappers:kubeadm:default-node-token";
/// Domain-separation label of the nonce derivation (part of kbc's output format).
pub(crate) const NONCE_LABEL: &[u8] = b"kbc/v1/upload-certs/nonce";
/// AES-GCM's standard nonce size (Go's `gcm.NonceSize()`).
pub(crate) const NONCE_LEN: usize = 12;

const NAMESPACE: &str = "kube-system";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Data keys kubeadm uploads (`certsToTransfer`, names with `/` replaced by `-`), in the order
/// kbc documents them; the Secret's `data` map is sorted anyway.
///
/// Always the cluster CA, the front-proxy CA and the service-account key pair; with local etcd
/// the etcd CA, with external etcd the three files named by `etcd.external`
/// (`caFile`, `certFile`, `keyFile`).
pub fn transfer_keys(external_etcd: bool) -> &'static [&'static str] {
    const LOCAL: &[&str] = &[
        "ca.crt",
        "ca.key",
        "front-proxy-ca.crt",
        "front-proxy-ca.key",
        "sa.pub",
        "sa.key",
        "etcd-ca.crt",
        "etcd-ca.key",
    ];
    const EXTERNAL: &[&str] = &[
        "ca.crt",
        "ca.key",
        "front-proxy-ca.crt",
        "front-proxy-ca.key",
        "sa.pub",
        "sa.key",
        "external-etcd-ca.crt",
        "external-etcd.crt",
        "external-etcd.key",
    ];
    if external_etcd {
        EXTERNAL
    } else {
        LOCAL
    }
}

/// The short-lived bootstrap token that owns `kubeadm-certs` (`<id>.<secret>`).
#[derive(Clone, PartialEq, Eq)]
pub struct UploadToken {
    /// 6 characters of `[a-z0-9]`, public (it names the Secret).
    pub id: String,
    /// 16 characters of `[a-z0-9]`.
    pub secret: String,
}

impl std::fmt::Debug for UploadToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UploadToken({}.<redacted>)", self.id)
    }
}

impl UploadToken {
    /// Parses `<id>.<secret>` with cluster-bootstrap's rule
    /// `\A([a-z0-9]{6})\.([a-z0-9]{16})\z`.
    pub fn parse(token: &str) -> Result<UploadToken, UploadCertsError> {
        let ok = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        match token.split_once('.') {
            Some((id, secret)) if ok(id, 6) && ok(secret, 16) => Ok(UploadToken {
                id: id.to_string(),
                secret: secret.to_string(),
            }),
            _ => Err(UploadCertsError::BadToken),
        }
    }

    /// `bootstrap-token-<id>`.
    pub fn secret_name(&self) -> String {
        format!("bootstrap-token-{}", self.id)
    }
}

/// A `uid` the applier fills in at apply time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerUidFill {
    /// The object holding the placeholder, as `<namespace>/<name>` of a v1 Secret.
    pub object: String,
    /// The placeholder text, found at `metadata.ownerReferences[0].uid`.
    pub placeholder: String,
    /// The object whose `uid` replaces it, as `<namespace>/<name>` of a v1 Secret.
    pub owner: String,
}

/// A bootstrap token Secret whose `expiration` the applier sets to apply time + TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTtl {
    /// `bootstrap-token-<id>` in `kube-system`.
    pub secret_name: String,
    pub ttl_seconds: u64,
}

/// The objects of one API phase, in creation order, with what the applier must add.
#[derive(Clone, PartialEq)]
pub struct ApiObjects {
    /// Kubernetes objects as JSON values, in the order kubeadm creates them.
    pub objects: Vec<Value>,
    /// Placeholders to replace with a server-assigned `uid` (see the module notes).
    pub owner_uids: Vec<OwnerUidFill>,
    /// Token Secrets that need an `expiration`.
    pub tokens: Vec<TokenTtl>,
    /// True: the file holds credentials (bundle manifest `secret: true`).
    pub secret: bool,
}

impl std::fmt::Debug for ApiObjects {
    /// Names the objects; their content (a token secret, encrypted keys) is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .objects
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect();
        f.debug_struct("ApiObjects")
            .field("objects", &names)
            .field("owner_uids", &self.owner_uids)
            .field("tokens", &self.tokens)
            .field("secret", &self.secret)
            .finish()
    }
}

impl ApiObjects {
    /// Multi-document YAML (`---` between documents), keys sorted, go-yaml quoting.
    pub fn to_yaml(&self) -> String {
        crate::yaml::ser::join_documents(self.objects.iter().map(crate::yaml::ser::value_to_yaml))
    }
}

/// What can be wrong with upload-certs input or a blob to decrypt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadCertsError {
    /// A file was passed under a data key kubeadm does not upload for this etcd mode.
    #[error("upload-certs: {key:?} is not a file kubeadm uploads with {mode} etcd (expected one of {expected})")]
    UnknownDataKey {
        key: String,
        mode: &'static str,
        expected: String,
    },
    /// The same data key was passed twice.
    #[error("upload-certs: {0:?} was given twice")]
    DuplicateDataKey(String),
    /// The proxy token does not have the bootstrap token form.
    #[error("upload-certs: the proxy token must match [a-z0-9]{{6}}.[a-z0-9]{{16}}")]
    BadToken,
    /// A blob is shorter than a nonce (kubeadm: "size of data is less than the nonce").
    #[error("upload-certs: encrypted value of {0} bytes is shorter than the nonce")]
    TooShort(usize),
    /// Wrong key, or the value was changed (GCM tag mismatch).
    #[error("upload-certs: decryption failed (wrong certificate key or damaged value)")]
    Decrypt,
}

/// The certificate key as kubeadm prints it: 64 lower-case hex digits.
pub(crate) fn certificate_key_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The nonce kbc uses for `plaintext` stored under `data_key` (see the module notes).
pub fn nonce(key: &[u8; 32], data_key: &str, plaintext: &[u8]) -> [u8; NONCE_LEN] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(NONCE_LABEL);
    mac.update(&[0]);
    mac.update(data_key.as_bytes());
    mac.update(&[0]);
    mac.update(plaintext);
    let tag = mac.finalize().into_bytes();
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(&tag[..NONCE_LEN]);
    n
}

/// kubeadm's `EncryptBytes` with kbc's derived nonce: `nonce ‖ ciphertext ‖ tag`.
pub fn encrypt(key: &[u8; 32], data_key: &str, plaintext: &[u8]) -> Vec<u8> {
    let n = nonce(key, data_key, plaintext);
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
    let sealed = cipher
        .encrypt(&Nonce::from(n), plaintext)
        .expect("AES-GCM encrypts any input below 64 GiB");
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&n);
    out.extend_from_slice(&sealed);
    out
}

/// kubeadm's `DecryptBytes`: splits off the 12-byte nonce and opens the rest.
///
/// An empty value is not an encrypted file but kubeadm's marker for a file that did not exist;
/// like kubeadm's `getDataFromSecret`, callers should treat it as "no file" before calling this.
pub fn decrypt(key: &[u8; 32], blob: &[u8]) -> Result<Vec<u8>, UploadCertsError> {
    if blob.len() < NONCE_LEN {
        return Err(UploadCertsError::TooShort(blob.len()));
    }
    let (n, sealed) = blob.split_at(NONCE_LEN);
    let n: [u8; NONCE_LEN] = n.try_into().expect("split at NONCE_LEN");
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key))
        .decrypt(&Nonce::from(n), sealed)
        .map_err(|_| UploadCertsError::Decrypt)
}

/// The text that stands for the token Secret's `uid` until the applier knows it.
pub(crate) fn owner_uid_placeholder(token: &UploadToken) -> String {
    format!(
        "{}{NAMESPACE}/{}",
        kbc_bundle::apply::OWNER_UID_PLACEHOLDER,
        token.secret_name()
    )
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The objects kubeadm's upload-certs phase creates, with every file encrypted under `key`.
///
/// `files` are `(data key, file bytes)` pairs with kubeadm's data keys (`ca.crt`,
/// `etcd-ca.key`, `external-etcd.crt`, ...; see [`transfer_keys`]); keys not passed are stored
/// empty, as kubeadm stores a file that does not exist.
pub fn upload_certs_file(
    cluster: &Cluster,
    key: &[u8; 32],
    files: &[(String, Vec<u8>)],
    token: &UploadToken,
) -> Result<ApiObjects, UploadCertsError> {
    upload_certs_objects(cluster.external_etcd().is_some(), key, files, token)
}

/// The `kubeadm-certs` data: every data key kubeadm transfers, the given ones encrypted,
/// the others empty; a key kubeadm does not transfer, or given twice, is an error.
fn encrypted_data(
    external_etcd: bool,
    key: &[u8; 32],
    files: &[(String, Vec<u8>)],
) -> Result<Map<String, Value>, UploadCertsError> {
    let expected = transfer_keys(external_etcd);
    let mut given: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (k, bytes) in files {
        if !expected.contains(&k.as_str()) {
            return Err(UploadCertsError::UnknownDataKey {
                key: k.clone(),
                mode: if external_etcd { "external" } else { "local" },
                expected: expected.join(", "),
            });
        }
        if given.insert(k.as_str(), bytes.as_slice()).is_some() {
            return Err(UploadCertsError::DuplicateDataKey(k.clone()));
        }
    }
    let mut data = Map::new();
    for k in expected {
        let value = match given.get(k) {
            Some(plain) => b64(&encrypt(key, k, plain)),
            None => String::new(),
        };
        data.insert((*k).to_string(), Value::String(value));
    }
    Ok(data)
}

/// The Role and RoleBinding that let bootstrap tokens read `kubeadm-certs`.
fn read_access() -> (Value, Value) {
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": KUBEADM_CERTS_ROLE, "namespace": NAMESPACE},
        "rules": [{
            "verbs": ["get"],
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [KUBEADM_CERTS_SECRET],
        }],
    });
    // kubeadm leaves the Group subject's apiGroup empty; the API server defaults it, and kbc
    // writes the defaulted form (the RBAC subject defaulting of the API server).
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": KUBEADM_CERTS_ROLE, "namespace": NAMESPACE},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": KUBEADM_CERTS_ROLE},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": NODE_BOOTSTRAP_TOKEN_GROUP}],
    });
    (role, binding)
}

/// [`upload_certs_file`] with the one fact it reads from the cluster made explicit.
pub fn upload_certs_objects(
    external_etcd: bool,
    key: &[u8; 32],
    files: &[(String, Vec<u8>)],
    token: &UploadToken,
) -> Result<ApiObjects, UploadCertsError> {
    let data = encrypted_data(external_etcd, key, files)?;
    let token_secret_name = token.secret_name();
    let placeholder = owner_uid_placeholder(token);
    let token_secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": token_secret_name, "namespace": NAMESPACE},
        "type": "bootstrap.kubernetes.io/token",
        "data": {
            "token-id": b64(token.id.as_bytes()),
            "token-secret": b64(token.secret.as_bytes()),
            "description": b64(PROXY_TOKEN_DESCRIPTION.as_bytes()),
        },
    });
    let certs_secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": KUBEADM_CERTS_SECRET,
            "namespace": NAMESPACE,
            // metav1.NewControllerRef(secret, {Version: v1, Kind: Secret}).
            "ownerReferences": [{
                "apiVersion": "v1",
                "kind": "Secret",
                "name": token_secret_name,
                "uid": placeholder,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "data": Value::Object(data),
    });
    let (role, binding) = read_access();
    Ok(ApiObjects {
        objects: vec![token_secret, certs_secret, role, binding],
        owner_uids: vec![OwnerUidFill {
            object: format!("{NAMESPACE}/{KUBEADM_CERTS_SECRET}"),
            placeholder,
            owner: format!("{NAMESPACE}/{token_secret_name}"),
        }],
        tokens: vec![TokenTtl {
            secret_name: token_secret_name,
            ttl_seconds: PROXY_TOKEN_TTL_SECONDS,
        }],
        secret: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_key_round_trips_through_hex() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 1) as u8);
        let hex = certificate_key_hex(&key);
        assert_eq!(hex.len(), 64);
        use crate::config::validate::{decode_certificate_key, CertificateKeyError};
        assert_eq!(decode_certificate_key(&hex), Ok(key));
        assert_eq!(
            decode_certificate_key(&hex.to_uppercase()),
            Ok(key),
            "hex.DecodeString accepts upper case"
        );
        assert_eq!(
            decode_certificate_key("abc"),
            Err(CertificateKeyError::NotHex)
        );
        assert_eq!(
            decode_certificate_key("zz"),
            Err(CertificateKeyError::NotHex)
        );
        assert_eq!(
            decode_certificate_key("abcd"),
            Err(CertificateKeyError::Size(2))
        );
    }

    #[test]
    fn token_form_is_checked() {
        assert!(UploadToken::parse("abcdef.0123456789abcdef").is_ok());
        for bad in [
            "abcdef0123456789abcdef",
            "ABCDEF.0123456789abcdef",
            "abcde.0123456789abcdef",
        ] {
            assert_eq!(
                UploadToken::parse(bad),
                Err(UploadCertsError::BadToken),
                "{bad}"
            );
        }
        let t = UploadToken::parse("abcdef.0123456789abcdef").unwrap();
        assert!(!format!("{t:?}").contains("0123456789abcdef"));
    }
}
