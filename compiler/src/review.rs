//! The public review rendering (README, "Review rendering"): one
//! secret-free text document for a bundle, meant for code review, PR diffs and snapshots.
//!
//! Input: the bundle's files in bundle order ([`ReviewFile`]), either read from a bundle
//! ([`ReviewInput::from_bundle`], `kbc inspect`) or planned without keys
//! ([`ReviewInput::from_plan`], `kbc render`). Both go through the same printer, so the two
//! commands print the same text; `tests/review.rs` checks it for every fixture.
//!
//! What it shows: a header (version, names, endpoint, images, the apply plan), then every
//! file under `=== <path> (mode 0644) ===`: text files as they are, certificates as a summary
//! (subject, issuer, SANs in order, key algorithm, usages, CA flag, validity as a duration),
//! kubeconfigs as a summary of clusters, contexts and users, private keys as
//! `<private key: RSA 2048>`.
//!
//! What it hides, so that the text does not change when only the seed or the issue time does
//! (kbc derives token ids from the seed when the config leaves them out, so ids are hidden
//! too, whether or not the config gave them):
//! - bootstrap tokens: `<token-id-N>` for the id (N numbers tokens in order of appearance),
//!   `<token-secret>` for the secret, everywhere (Secrets, join commands, join script);
//! - the cluster CA certificate embedded in cluster-info and the join script, the discovery
//!   hash and the upload-certs certificate key;
//! - the `kubeadm-certs` Secret's data: `<encrypted>`;
//! - absolute dates, serial numbers and key bytes (never printed).

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use kbc_bundle::{Manifest, VerifiedBundle};
use serde_json::Value;

use crate::compile::Planned;
use crate::pki::plan::{PlannedBody, PlannedKubeconfig};
use crate::pki::x509::parse_pem_chain;
use crate::pki::{CertSummary, PrivateKey};
use crate::yaml::ser::{needs_yaml11_quotes, value_to_yaml};

/// The first line of the rendering (after `kbc inspect`'s own header).
pub const TITLE: &str = "# kbc review rendering: secret-free, stable across seed and issue time";

const TOKEN_TYPE: &str = "bootstrap.kubernetes.io/token";
const CA_PEM_TEXT: &str = "<ca.crt: the cluster CA certificate, PEM>\n";
const CA_B64_TEXT: &str = "<ca.crt: the cluster CA certificate, base64>";

/// What a file holds: its bytes, or a description of a planned PKI file.
#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Vec<u8>),
    Planned(Box<PlannedBody>),
}

/// One file of the bundle.
#[derive(Debug, Clone)]
pub struct ReviewFile {
    /// Bundle path (`rootfs/etc/kubernetes/pki/ca.crt`, `api/40-bootstrap-token.yaml`).
    pub path: String,
    pub mode: u32,
    pub secret: bool,
    pub content: Content,
}

/// Everything the rendering reads.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub manifest: Manifest,
    /// Files in bundle order (sorted by path bytes).
    pub files: Vec<ReviewFile>,
    /// The cluster CA certificate as embedded in cluster-info and the join script.
    pub ca_pem: Option<Vec<u8>>,
}

impl ReviewInput {
    /// From a verified bundle. The cluster CA is the bundle's `.../ca.crt` outside `etcd/`.
    pub fn from_bundle(b: &VerifiedBundle) -> ReviewInput {
        // The certificates dir is the one holding front-proxy-ca.crt (other ca.crt files, such
        // as an external etcd's, live elsewhere).
        let cert_dir = b.files.iter().find_map(|f| {
            f.path
                .strip_suffix("/front-proxy-ca.crt")
                .filter(|d| d.starts_with(kbc_bundle::ROOTFS_PREFIX))
        });
        let ca_pem = match cert_dir {
            Some(dir) => {
                let ca = format!("{dir}/ca.crt");
                b.files.iter().find(|f| f.path == ca)
            }
            // A worker's bundle holds the cluster CA alone, at its caCertPath.
            None => b.files.iter().find(|f| {
                f.path.starts_with(kbc_bundle::ROOTFS_PREFIX)
                    && f.path.ends_with(".crt")
                    && !f.path.contains("/etcd/")
            }),
        }
        .map(|f| f.data.clone());
        ReviewInput {
            manifest: b.manifest.clone(),
            files: b
                .files
                .iter()
                .map(|f| ReviewFile {
                    path: f.path.clone(),
                    mode: f.mode,
                    secret: f.secret,
                    content: Content::Bytes(f.data.clone()),
                })
                .collect(),
            ca_pem,
        }
    }

