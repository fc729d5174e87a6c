//! PKI and kubeconfig files of `kubeadm init` v1.31 (`kubeadm init phase certs all` and
//! `kubeadm init phase kubeconfig all`), as a pure function of ([`PkiInput`], [`Secrets`],
//! [`IssueTime`]) and, optionally, files that already exist ([`existing::Provided`]).
//!
//! Determinism: README, "Determinism and secrets". kubeadm sources
//! mirrored: `cmd/kubeadm/app/phases/certs/certlist.go` and `certs.go`,
//! `cmd/kubeadm/app/util/pkiutil/pki_helpers.go`, `cmd/kubeadm/app/phases/kubeconfig/`.
//!
//! Deliberate differences from kubeadm:
//! - keys, serials and ECDSA nonces are derived from the seed ([`kdf`]), not random;
//! - stricter checks of existing files: a user-supplied CA that has expired at the issue
//!   time is an error (kubeadm warns); a CA or leaf key that does not match its certificate
//!   and an `sa.pub` that does not match `sa.key` are errors (kubeadm does not compare);
//! - a reused leaf must be signed directly by its CA (kubeadm also accepts a chain through
//!   intermediates stored in the leaf's `.crt`);
//! - a user CA whose subject kbc cannot re-encode byte for byte as an issuer name
//!   (multi-valued RDNs, repeated attribute types, BMP/Teletex strings) is refused;
//! - nothing is read from the host: existing files come in through [`existing::Provided`].

pub(crate) mod certs;
pub(crate) mod der;
pub(crate) mod existing;
pub mod expiration;
mod issue;
pub(crate) mod kdf;
pub(crate) mod keys;
pub mod kubeconfig;
pub(crate) mod layout;
pub mod plan;
pub mod x509;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use certs::CaId;
pub use existing::{Provided, ProvidedFile};
pub use kdf::{Seed, DERIVATION};
pub use keys::{EncryptionAlgorithm, PrivateKey};

use certs::Signer;
use x509::Cert;

/// kubeadm's `CertificateBackdate`: NotBefore is the issue time minus five minutes.
pub(crate) const CERTIFICATE_BACKDATE: Duration = Duration::from_secs(5 * 60);

/// Everything of the validated cluster configuration that the PKI depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiInput {
    /// `clusterName` (kubeconfig cluster and context names).
    pub cluster_name: String,
    /// `nodeRegistration.name`.
    pub node_name: String,
    /// `localAPIEndpoint.advertiseAddress`.
    pub advertise_address: IpAddr,
    /// `localAPIEndpoint.bindPort`.
    pub bind_port: u16,
    /// `controlPlaneEndpoint` as `host:port` (port already defaulted), if set.
    pub control_plane_endpoint: Option<String>,
    /// `networking.serviceSubnet`, split at commas; the first CIDR's first address is the
    /// `kubernetes` Service IP.
    pub service_subnets: Vec<ipnet::IpNet>,
    /// `networking.dnsDomain`.
    pub dns_domain: String,
    /// `apiServer.certSANs`.
    pub api_server_cert_sans: Vec<String>,
    /// `etcd.local.serverCertSANs`.
    pub etcd_server_cert_sans: Vec<String>,
    /// `etcd.local.peerCertSANs`.
    pub etcd_peer_cert_sans: Vec<String>,
    /// `etcd.external` is set: no etcd PKI.
    pub external_etcd: bool,
    /// `certificatesDir` (absolute, e.g. `/etc/kubernetes/pki`).
    pub certificates_dir: String,
    /// The effective key algorithm (after the `PublicKeysECDSA` override).
    pub encryption_algorithm: EncryptionAlgorithm,
    /// `certificateValidityPeriod`.
    pub cert_validity: Duration,
    /// `caCertificateValidityPeriod`.
    pub ca_validity: Duration,
    /// Feature gate `ControlPlaneKubeletLocalMode`.
    pub control_plane_kubelet_local_mode: bool,
    /// Which node of the cluster the files are for.
    pub role: NodeRole,
}

