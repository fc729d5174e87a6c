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

pub mod certs;
pub mod der;
pub mod existing;
pub mod expiration;
pub mod kdf;
pub mod keys;
pub mod kubeconfig;
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

use crate::secrets::Secrets;
use certs::{alt_names, applicable, AltNames, BuildParams, CertSpec, Signer};
use x509::Cert;

/// kubeadm's `CertificateBackdate`: NotBefore is the issue time minus five minutes.
pub const CERTIFICATE_BACKDATE: Duration = Duration::from_secs(5 * 60);

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

/// The thread count for key generation: `KBC_THREADS` if set to a positive number, else the
/// available parallelism. Output never depends on it.
pub fn threads_from_env() -> usize {
    std::env::var("KBC_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// Renders the PKI from seed and inputs alone (no existing files).
pub fn render(input: &PkiInput, secrets: &Secrets, at: IssueTime) -> Result<PkiOutput, PkiError> {
    render_with(input, secrets, at, &Provided::default(), threads_from_env())
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

/// A provided CA certificate: the first certificate, its facts, the file bytes, origin.
type LoadedCert = (Cert, x509::CertInfo, Vec<u8>, String);
/// A provided CA: id, certificate (if any), key and its file bytes (if any).
type LoadedCa = (CaId, Option<LoadedCert>, Option<(PrivateKey, Vec<u8>)>);

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

/// The full procedure with existing files (`--pki-dir`, secrets CA pairs) and an explicit
/// thread count.
pub fn render_with(
    input: &PkiInput,
    secrets: &Secrets,
    at: IssueTime,
    provided: &Provided,
    threads: usize,
) -> Result<PkiOutput, PkiError> {
    let provided = provided.with_secrets(secrets)?;
    let seed = &secrets.seed;
    let alg = input.encryption_algorithm;
    let start = at.at();
    let not_before = start - time::Duration::try_from(CERTIFICATE_BACKDATE).expect("5 minutes");
    let leaf_not_after = add_duration(start, input.cert_validity)?;
    let ca_not_after = add_duration(start, input.ca_validity)?;
    let mut warnings = Vec::new();

    let cert_dir = input
        .certificates_dir
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string();
    let pki_path = |rel: &str| {
        if cert_dir.is_empty() {
            rel.to_string()
        } else {
            format!("{cert_dir}/{rel}")
        }
    };

    // ---- 1. Load provided CAs and decide what must be generated. ----
    let specs: Vec<&'static CertSpec> = applicable(input).collect();
    let mut ca_loaded: Vec<LoadedCa> = Vec::new();
    for spec in specs.iter().filter(|s| s.is_ca.is_some()) {
        let id = spec.is_ca.expect("filtered on CAs");
        let crt_name = format!("{}.crt", spec.base);
        let key_name = format!("{}.key", spec.base);
        let Some(crt) = provided.get(&crt_name) else {
            ca_loaded.push((id, None, None));
            continue;
        };
        let chain = x509::parse_pem_chain(&crt.bytes).map_err(|source| PkiError::BadCert {
            file: crt.origin.clone(),
            source,
        })?;
        let infos = chain
            .iter()
            .map(x509::Cert::info)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| PkiError::BadCert {
                file: crt.origin.clone(),
                source,
            })?;
        let cert = chain
            .into_iter()
            .next()
            .expect("parse_pem_chain returns at least one");
        let info = infos[0].clone();
        if !info.is_ca {
            return Err(PkiError::NotCa {
                file: crt.origin.clone(),
                name: id.name().into(),
            });
        }
        if let Some(reason) = x509::ca_unusable(&infos) {
            return Err(PkiError::CaUnusable {
                file: crt.origin.clone(),
                name: id.name().into(),
                reason,
            });
        }
        if info.not_after < start {
            return Err(PkiError::CaExpired {
                file: crt.origin.clone(),
                name: id.name().into(),
                not_after: info.not_after,
                at: start,
            });
        }
        if info.not_before > start {
            warnings.push(format!(
                "{}: the {} certificate is not valid before {}",
                crt.origin,
                id.name(),
                info.not_before
            ));
        }
        let key = match provided.get(&key_name) {
            Some(k) => {
                let key = PrivateKey::from_pem(&k.bytes).map_err(|source| PkiError::BadKey {
                    file: k.origin.clone(),
                    source,
                })?;
                if info.spki != key.spki_der() {
                    return Err(PkiError::KeyMismatch {
                        cert_file: crt.origin.clone(),
                        key_file: k.origin.clone(),
                    });
                }
                Some((key, k.bytes.clone()))
            }
            None => None,
        };
        ca_loaded.push((
            id,
            Some((cert, info, crt.bytes.clone(), crt.origin.clone())),
            key,
        ));
    }

    let external: Vec<CaId> = ca_loaded
        .iter()
        .filter(|(_, c, k)| c.is_some() && k.is_none())
        .map(|(id, _, _)| *id)
        .collect();

    // Missing files in external CA mode: one error listing all.
    let mut missing = Vec::new();
    for spec in specs
        .iter()
        .filter(|s| s.ca.is_some_and(|c| external.contains(&c)))
    {
        for ext in ["crt", "key"] {
            let n = format!("{}.{ext}", spec.base);
            if provided.get(&n).is_none() {
                missing.push(n);
            }
        }
    }
    if external.contains(&CaId::Ca) {
        if provided.get("sa.key").is_none() {
            missing.push("sa.key".into());
        }
        for k in kubeconfig::KUBECONFIGS {
            if provided.get(k.file).is_none() {
                missing.push(k.file.into());
            }
        }
    }
    if !missing.is_empty() {
        return Err(PkiError::ExternalCaMissing {
            cas: external
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", "),
            missing,
        });
    }

    // Key jobs, in a fixed order.
    let mut jobs: Vec<(String, EncryptionAlgorithm)> = Vec::new();
    let key_label = |base: &str| format!("kbc/v1/pki/{base}.key/{alg}");
    for spec in &specs {
        if provided.get(&format!("{}.crt", spec.base)).is_none() {
            jobs.push((key_label(spec.base), alg));
        }
    }
    if provided.get("sa.key").is_none() {
        jobs.push((key_label("sa"), alg));
    }
    for k in kubeconfig::KUBECONFIGS {
        if provided.get(k.file).is_none() {
            jobs.push((format!("kbc/v1/kubeconfig/{}/{alg}", k.file), alg));
        }
    }

    // ---- 2. Keys, in parallel. ----
    let keys = derive_keys(seed, &jobs, threads);
    let mut keys_by_label: std::collections::BTreeMap<String, PrivateKey> =
        jobs.iter().map(|(l, _)| l.clone()).zip(keys).collect();
    let mut take_key = |label: &str| {
        keys_by_label
            .remove(label)
            .expect("a key was derived for every planned label")
    };

    let mut artifacts = Vec::new();
    let mut summaries = Vec::new();
    let mut cas: Vec<CaMaterial> = Vec::new();

    // ---- 3. CAs and leaves in phase order. ----
    for spec in &specs {
        let crt_rel = format!("{}.crt", spec.base);
        let key_rel = format!("{}.key", spec.base);
        if let Some(id) = spec.is_ca {
            let (_, loaded, key) = ca_loaded
                .iter()
                .find(|(i, _, _)| *i == id)
                .expect("every applicable CA was examined");
            let material = match loaded {
                Some((cert, info, file, origin)) => {
                    let name = name_from_der(&cert.der).ok_or_else(|| PkiError::IssuerName {
                        file: origin.clone(),
                    })?;
                    CaMaterial {
                        id,
                        cert: cert.clone(),
                        info: info.clone(),
                        cert_file: file.clone(),
                        cert_origin: origin.clone(),
                        key: key.as_ref().map(|(k, _)| k.clone()),
                        key_file: key.as_ref().map(|(_, b)| b.clone()),
                        name,
                        reused: true,
                    }
                }
                None => {
                    let key = take_key(&key_label(spec.base));
                    let cn = spec.common_name(input);
                    let params = BuildParams {
                        cn: cn.clone(),
                        org: spec.org.map(str::to_string),
                        serial: seed.serial(&format!("kbc/v1/pki/{crt_rel}/serial")),
                        not_before,
                        not_after: ca_not_after,
                        is_ca: true,
                        ekus: Vec::new(),
                        alt: alt_names(spec, input, &mut warnings).map_err(PkiError::Input)?,
                    };
                    let der = certs::build(&params, &key, None).map_err(build_err(spec.name))?;
                    let cert = Cert { der };
                    let info = cert.info().map_err(|source| PkiError::BadCert {
                        file: crt_rel.clone(),
                        source,
                    })?;
                    CaMaterial {
                        id,
                        cert_file: cert.to_pem(),
                        cert,
                        info,
                        cert_origin: crt_rel.clone(),
                        key_file: Some(key.to_pem()),
                        key: Some(key),
                        name: certs::subject_name(&cn, spec.org),
                        reused: false,
                    }
                }
            };
            if let Some(kf) = &material.key_file {
                artifacts.push(Artifact {
                    path: pki_path(&key_rel),
                    kubeadm_path: format!("pki/{key_rel}"),
                    mode: 0o600,
                    bytes: kf.clone(),
                    secret: true,
                });
            }
            artifacts.push(Artifact {
                path: pki_path(&crt_rel),
                kubeadm_path: format!("pki/{crt_rel}"),
                mode: 0o644,
                bytes: material.cert_file.clone(),
                secret: false,
            });
            summaries.push(summary(
                spec.name,
                &format!("pki/{crt_rel}"),
                &material.cert.der,
                material.reused,
            )?);
            cas.push(material);
            continue;
        }

        // A leaf.
        let ca_id = spec.ca.expect("a row is a CA or has one");
        let ca = cas
            .iter()
            .find(|c| c.id == ca_id)
            .expect("CAs precede their leaves in CERTS");
        let alt = alt_names(spec, input, &mut warnings).map_err(PkiError::Input)?;
        let (cert_bytes, key_bytes, der, reused) = match provided.get(&crt_rel) {
            Some(crt) => {
                let key = provided.get(&key_rel).ok_or_else(|| PkiError::Incomplete {
                    file: crt.origin.clone(),
                    missing: key_rel.clone(),
                })?;
                let bad = |source| PkiError::BadCert {
                    file: crt.origin.clone(),
                    source,
                };
                let chain = x509::parse_pem_chain(&crt.bytes).map_err(bad)?;
                let cert = &chain[0];
                let info = cert.info().map_err(bad)?;
                let pk = PrivateKey::from_pem(&key.bytes).map_err(|source| PkiError::BadKey {
                    file: key.origin.clone(),
                    source,
                })?;
                if info.spki != pk.spki_der() {
                    return Err(PkiError::KeyMismatch {
                        cert_file: crt.origin.clone(),
                        key_file: key.origin.clone(),
                    });
                }
                if !cert.is_signed_by(&ca.cert).map_err(bad)? {
                    return Err(PkiError::NotSignedBy {
                        file: crt.origin.clone(),
                        ca: ca.id.name().into(),
                    });
                }
                let mut lacking: Vec<String> = alt
                    .dns
                    .iter()
                    .filter(|d| !covers(&info.dns_names, d))
                    .cloned()
                    .collect();
                lacking.extend(
                    alt.ips
                        .iter()
                        .filter(|ip| !info.ip_addresses.contains(ip))
                        .map(|ip| ip.to_string()),
                );
                if !lacking.is_empty() {
                    return Err(PkiError::MissingSans {
                        file: crt.origin.clone(),
                        missing: lacking.join(", "),
                    });
                }
                if info.not_after < start {
                    warnings.push(format!(
                        "{}: the existing certificate expired at {}",
                        crt.origin, info.not_after
                    ));
                }
                (crt.bytes.clone(), key.bytes.clone(), cert.der.clone(), true)
            }
            None => {
                if let Some(k) = provided.get(&key_rel) {
                    return Err(PkiError::Incomplete {
                        file: k.origin.clone(),
                        missing: crt_rel.clone(),
                    });
                }
                let key = take_key(&key_label(spec.base));
                let params = BuildParams {
                    cn: spec.common_name(input),
                    org: spec.org.map(str::to_string),
                    serial: seed.serial(&format!("kbc/v1/pki/{crt_rel}/serial")),
                    not_before,
                    not_after: leaf_not_after,
                    is_ca: false,
                    ekus: spec.ekus.to_vec(),
                    alt,
                };
                let signer = ca.signer().expect("external CA leaves are provided");
                let der =
                    certs::build(&params, &key, Some(&signer)).map_err(build_err(spec.name))?;
                check_issuer(&der, ca)?;
                let pem = Cert { der: der.clone() }.to_pem();
                (pem, key.to_pem(), der, false)
            }
        };
        artifacts.push(Artifact {
            path: pki_path(&key_rel),
            kubeadm_path: format!("pki/{key_rel}"),
            mode: 0o600,
            bytes: key_bytes,
            secret: true,
        });
        artifacts.push(Artifact {
            path: pki_path(&crt_rel),
            kubeadm_path: format!("pki/{crt_rel}"),
            mode: 0o644,
            bytes: cert_bytes,
            secret: false,
        });
        summaries.push(summary(spec.name, &format!("pki/{crt_rel}"), &der, reused)?);
    }

    // ---- 4. Service-account key pair. ----
    let (sa_key, sa_pub) = match provided.get("sa.key") {
        Some(k) => {
            let key = PrivateKey::from_pem(&k.bytes).map_err(|source| PkiError::BadKey {
                file: k.origin.clone(),
                source,
            })?;
            let public = match provided.get("sa.pub") {
                Some(p) => {
                    let derived = key.public_key_pem();
                    let given = pem::parse(&p.bytes).map_err(|e| PkiError::Read {
                        file: p.origin.clone(),
                        detail: format!("malformed PEM: {e}"),
                    })?;
                    if given.tag() != "PUBLIC KEY" || given.contents() != key.spki_der() {
                        let _ = derived;
                        return Err(PkiError::KeyMismatch {
                            cert_file: p.origin.clone(),
                            key_file: k.origin.clone(),
                        });
                    }
                    p.bytes.clone()
                }
                None => key.public_key_pem(),
            };
            (k.bytes.clone(), public)
        }
        None => {
            let key = take_key(&key_label("sa"));
            (key.to_pem(), key.public_key_pem())
        }
    };
    artifacts.push(Artifact {
        path: pki_path("sa.key"),
        kubeadm_path: "pki/sa.key".into(),
        mode: 0o600,
        bytes: sa_key,
        secret: true,
    });
    artifacts.push(Artifact {
        path: pki_path("sa.pub"),
        kubeadm_path: "pki/sa.pub".into(),
        mode: 0o600,
        bytes: sa_pub,
        secret: false,
    });

    // ---- 5. Kubeconfigs. ----
    let ca = cas
        .iter()
        .find(|c| c.id == CaId::Ca)
        .expect("the ca row is always applicable");
    let ca_pem = ca.cert.to_pem();
    for k in kubeconfig::KUBECONFIGS {
        let server = k.server_url(input);
        let (bytes, der, reused) = match provided.get(k.file) {
            Some(existing) => {
                let bad = |detail: String| PkiError::BadKubeconfig {
                    file: existing.origin.clone(),
                    detail,
                };
                let parsed = kubeconfig::parse(&existing.bytes).map_err(bad)?;
                if parsed.ca_data.trim_ascii() != ca_pem.trim_ascii() {
                    return Err(bad(format!(
                        "the kubeconfig exists but carries another CA certificate than {}",
                        ca.cert_origin
                    )));
                }
                if parsed.server != server {
                    warnings.push(format!(
                        "{}: the server URL is {:?}, kubeadm would write {:?}",
                        existing.origin, parsed.server, server
                    ));
                }
                let der = if parsed.client_cert.is_empty() {
                    None
                } else {
                    Some(
                        x509::parse_pem_chain(&parsed.client_cert)
                            .map_err(|e| bad(format!("client-certificate-data: {e}")))?[0]
                            .der
                            .clone(),
                    )
                };
                (existing.bytes.clone(), der, true)
            }
            None => {
                let key = take_key(&format!("kbc/v1/kubeconfig/{}/{alg}", k.file));
                let user = k.common_name(input);
                let params = BuildParams {
                    cn: user.clone(),
                    org: k.org.map(str::to_string),
                    serial: seed.serial(&format!("kbc/v1/kubeconfig/{}/serial", k.file)),
                    not_before: ca.info.not_before,
                    not_after: leaf_not_after,
                    is_ca: false,
                    ekus: vec![certs::Eku::ClientAuth],
                    alt: AltNames::default(),
                };
                let signer = ca.signer().expect("external CA kubeconfigs are provided");
                let der = certs::build(&params, &key, Some(&signer)).map_err(build_err(k.file))?;
                check_issuer(&der, ca)?;
                let cert_pem = Cert { der: der.clone() }.to_pem();
                let bytes = kubeconfig::render(
                    &input.cluster_name,
                    &server,
                    &user,
                    &ca_pem,
                    &cert_pem,
                    &key.to_pem(),
                );
                (bytes, Some(der), false)
            }
        };
        artifacts.push(Artifact {
            path: format!("etc/kubernetes/{}", k.file),
            kubeadm_path: k.file.to_string(),
            mode: 0o600,
            bytes,
            secret: true,
        });
        if let Some(der) = der {
            summaries.push(summary(k.file, k.file, &der, reused)?);
        }
    }

    let discovery_token_ca_cert_hash = format!("sha256:{}", hex(&Sha256::digest(&ca.info.spki)));
    Ok(PkiOutput {
        artifacts,
        certificates: summaries,
        warnings,
        discovery_token_ca_cert_hash,
        external_cas: external,
    })
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
pub fn rfc3339(t: OffsetDateTime) -> String {
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