    /// From a keyless plan ([`crate::compile::plan_bundle`]).
    pub fn from_plan(p: &Planned) -> ReviewInput {
        let mut files: Vec<ReviewFile> = p
            .files
            .iter()
            .map(|f| ReviewFile {
                path: f.path.clone(),
                mode: f.mode,
                secret: f.secret,
                content: Content::Bytes(f.data.clone()),
            })
            .chain(p.pki.iter().map(|f| ReviewFile {
                path: f.path.clone(),
                mode: f.mode,
                secret: f.secret,
                content: match &f.body {
                    PlannedBody::Provided(bytes) => Content::Bytes(bytes.clone()),
                    other => Content::Planned(Box::new(other.clone())),
                },
            }))
            .collect();
        files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        ReviewInput {
            manifest: p.manifest.clone(),
            files,
            ca_pem: Some(p.ca_pem.clone().into_bytes()),
        }
    }
}

/// A bootstrap token found in the bundle's token Secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundToken {
    pub id: String,
    pub secret: String,
    /// `usage-bootstrap-signing: "true"`.
    pub signing: bool,
}

/// Splits a multi-document YAML file written by `join_documents` at its `---` lines.
fn split_docs(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let (mut start, mut pos) = (0, 0);
    for line in text.split_inclusive('\n') {
        if line == "---\n" {
            docs.push(&text[start..pos]);
            start = pos + line.len();
        }
        pos += line.len();
    }
    docs.push(&text[start..]);
    docs
}

fn is_kind(doc: &str, kind: &str) -> bool {
    doc.lines().any(|l| l == format!("kind: {kind}"))
}

pub(crate) fn parse_yaml(doc: &str) -> Option<Value> {
    serde_saphyr::from_str::<Value>(doc).ok()
}

fn b64_decode_str(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    String::from_utf8(bytes).ok()
}

fn api_texts(files: &[ReviewFile]) -> impl Iterator<Item = &str> {
    files.iter().filter_map(|f| match &f.content {
        Content::Bytes(b) if f.path.starts_with("api/") => std::str::from_utf8(b).ok(),
        _ => None,
    })
}

/// The bootstrap tokens of the bundle's token Secrets, in file and document order.
pub fn find_tokens(files: &[ReviewFile]) -> Vec<FoundToken> {
    let mut out: Vec<FoundToken> = Vec::new();
    for text in api_texts(files) {
        for doc in split_docs(text)
            .into_iter()
            .filter(|d| is_kind(d, "Secret"))
        {
            let Some(v) = parse_yaml(doc) else { continue };
            if v["type"] != TOKEN_TYPE {
                continue;
            }
            let data = &v["data"];
            let (Some(id), Some(secret)) = (
                b64_decode_str(&data["token-id"]),
                b64_decode_str(&data["token-secret"]),
            ) else {
                continue;
            };
            if out.iter().any(|t| t.id == id) {
                continue;
            }
            out.push(FoundToken {
                id,
                secret,
                signing: b64_decode_str(&data["usage-bootstrap-signing"]).as_deref()
                    == Some("true"),
            });
        }
    }
    out
}

/// The `kubeconfig` value of the cluster-info ConfigMap, if the bundle has one.
pub fn cluster_info_kubeconfig(files: &[ReviewFile]) -> Option<String> {
    for text in api_texts(files) {
        for doc in split_docs(text)
            .into_iter()
            .filter(|d| is_kind(d, "ConfigMap"))
        {
            let Some(v) = parse_yaml(doc) else { continue };
            if v["metadata"]["name"] == "cluster-info"
                && v["metadata"]["namespace"] == "kube-public"
            {
                return v["data"]["kubeconfig"].as_str().map(str::to_string);
            }
        }
    }
    None
}