/// Which node a PKI is for. kubeadm writes different sets (`cmd/kubeadm/app/cmd/phases/join/controlplaneprepare.go`): the init
/// node every file; a joining control-plane node the shared CAs and SA pair, its own leaves
/// and admin, controller-manager and scheduler kubeconfigs (kbc adds `kubelet.conf`, signed
/// offline); a worker only `ca.crt` (kbc adds a named worker's `kubelet.conf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeRole {
    #[default]
    Init,
    ControlPlaneJoin,
    Worker,
}

impl PkiInput {
    /// The derivation label of an artifact of this node: the init node's labels are the
    /// cluster's (`kbc/v1/pki/apiserver.key/RSA-2048`), a joining node's carry its name
    /// (`kbc/v1/node/cp-2/pki/apiserver.key/RSA-2048`), so that no two nodes share a key or
    /// a serial. CA and service-account labels are never scoped: every node shares them.
    pub(crate) fn scoped_label(&self, label: &str) -> String {
        match self.role {
            NodeRole::Init => label.to_string(),
            _ => format!(
                "kbc/v1/node/{}/{}",
                self.node_name,
                label.strip_prefix("kbc/v1/").unwrap_or(label)
            ),
        }
    }

    /// Whether the node receives the CA keys (every control-plane node signs with them).
    pub(crate) fn has_ca_keys(&self) -> bool {
        self.role != NodeRole::Worker
    }

    /// Whether the node gets the service-account key pair.
    pub(crate) fn has_service_account(&self) -> bool {
        self.role != NodeRole::Worker
    }
}

impl PkiInput {
    /// kubeadm's defaults for a node name and advertise address.
    pub fn new(node_name: &str, advertise_address: IpAddr) -> PkiInput {
        PkiInput {
            cluster_name: "kubernetes".into(),
            node_name: node_name.into(),
            advertise_address,
            bind_port: 6443,
            control_plane_endpoint: None,
            service_subnets: vec!["10.96.0.0/12".parse().expect("valid CIDR")],
            dns_domain: "cluster.local".into(),
            api_server_cert_sans: Vec::new(),
            etcd_server_cert_sans: Vec::new(),
            etcd_peer_cert_sans: Vec::new(),
            external_etcd: false,
            certificates_dir: "/etc/kubernetes/pki".into(),
            encryption_algorithm: EncryptionAlgorithm::Rsa2048,
            cert_validity: Duration::from_secs(8760 * 3600),
            ca_validity: Duration::from_secs(87600 * 3600),
            control_plane_kubelet_local_mode: false,
            role: NodeRole::Init,
        }
    }
}

/// The issue time: every NotBefore/NotAfter derives from it. Whole seconds, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IssueTime(OffsetDateTime);

/// Why an issue time is refused (exit 1): kbc refuses what X.509 cannot encode instead of
/// failing deep inside certificate signing.
#[derive(Debug, thiserror::Error)]
pub enum IssueTimeError {
    /// Not RFC 3339.
    #[error("issue time {0:?} is not RFC 3339 (e.g. 2026-11-25T12:00:00Z)")]
    NotRfc3339(String, #[source] time::error::Parse),
    /// Seconds outside the calendar (years 1..=9999 here).
    #[error("issue time {0} (Unix seconds) is outside the calendar")]
    OutOfCalendar(i64, #[source] time::error::ComponentRange),
    /// Earlier than [`IssueTime::EARLIEST`].
    #[error(
        "issue time {0} is too early: certificates start 5 minutes before it, and kbc writes no \
         certificate time before 1950 (RFC 5280: UTCTime); use {earliest} or later",
        earliest = IssueTime::EARLIEST_RFC3339
    )]
    TooEarly(String),
    /// `SOURCE_DATE_EPOCH` is not a number.
    #[error("SOURCE_DATE_EPOCH={0:?} is not a number of seconds")]
    SourceDateEpoch(String),
}

impl IssueTime {
    /// `2026-11-25T12:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        rfc3339(self.at())
    }

    /// The earliest issue time: NotBefore (5 minutes earlier) is then 1950-01-01T00:00:00Z,
    /// the first instant RFC 5280's UTCTime encodes. The latest is bounded by the validity
    /// periods instead (NotAfter must fit the calendar, else "validity period overflows").
    pub const EARLIEST_UNIX: i64 = -631_152_000 + 5 * 60;
    /// [`IssueTime::EARLIEST_UNIX`] as RFC 3339.
    pub const EARLIEST_RFC3339: &'static str = "1950-01-01T00:05:00Z";

    /// From Unix seconds.
    pub fn from_unix(secs: i64) -> Result<IssueTime, IssueTimeError> {
        let t = OffsetDateTime::from_unix_timestamp(secs)
            .map_err(|e| IssueTimeError::OutOfCalendar(secs, e))?;
        if secs < Self::EARLIEST_UNIX {
            return Err(IssueTimeError::TooEarly(rfc3339(t)));
        }
        Ok(IssueTime(t))
    }

    /// From RFC 3339 (`2026-11-25T12:00:00Z`); sub-seconds are dropped.
    pub fn parse_rfc3339(s: &str) -> Result<IssueTime, IssueTimeError> {
        let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|e| IssueTimeError::NotRfc3339(s.to_string(), e))?;
        Self::from_unix(t.unix_timestamp())
    }

    /// The instant.
    pub fn at(self) -> OffsetDateTime {
        self.0
    }

    /// Unix seconds.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }
}

/// One output file.
#[derive(Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Host path without the leading `/` (`etc/kubernetes/pki/ca.crt`), from
    /// `certificatesDir`; kubeconfigs are always under `etc/kubernetes/`.
    pub path: String,
    /// Path in kubeadm's `/etc/kubernetes` layout: `pki/ca.crt`, `admin.conf`.
    pub kubeadm_path: String,
    /// File mode (0600 keys, `sa.pub` and kubeconfigs; 0644 certificates).
    pub mode: u32,
    /// Contents.
    pub bytes: Vec<u8>,
    /// Holds a private key.
    pub secret: bool,
}

impl Artifact {
    /// `bytes` at `slot`.
    pub fn at(slot: layout::Slot, bytes: Vec<u8>) -> Artifact {
        Artifact {
            path: slot.path,
            kubeadm_path: slot.kubeadm_path,
            mode: slot.mode,
            bytes,
            secret: slot.secret,
        }
    }
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Artifact({}, {:o}, {} bytes{})",
            self.path,
            self.mode,
            self.bytes.len(),
            if self.secret { ", secret" } else { "" }
        )
    }
}

/// A secret-free summary of one certificate, for the review rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// `ca`, `apiserver`, …, or the kubeconfig file name (`admin.conf`).
    pub name: String,
    /// The file holding it (kubeadm layout: `pki/apiserver.crt`, `admin.conf`).
    pub file: String,
    /// Subject, e.g. `O=kubeadm:cluster-admins, CN=kubernetes-admin`.
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// DNS SANs in certificate order.
    pub dns_names: Vec<String>,
    /// IP SANs in certificate order.
    pub ip_addresses: Vec<IpAddr>,
    /// Key type and size: `RSA 2048`, `ECDSA P-256`.
    pub key_algorithm: String,
    /// A CA certificate.
    pub is_ca: bool,
    /// Key usages.
    pub key_usages: Vec<String>,
    /// Extended key usages in order.
    pub ext_key_usages: Vec<String>,
    /// NotAfter − NotBefore.
    pub validity: Duration,
    /// Taken from an existing file rather than generated.
    pub reused: bool,
}

impl CertSummary {
    /// The validity as Go prints a `time.Duration` (`8760h5m0s`), as kubeadm's config
    /// spells `certificateValidityPeriod`.
    pub fn validity_go(&self) -> String {
        let s = self.validity.as_secs();
        format!("{}h{}m{}s", s / 3600, (s % 3600) / 60, s % 60)
    }
}