/// The detached JWS the controller-manager's bootstrap signer publishes in cluster-info as
/// `jws-kubeconfig-<id>` (`k8s.io/cluster-bootstrap/token/jws` `ComputeDetachedSignature`):
/// HS256 over the kubeconfig with the token secret as key, header
/// `{"alg":"HS256","kid":"<id>"}`, base64url without padding, payload left out. (kubeadm
/// zero-pads a secret shorter than 32 bytes for go-jose; HMAC zero-pads any key shorter than
/// its 64-byte block, so the MAC is the same.)
pub fn detached_jws(content: &str, token_id: &str, token_secret: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = b64(format!(r#"{{"alg":"HS256","kid":"{token_id}"}}"#).as_bytes());
    let payload = b64(content.as_bytes());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token_secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{header}.{payload}").as_bytes());
    format!("{header}..{}", b64(&mac.finalize().into_bytes()))
}

/// The replacements that make text files secret-free and seed-independent.
struct Redactor {
    tokens: Vec<FoundToken>,
    subs: Vec<(String, String)>,
    hash: regex::Regex,
    cert_key: regex::Regex,
}

impl Redactor {
    fn new(input: &ReviewInput) -> Redactor {
        let tokens = find_tokens(&input.files);
        let mut subs = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            let id = format!("<token-id-{}>", i + 1);
            subs.push((
                format!("{}.{}", t.id, t.secret),
                format!("{id}.<token-secret>"),
            ));
            subs.push((
                format!("bootstrap-token-{}", t.id),
                format!("bootstrap-token-{id}"),
            ));
        }
        for t in &tokens {
            if !t.secret.is_empty() {
                subs.push((t.secret.clone(), "<token-secret>".into()));
            }
        }
        if let Some(pem) = input.ca_pem.as_ref().filter(|p| !p.is_empty()) {
            subs.push((
                base64::engine::general_purpose::STANDARD.encode(pem),
                CA_B64_TEXT.into(),
            ));
            subs.push((
                String::from_utf8_lossy(pem).into_owned(),
                CA_PEM_TEXT.into(),
            ));
        }
        Redactor {
            tokens,
            subs,
            hash: regex::Regex::new(r"(--discovery-token-ca-cert-hash[ =])sha256:[0-9a-fA-F]{64}")
                .expect("valid regex"),
            cert_key: regex::Regex::new(r"(--certificate-key[ =])[0-9a-fA-F]{64}")
                .expect("valid regex"),
        }
    }

    fn text(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (from, to) in &self.subs {
            if s.contains(from.as_str()) {
                s = s.replace(from.as_str(), to);
            }
        }
        let s = self
            .hash
            .replace_all(&s, "${1}sha256:<hash of the ca.crt public key>");
        self.cert_key
            .replace_all(&s, "${1}<certificate-key>")
            .into_owned()
    }

    fn token_index(&self, id: &str) -> Option<usize> {
        self.tokens.iter().position(|t| t.id == id)
    }

    /// An API file: Secrets get their data redacted structurally, then the text rules apply.
    fn api_file(&self, text: &str) -> String {
        let docs: Vec<String> = split_docs(text)
            .into_iter()
            .map(|doc| {
                if !is_kind(doc, "Secret") {
                    return doc.to_string();
                }
                match parse_yaml(doc) {
                    Some(mut v) => {
                        self.secret(&mut v);
                        value_to_yaml(&v)
                    }
                    None => "<unreadable Secret: redacted>\n".to_string(),
                }
            })
            .collect();
        self.text(&docs.join("---\n"))
    }

    fn secret(&self, v: &mut Value) {
        let is_token = v["type"] == TOKEN_TYPE;
        let encrypted = v["metadata"]["name"] == crate::render::upload_certs::KUBEADM_CERTS_SECRET;
        for field in ["data", "stringData"] {
            let Some(map) = v.get_mut(field).and_then(Value::as_object_mut) else {
                continue;
            };
            for (k, val) in map.iter_mut() {
                let decoded = if field == "data" {
                    b64_decode_str(val)
                } else {
                    val.as_str().map(str::to_string)
                };
                let new = if is_token {
                    match k.as_str() {
                        "token-secret" => Some("<token-secret>".to_string()),
                        "token-id" => Some(match decoded.and_then(|d| self.token_index(&d)) {
                            Some(i) => format!("<token-id-{}>", i + 1),
                            None => "<token-id>".to_string(),
                        }),
                        _ => None,
                    }
                } else if val.as_str() == Some("") {
                    None
                } else if encrypted {
                    Some("<encrypted>".to_string())
                } else {
                    Some("<redacted>".to_string())
                };
                if let Some(n) = new {
                    *val = Value::String(n);
                }
            }
        }
    }
}

/// A YAML scalar: plain when a YAML reader takes it back as the same string, else quoted.
pub(crate) fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && !needs_yaml11_quotes(s)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !s.ends_with(' ')
        && !s.contains('\n');
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

fn list(out: &mut String, indent: &str, key: &str, items: &[String]) {
    if items.is_empty() {
        out.push_str(&format!("{indent}{key}: []\n"));
    } else {
        out.push_str(&format!("{indent}{key}:\n"));
        for i in items {
            out.push_str(&format!("{indent}- {}\n", scalar(i)));
        }
    }
}

/// Go's `time.Duration` form of whole seconds (`8760h5m0s`).
fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}h{}m{}s", s / 3600, (s % 3600) / 60, s % 60)
}