/// What [`render`] produces.
#[derive(Debug, Clone)]
pub struct PkiOutput {
    /// The files, in kubeadm's generation order (key before certificate; kubeconfigs last).
    pub artifacts: Vec<Artifact>,
    /// One summary per certificate (CAs, leaves, kubeconfig client certificates).
    pub certificates: Vec<CertSummary>,
    /// Non-fatal findings (skipped SANs, server URL mismatches, expiring reused certs).
    pub warnings: Vec<String>,
    /// `sha256:<hex>` of the `ca.crt` SubjectPublicKeyInfo (`--discovery-token-ca-cert-hash`).
    pub discovery_token_ca_cert_hash: String,
    /// CAs used without their key (kubeadm's external CA mode).
    pub external_cas: Vec<CaId>,
}

impl PkiOutput {
    /// An artifact by its kubeadm path (`pki/ca.crt`, `admin.conf`).
    pub fn get(&self, kubeadm_path: &str) -> Option<&Artifact> {
        self.artifacts
            .iter()
            .find(|a| a.kubeadm_path == kubeadm_path)
    }
}

/// Why the PKI could not be rendered. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The input itself is unusable.
    #[error("{0}")]
    Input(String),
    /// The issue time is refused.
    #[error(transparent)]
    IssueTime(#[from] IssueTimeError),
    /// A file could not be read.
    #[error("{file}: {detail}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        detail: String,
    },
    /// A certificate file is unusable.
    #[error("{file}: unusable certificate")]
    BadCert {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: x509::CertError,
    },
    /// A key file is unusable.
    #[error("{file}: unusable key")]
    BadKey {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: keys::KeyError,
    },
    /// A CA certificate without the CA flag.
    #[error("{file}: the {name} certificate is not a certificate authority (basicConstraints cA is not set)")]
    NotCa {
        /// The file.
        file: String,
        /// `ca`, `front-proxy-ca`, `etcd-ca`.
        name: String,
    },
    /// A CA that could sign nothing that verifies (kubeadm accepts it; the cluster fails).
    #[error("{file}: the {name} certificate cannot be used as a CA: {reason}")]
    CaUnusable {
        /// The file.
        file: String,
        /// `ca`, `front-proxy-ca`, `etcd-ca`.
        name: String,
        /// Why.
        reason: String,
    },
    /// A CA that has expired at the issue time.
    #[error("{file}: the {name} certificate expired at {not_after}, before the issue time {at}")]
    CaExpired {
        /// The file.
        file: String,
        /// CA name.
        name: String,
        /// Its NotAfter.
        not_after: OffsetDateTime,
        /// The issue time.
        at: OffsetDateTime,
    },
    /// A key that is not the certificate's.
    #[error("{key_file}: the private key does not match the certificate {cert_file}")]
    KeyMismatch {
        /// The certificate.
        cert_file: String,
        /// The key.
        key_file: String,
    },
    /// A certificate present without its key (or the reverse).
    #[error("{file}: found without its counterpart {missing}")]
    Incomplete {
        /// The file present.
        file: String,
        /// The name missing.
        missing: String,
    },
    /// A reused certificate not signed by its CA.
    #[error("{file}: the certificate is not signed by the {ca} certificate authority")]
    NotSignedBy {
        /// The file.
        file: String,
        /// The CA name.
        ca: String,
    },
    /// A reused certificate lacking SANs kubeadm would put in.
    #[error(
        "{file}: the existing certificate lacks required subject alternative names: {missing}"
    )]
    MissingSans {
        /// The file.
        file: String,
        /// The names, comma-separated.
        missing: String,
    },
    /// External CA mode without all required files.
    #[error("external CA mode ({cas}: certificate without key): these files must be provided but are missing: {}", missing.join(", "))]
    ExternalCaMissing {
        /// The keyless CAs.
        cas: String,
        /// Every missing file.
        missing: Vec<String>,
    },
    /// An existing kubeconfig that is unreadable or carries another CA.
    #[error("{file}: {detail}")]
    BadKubeconfig {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// The same file from two sources, with different bytes.
    #[error("{file}: conflicts with {other}")]
    Conflict {
        /// One source.
        file: String,
        /// The other.
        other: String,
    },
    /// A CA subject that kbc cannot reproduce byte for byte as an issuer name.
    #[error("{file}: the CA subject uses an encoding kbc cannot reproduce as an issuer name (multi-valued RDN or unusual string type)")]
    IssuerName {
        /// The file.
        file: String,
    },
    /// Certificate assembly failed.
    #[error("couldn't create the {name:?} certificate: {detail}")]
    Build {
        /// The certificate.
        name: String,
        /// rcgen's message.
        detail: String,
    },
}