/// The certificate fields of the rendering, at `indent`.
fn cert_fields(out: &mut String, indent: &str, c: &CertSummary) {
    let kv = |out: &mut String, k: &str, v: &str| {
        out.push_str(&format!("{indent}{k}: {}\n", scalar(v)));
    };
    kv(out, "subject", &c.subject);
    kv(out, "issuer", &c.issuer);
    list(out, indent, "dnsNames", &c.dns_names);
    let ips: Vec<String> = c.ip_addresses.iter().map(IpAddr::to_string).collect();
    list(out, indent, "ipAddresses", &ips);
    kv(out, "keyAlgorithm", &c.key_algorithm);
    out.push_str(&format!("{indent}isCA: {}\n", c.is_ca));
    list(out, indent, "keyUsages", &c.key_usages);
    list(out, indent, "extKeyUsages", &c.ext_key_usages);
    kv(out, "validity", &go_duration(c.validity));
}

fn summary_of(info: crate::pki::x509::CertInfo) -> CertSummary {
    let secs = (info.not_after - info.not_before).whole_seconds().max(0) as u64;
    CertSummary {
        name: String::new(),
        file: String::new(),
        subject: info.subject,
        issuer: info.issuer,
        dns_names: info.dns_names,
        ip_addresses: info.ip_addresses,
        key_algorithm: info.key_algorithm,
        is_ca: info.is_ca,
        key_usages: info.key_usages,
        ext_key_usages: info.ext_key_usages,
        validity: Duration::from_secs(secs),
        reused: false,
    }
}

/// `RSA 2048` / `ECDSA P-256` of a DER SubjectPublicKeyInfo.
fn public_key_algorithm(spki: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    use x509_parser::public_key::PublicKey;
    let Ok((_, info)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki) else {
        return "unreadable".into();
    };
    match info.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = info
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256".into(),
                Some("1.3.132.0.34") => "ECDSA P-384".into(),
                Some(o) => format!("ECDSA {o}"),
                None => "ECDSA".into(),
            }
        }
        _ => info.algorithm.algorithm.to_id_string(),
    }
}

/// A kubeconfig as the rendering shows it.
struct KubeconfigView {
    current_context: String,
    /// (name, server, CA description)
    clusters: Vec<(String, String, String)>,
    /// (name, cluster, user)
    contexts: Vec<(String, String, String)>,
    users: Vec<UserView>,
}

struct UserView {
    name: String,
    cert: Option<CertSummary>,
    key: Option<String>,
    token: bool,
}

impl KubeconfigView {
    fn planned(k: &PlannedKubeconfig) -> KubeconfigView {
        let context = format!("{}@{}", k.user, k.cluster);
        KubeconfigView {
            current_context: context.clone(),
            clusters: vec![(k.cluster.clone(), k.server.clone(), CA_B64_TEXT.into())],
            contexts: vec![(context, k.cluster.clone(), k.user.clone())],
            users: vec![UserView {
                name: k.user.clone(),
                cert: Some(k.client_certificate.clone()),
                key: Some(k.key_algorithm.clone()),
                token: false,
            }],
        }
    }