/// `sha256:<hex>` of a certificate's SubjectPublicKeyInfo.
pub fn spki_sha256_pin(cert_der: &[u8]) -> Result<String, x509::CertError> {
    let info = Cert {
        der: cert_der.to_vec(),
    }
    .info()?;
    Ok(format!("sha256:{}", hex(&Sha256::digest(&info.spki))))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Derived keys shared by the renders of one compile (the nodes of a cluster share their CA
/// and service-account keys, and deriving every node's keys in one pool keeps both cores
/// busy), or by every compile of a process (the tests). A key is held under its seed's
/// digest, its label and its algorithm — everything [`PrivateKey::derive`] depends on — so
/// one cache can serve any number of seeds and algorithms and never hands out a key that
/// the derivation would not produce.
pub struct KeyCache {
    threads: usize,
    keys: std::sync::Mutex<std::collections::BTreeMap<CacheKey, PrivateKey>>,
}

/// What a derived key depends on.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct CacheKey {
    /// sha256 of the seed (the cache never holds a seed).
    seed: [u8; 32],
    label: String,
    algorithm: EncryptionAlgorithm,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.keys.lock().map(|k| k.len()).unwrap_or(0);
        write!(f, "KeyCache({n} keys, {} threads)", self.threads)
    }
}

impl KeyCache {
    /// An empty cache that derives on `threads` threads (0 counts as 1).
    pub fn new(threads: usize) -> KeyCache {
        KeyCache {
            threads: threads.max(1),
            keys: Default::default(),
        }
    }

    fn key(seed: &Seed, label: &str, algorithm: EncryptionAlgorithm) -> CacheKey {
        CacheKey {
            seed: Sha256::digest(seed.0).into(),
            label: label.to_string(),
            algorithm,
        }
    }

    /// Derives every key of `jobs` the cache does not hold yet, in parallel.
    pub fn fill(&self, seed: &Seed, jobs: &[(String, EncryptionAlgorithm)]) {
        let mut missing: Vec<(String, EncryptionAlgorithm)> = {
            let keys = self
                .keys
                .lock()
                .expect("no thread panics holding the cache");
            jobs.iter()
                .filter(|(label, alg)| !keys.contains_key(&Self::key(seed, label, *alg)))
                .cloned()
                .collect()
        };
        missing.sort();
        missing.dedup();
        let derived = derive_keys(seed, &missing, self.threads);
        let mut keys = self
            .keys
            .lock()
            .expect("no thread panics holding the cache");
        for ((label, alg), key) in missing.into_iter().zip(derived) {
            keys.insert(Self::key(seed, &label, alg), key);
        }
    }

    /// The key of `label` for `seed` and `alg`, derived by [`KeyCache::fill`].
    pub(super) fn get(
        &self,
        seed: &Seed,
        label: &str,
        alg: EncryptionAlgorithm,
    ) -> Option<PrivateKey> {
        self.keys
            .lock()
            .expect("no thread panics holding the cache")
            .get(&Self::key(seed, label, alg))
            .cloned()
    }
}