    fn parse(bytes: &[u8], ca_pem: Option<&[u8]>) -> Option<KubeconfigView> {
        let v = parse_yaml(std::str::from_utf8(bytes).ok()?)?;
        if v["kind"] != "Config" || !v["clusters"].is_array() {
            return None;
        }
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let dec = |v: &Value| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_str()?.trim())
                .ok()
        };
        let arr = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let clusters = arr(&v["clusters"])
            .iter()
            .map(|c| {
                let ca = match dec(&c["cluster"]["certificate-authority-data"]) {
                    None => "<none>".to_string(),
                    Some(d) if Some(d.as_slice()) == ca_pem => CA_B64_TEXT.to_string(),
                    Some(d) => match parse_pem_chain(&d).ok().and_then(|c| c[0].info().ok()) {
                        Some(info) => format!("<certificate: {}>", info.subject),
                        None => "<unreadable certificate>".to_string(),
                    },
                };
                (s(&c["name"]), s(&c["cluster"]["server"]), ca)
            })
            .collect();
        let contexts = arr(&v["contexts"])
            .iter()
            .map(|c| {
                (
                    s(&c["name"]),
                    s(&c["context"]["cluster"]),
                    s(&c["context"]["user"]),
                )
            })
            .collect();
        let users = arr(&v["users"])
            .iter()
            .map(|u| UserView {
                name: s(&u["name"]),
                cert: dec(&u["user"]["client-certificate-data"])
                    .and_then(|d| parse_pem_chain(&d).ok())
                    .and_then(|c| c[0].info().ok())
                    .map(summary_of),
                key: dec(&u["user"]["client-key-data"]).map(|d| {
                    PrivateKey::from_pem(&d)
                        .map(|k| k.describe())
                        .unwrap_or_else(|_| "unreadable".into())
                }),
                token: u["user"]["token"].is_string(),
            })
            .collect();
        Some(KubeconfigView {
            current_context: s(&v["current-context"]),
            clusters,
            contexts,
            users,
        })
    }

    fn print(&self, out: &mut String) {
        out.push_str("kubeconfig:\n");
        out.push_str(&format!(
            "  current-context: {}\n",
            scalar(&self.current_context)
        ));
        out.push_str("  clusters:\n");
        for (name, server, ca) in &self.clusters {
            out.push_str(&format!("  - name: {}\n", scalar(name)));
            out.push_str(&format!("    server: {}\n", scalar(server)));
            out.push_str(&format!("    certificate-authority-data: {}\n", scalar(ca)));
        }
        out.push_str("  contexts:\n");
        for (name, cluster, user) in &self.contexts {
            out.push_str(&format!("  - name: {}\n", scalar(name)));
            out.push_str(&format!("    cluster: {}\n", scalar(cluster)));
            out.push_str(&format!("    user: {}\n", scalar(user)));
        }
        out.push_str("  users:\n");
        for u in &self.users {
            out.push_str(&format!("  - name: {}\n", scalar(&u.name)));
            if let Some(c) = &u.cert {
                out.push_str("    client-certificate-data:\n");
                cert_fields(out, "      ", c);
            }
            if let Some(k) = &u.key {
                out.push_str(&format!(
                    "    client-key-data: {}\n",
                    scalar(&format!("<private key: {k}>"))
                ));
            }
            if u.token {
                out.push_str("    token: <token>\n");
            }
        }
    }
}

fn print_certificates(out: &mut String, certs: &[CertSummary]) {
    for c in certs {
        out.push_str("certificate:\n");
        cert_fields(out, "  ", c);
    }
}

/// The rendering of one file's body (always ending in a newline unless empty).
fn body(f: &ReviewFile, red: &Redactor, ca_pem: Option<&[u8]>) -> String {
    let mut out = String::new();
    match &f.content {
        Content::Planned(p) => match p.as_ref() {
            PlannedBody::Certificate(c) => print_certificates(&mut out, std::slice::from_ref(c)),
            PlannedBody::PrivateKey(alg) => out.push_str(&format!("<private key: {alg}>\n")),
            PlannedBody::PublicKey(alg) => out.push_str(&format!("<public key: {alg}>\n")),
            PlannedBody::Kubeconfig(k) => KubeconfigView::planned(k).print(&mut out),
            PlannedBody::Provided(bytes) => {
                let file = ReviewFile {
                    content: Content::Bytes(bytes.clone()),
                    ..f.clone()
                };
                return body(&file, red, ca_pem);
            }
        },
        Content::Bytes(bytes) => {
            let rootfs = f.path.starts_with(kbc_bundle::ROOTFS_PREFIX);
            let text = std::str::from_utf8(bytes).ok();
            let pem_tag = text
                .filter(|t| t.starts_with("-----BEGIN "))
                .and_then(|t| pem::parse(t).ok())
                .map(|p| p.tag().to_string());
            match pem_tag.as_deref() {
                Some("CERTIFICATE") if rootfs => match parse_pem_chain(bytes) {
                    Ok(chain) => {
                        let certs: Vec<CertSummary> = chain
                            .iter()
                            .filter_map(|c| c.info().ok().map(summary_of))
                            .collect();
                        print_certificates(&mut out, &certs);
                    }
                    Err(e) => out.push_str(&format!("<unreadable certificate: {e}>\n")),
                },
                Some(tag) if rootfs && tag.ends_with("PRIVATE KEY") => {
                    let alg = PrivateKey::from_pem(bytes)
                        .map(|k| k.describe())
                        .unwrap_or_else(|_| "unreadable".into());
                    out.push_str(&format!("<private key: {alg}>\n"));
                }
                Some("PUBLIC KEY") if rootfs => {
                    let der = pem::parse(bytes)
                        .map(|p| p.into_contents())
                        .unwrap_or_default();
                    out.push_str(&format!("<public key: {}>\n", public_key_algorithm(&der)));
                }
                _ => {
                    let kubeconfig = if rootfs && f.path.ends_with(".conf") {
                        KubeconfigView::parse(bytes, ca_pem)
                    } else {
                        None
                    };
                    match (kubeconfig, text) {
                        (Some(k), _) => k.print(&mut out),
                        (None, Some(t)) if f.path.starts_with("api/") => {
                            out.push_str(&red.api_file(t))
                        }
                        (None, Some(t)) if f.secret && t.contains("PRIVATE KEY-----") => {
                            out.push_str("<holds a private key: redacted>\n")
                        }
                        (None, Some(t)) => out.push_str(&red.text(t)),
                        (None, None) => out.push_str(&format!("<binary: {} bytes>\n", bytes.len())),
                    }
                }
            }
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{by}{l}\n")
            }
        })
        .collect()
}

/// The whole rendering.
pub fn render(input: &ReviewInput) -> String {
    let red = Redactor::new(input);
    let m = &input.manifest;
    let mut out = format!("{TITLE}\n");
    let kv = |out: &mut String, k: &str, v: &str| out.push_str(&format!("{k}: {}\n", scalar(v)));
    kv(&mut out, "kubernetesVersion", &m.kubernetes_version);
    kv(&mut out, "clusterName", &m.cluster_name);
    kv(&mut out, "nodeName", &m.node_name);
    kv(&mut out, "controlPlaneEndpoint", &m.control_plane_endpoint);
    kv(&mut out, "configSha256", &m.config_sha256);
    let images: Vec<String> = input
        .files
        .iter()
        .find(|f| f.path == "images.txt")
        .and_then(|f| match &f.content {
            Content::Bytes(b) => std::str::from_utf8(b).ok(),
            Content::Planned(_) => None,
        })
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    list(&mut out, "", "images", &images);
    out.push_str("apply:\n");
    out.push_str(&indent(&red.text(&value_to_yaml(&m.apply)), "  "));
    let ca_pem = input.ca_pem.as_deref();
    for f in &input.files {
        out.push_str(&format!(
            "=== {} (mode {:04o}{}) ===\n",
            f.path,
            f.mode,
            if f.secret { ", secret" } else { "" }
        ));
        out.push_str(&body(f, &red, ca_pem));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jws_vectors_of_cluster_bootstrap() {
        // k8s.io/cluster-bootstrap token/jws/jws_test.go.
        let content = "Hello from the other side. I must have called a thousand times.";
        assert_eq!(
            detached_jws(content, "joshua", "my voice is my passcode"),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
        );
        assert_eq!(
            detached_jws("", "joshua", "my voice is my passcode"),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"
        );
        assert_eq!(
            detached_jws(content, "joshua", ""),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"
        );
    }

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(scalar("CN=kubernetes"), "CN=kubernetes");
        assert_eq!(
            scalar("O=system:nodes, CN=system:node:cp-1"),
            "O=system:nodes, CN=system:node:cp-1"
        );
        assert_eq!(
            scalar("<private key: RSA 2048>"),
            "\"<private key: RSA 2048>\""
        );
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar(""), "\"\"");
    }

    #[test]
    fn documents_split_at_separator_lines() {
        assert_eq!(split_docs("a: 1\n---\nb: 2\n"), ["a: 1\n", "b: 2\n"]);
        assert_eq!(split_docs("a: |\n  ---\n"), ["a: |\n  ---\n"]);
    }
}