/// What the PKI takes from the cluster secrets ([`crate::secrets::Secrets::pki`] builds it):
/// the seed every key derives from, when kbc's CAs start, and the files it reuses instead of
/// issuing — an existing certificates directory's, merged with the secrets file's CA and
/// service-account pairs.
#[derive(Debug)]
pub struct PkiSecrets<'a> {
    pub seed: &'a Seed,
    /// `caIssuedAt`: without it the CAs start at the issue time.
    pub ca_issued_at: Option<IssueTime>,
    pub provided: Provided,
}

/// Every key the render of `input` derives (none for provided files), by label.
pub(crate) fn key_jobs(
    input: &PkiInput,
    secrets: &PkiSecrets,
) -> Vec<(String, EncryptionAlgorithm)> {
    issue::planned_keys(input, &secrets.provided)
}

/// Derives keys for `jobs` on `threads` threads (a shared work queue); results are in job
/// order whatever the completion order.
fn derive_keys(
    seed: &Seed,
    jobs: &[(String, EncryptionAlgorithm)],
    threads: usize,
) -> Vec<PrivateKey> {
    let slots: Vec<OnceLock<PrivateKey>> = jobs.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((label, alg)) = jobs.get(i) else {
            break;
        };
        let _ = slots[i].set(PrivateKey::derive(seed, label, *alg));
    };
    let n = threads.clamp(1, jobs.len().max(1));
    if n == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..n {
                s.spawn(work);
            }
        });
    }
    slots
        .into_iter()
        .map(|s| s.into_inner().expect("every job ran to completion"))
        .collect()
}

/// A CA ready to sign (or keyless, in external CA mode).
struct CaMaterial {
    id: CaId,
    cert: Cert,
    info: x509::CertInfo,
    cert_file: Vec<u8>,
    cert_origin: String,
    key: Option<PrivateKey>,
    key_file: Option<Vec<u8>>,
    name: rcgen::DistinguishedName,
    reused: bool,
}

impl CaMaterial {
    fn signer(&self) -> Option<Signer<'_>> {
        self.key.as_ref().map(|key| Signer {
            name: self.name.clone(),
            key_id: self.info.subject_key_id.clone(),
            key,
        })
    }
}

/// Rebuilds an rcgen name from a parsed certificate's subject; `None` if its encoding
/// cannot be reproduced (checked again byte for byte after signing).
fn name_from_der(der: &[u8]) -> Option<rcgen::DistinguishedName> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    let mut dn = rcgen::DistinguishedName::new();
    let mut seen = Vec::new();
    for rdn in cert.tbs_certificate.subject.iter() {
        let attrs: Vec<_> = rdn.iter().collect();
        if attrs.len() != 1 {
            return None;
        }
        let attr = attrs[0];
        let arcs: Vec<u64> = attr.attr_type().iter()?.collect();
        // An attribute type whose OID has no canonical encoding (a first arc above 2, found
        // by fuzzing) cannot be written again: rcgen's encoder would panic on it.
        let encodable = arcs.len() >= 2 && arcs[0] < 3 && (arcs[0] == 2 || arcs[1] < 40);
        if !encodable || seen.contains(&arcs) {
            return None;
        }
        seen.push(arcs.clone());
        let v = attr.attr_value();
        let s = std::str::from_utf8(v.data).ok()?.to_string();
        let value = match v.tag().0 {
            0x13 => {
                rcgen::DnValue::PrintableString(rcgen::string::PrintableString::try_from(s).ok()?)
            }
            0x0c => rcgen::DnValue::Utf8String(s),
            0x16 => rcgen::DnValue::Ia5String(rcgen::string::Ia5String::try_from(s).ok()?),
            _ => return None,
        };
        dn.push(rcgen::DnType::CustomDnType(arcs), value);
    }
    Some(dn)
}

fn build_err(name: &str) -> impl Fn(rcgen::Error) -> PkiError + '_ {
    move |e| PkiError::Build {
        name: name.to_string(),
        detail: e.to_string(),
    }
}

fn add_duration(t: OffsetDateTime, d: Duration) -> Result<OffsetDateTime, PkiError> {
    t.checked_add(time::Duration::try_from(d).map_err(|e| PkiError::Input(e.to_string()))?)
        .filter(|end| end.year() <= 9999)
        .ok_or_else(|| {
            PkiError::Input(format!(
                "the issue time plus a validity period ({}h) is after 9999-12-31T23:59:59Z, the \
                 last time a certificate can hold: lower the validity periods or the issue time",
                d.as_secs() / 3600
            ))
        })
}

fn summary(name: &str, file: &str, der: &[u8], reused: bool) -> Result<CertSummary, PkiError> {
    let info = Cert { der: der.to_vec() }
        .info()
        .map_err(|source| PkiError::BadCert {
            file: file.into(),
            source,
        })?;
    let secs = (info.not_after - info.not_before).whole_seconds().max(0) as u64;
    Ok(CertSummary {
        name: name.into(),
        file: file.into(),
        subject: info.subject,
        issuer: info.issuer,
        dns_names: info.dns_names,
        ip_addresses: info.ip_addresses,
        key_algorithm: info.key_algorithm,
        is_ca: info.is_ca,
        key_usages: info.key_usages,
        ext_key_usages: info.ext_key_usages,
        validity: Duration::from_secs(secs),
        reused,
    })
}

/// The full procedure, reusing `secrets.provided` (`--pki-dir`, the secrets file's CA pairs):
/// keys come from (and are added to) `keys` — `&KeyCache::new(threads)` for a render of its
/// own.
pub fn render(
    input: &PkiInput,
    secrets: &PkiSecrets,
    at: IssueTime,
    keys: &KeyCache,
) -> Result<PkiOutput, PkiError> {
    issue::render(input, secrets, at, keys)
}

/// Go's `VerifyHostname` for one required DNS name: an exact (case-insensitive) SAN, or a
/// `*.` SAN matching exactly one leftmost label (only for names without a `*`).
fn covers(sans: &[String], name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    sans.iter().any(|san| {
        let san = san.to_ascii_lowercase();
        if san == name {
            return true;
        }
        match (san.strip_prefix("*."), name.split_once('.')) {
            (Some(suffix), Some((label, rest))) => {
                !name.contains('*') && !label.is_empty() && rest == suffix
            }
            _ => false,
        }
    })
}

/// The issuer name written must equal the CA's subject byte for byte (Go chains by bytes).
fn check_issuer(der: &[u8], ca: &CaMaterial) -> Result<(), PkiError> {
    let info = Cert { der: der.to_vec() }
        .info()
        .map_err(|source| PkiError::BadCert {
            file: ca.cert_origin.clone(),
            source,
        })?;
    if info.raw_issuer != ca.info.raw_subject {
        return Err(PkiError::IssuerName {
            file: ca.cert_origin.clone(),
        });
    }
    Ok(())
}

/// `t` as RFC 3339 in UTC with whole seconds (`2026-11-25T12:00:00Z`), as Go's
/// `metav1.Time` and kubeadm print it; any year of the calendar.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn go_duration() {
        let mut c = super::CertSummary {
            name: String::new(),
            file: String::new(),
            subject: String::new(),
            issuer: String::new(),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            key_algorithm: String::new(),
            is_ca: false,
            key_usages: Vec::new(),
            ext_key_usages: Vec::new(),
            validity: std::time::Duration::from_secs(8760 * 3600 + 300),
            reused: false,
        };
        assert_eq!(c.validity_go(), "8760h5m0s");
        c.validity = std::time::Duration::from_secs(87600 * 3600 + 300);
        assert_eq!(c.validity_go(), "87600h5m0s");
    }

    #[test]
    fn hostname_coverage_follows_go() {
        let sans = vec!["*.example.com".to_string(), "Kubernetes".to_string()];
        assert!(covers(&sans, "api.example.com"));
        assert!(covers(&sans, "kubernetes"));
        assert!(!covers(&sans, "a.b.example.com"));
        assert!(!covers(&sans, "example.com"));
        assert!(covers(&sans, "*.example.com"));
    }
}
