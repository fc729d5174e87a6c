//! The cluster secrets file (`kbc secrets generate`): the root seed every key is derived
//! from, plus optional user-supplied CA certificate/key pairs and the service-account key.
//!
//! Format `kbc.secrets/v1` (YAML, one document; unknown fields are rejected):
//!
//! ```yaml
//! version: kbc.secrets/v1
//! seed: 64 lower-case hex digits (256 bits)
//! caIssuedAt: "2026-12-05T10:00:00Z"  # optional: when kbc's CAs start (5 minutes earlier)
//! ca:                 # optional, like dropping ca.crt/ca.key into kubeadm's cert dir
//!   certificate: |    # PEM; may hold a chain, the first certificate is the CA
//!     -----BEGIN CERTIFICATE-----
//!   key: |            # PEM: PKCS#1, SEC 1 or PKCS#8; RSA or ECDSA
//!     (the PEM of the CA's private key)
//! frontProxyCA: {certificate: ..., key: ...}   # optional
//! etcdCA: {certificate: ..., key: ...}         # optional
//! serviceAccount:     # optional, like sa.key/sa.pub
//!   key: |
//!   publicKey: |      # optional; derived from key when absent, must match when given
//! externalEtcd:       # optional: etcd.external's caFile, certFile, keyFile (PEM)
//!   ca: |
//!   certificate: |
//!   key: |
//! ```
//!
//! The file is written with mode 0600 and never overwritten without `--force`.

use serde::Serialize;

use crate::pki::kdf::Seed;
use crate::pki::keys::PrivateKey;
use crate::pki::x509;
use crate::pki::{CaId, IssueTime, PkiError, PkiSecrets, Provided, ProvidedFile};
use crate::yaml::node::Pos;

mod decode;

/// The only version this kbc reads and writes.
pub(crate) const VERSION: &str = "kbc.secrets/v1";

/// A CA certificate (PEM, possibly a chain) and its private key (PEM).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CaPair {
    /// PEM certificate(s).
    pub certificate: String,
    /// PEM private key.
    pub key: String,
}

impl std::fmt::Debug for CaPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaPair")
            .field("certificate", &self.certificate)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// The service-account signing key and (optionally) its public key.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct SaPair {
    /// PEM private key.
    pub key: String,
    /// PEM `PUBLIC KEY`.
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl std::fmt::Debug for SaPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaPair")
            .field("key", &"<redacted>")
            .field("public_key", &self.public_key)
            .finish()
    }
}

/// The client files of an external etcd cluster (`etcd.external.caFile`, `certFile`,
/// `keyFile`): kbc installs them at those paths and uploads them with `--upload-certs`, as
/// kubeadm uploads the files it finds there.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ExternalEtcdFiles {
    /// PEM of the etcd CA certificate.
    pub ca: String,
    /// PEM of the client certificate.
    pub certificate: String,
    /// PEM of the client key.
    pub key: String,
}

impl std::fmt::Debug for ExternalEtcdFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalEtcdFiles")
            .field("ca", &self.ca)
            .field("certificate", &self.certificate)
            .field("key", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
struct File {
    version: String,
    seed: String,
    #[serde(
        rename = "caIssuedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    ca_issued_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca: Option<CaPair>,
    #[serde(
        rename = "frontProxyCA",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    front_proxy_ca: Option<CaPair>,
    #[serde(rename = "etcdCA", default, skip_serializing_if = "Option::is_none")]
    etcd_ca: Option<CaPair>,
    #[serde(
        rename = "serviceAccount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    service_account: Option<SaPair>,
    #[serde(
        rename = "externalEtcd",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    external_etcd: Option<ExternalEtcdFiles>,
}

/// The cluster secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    /// The root seed.
    pub seed: Seed,
    /// When the CAs kbc issues start (`caIssuedAt`): with it, the CA certificates depend
    /// on the secrets alone, whatever `--issued-at` a bundle is compiled with. Without it
    /// (files of older kbc) they start at the issue time, as kubeadm's do.
    pub ca_issued_at: Option<IssueTime>,
    /// User-supplied `ca`.
    pub ca: Option<CaPair>,
    /// User-supplied `front-proxy-ca`.
    pub front_proxy_ca: Option<CaPair>,
    /// User-supplied `etcd/ca`.
    pub etcd_ca: Option<CaPair>,
    /// User-supplied `sa.key` (and `sa.pub`).
    pub service_account: Option<SaPair>,
    /// The external etcd client files, when the cluster uses one.
    pub external_etcd: Option<ExternalEtcdFiles>,
    /// Where these secrets came from (a file name), for error messages.
    pub origin: String,
}

/// Why a secrets file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// I/O on the file.
    #[error("{path}: cannot access the file")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not YAML of the expected shape. The file holds the seed and private keys, so the
    /// detail is kbc's own wording (field names of the format, kinds of values) and never
    /// quotes the file: a snippet of it would leak key material into CI logs.
    #[error("{path}:{pos}: not a kbc secrets file: {detail}")]
    Syntax {
        /// The file.
        path: String,
        /// Where in the file.
        pos: Pos,
        /// What is wrong, without the file's text.
        detail: String,
    },
    /// The seed is not 64 hex digits.
    #[error("{path}: seed must be 64 hex digits (256 bits), got {detail}")]
    Seed {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// `caIssuedAt` is not an RFC 3339 time kbc can issue at.
    #[error("{path}: caIssuedAt: {detail}")]
    CaIssuedAt {
        /// The file.
        path: String,
        /// What is wrong (the value is a time, never key material).
        detail: String,
    },
    /// Refusing to overwrite.
    #[error("{path}: file exists; pass --force to overwrite it")]
    Exists {
        /// The file.
        path: String,
    },
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_seed(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{} characters that are not all hex digits",
            s.len()
        ));
    }
    if s.len() != 64 {
        return Err(format!("{} hex digits", s.len()));
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

impl Secrets {
    /// What the PKI takes from these secrets, with `base`'s files and this file's pairs to
    /// reuse ([`Secrets::provided`]).
    pub fn pki(&self, base: &Provided) -> Result<PkiSecrets<'_>, PkiError> {
        Ok(PkiSecrets {
            seed: &self.seed,
            ca_issued_at: self.ca_issued_at,
            provided: self.provided(base)?,
        })
    }

    /// `base` (an existing certificates directory, or nothing) with this file's CA and
    /// service-account pairs added. A name already provided with other bytes is a conflict.
    pub fn provided(&self, base: &Provided) -> Result<Provided, PkiError> {
        let secrets = self;
        let mut out = base.clone();
        let mut add = |name: String, field: &str, bytes: &str| -> Result<(), PkiError> {
            let origin = format!("{} ({field})", secrets.origin);
            if let Some(existing) = out.files.get(&name) {
                if existing.bytes != bytes.as_bytes() {
                    return Err(PkiError::Conflict {
                        file: existing.origin.clone(),
                        other: origin,
                    });
                }
                return Ok(());
            }
            out.files.insert(
                name,
                ProvidedFile {
                    bytes: bytes.as_bytes().to_vec(),
                    origin,
                },
            );
            Ok(())
        };
        let cas = [
            (CaId::Ca, "ca", &secrets.ca),
            (CaId::FrontProxyCa, "frontProxyCA", &secrets.front_proxy_ca),
            (CaId::EtcdCa, "etcdCA", &secrets.etcd_ca),
        ];
        for (id, field, pair) in cas {
            if let Some(pair) = pair {
                add(
                    format!("{}.crt", id.base()),
                    &format!("{field}.certificate"),
                    &pair.certificate,
                )?;
                add(
                    format!("{}.key", id.base()),
                    &format!("{field}.key"),
                    &pair.key,
                )?;
            }
        }
        if let Some(sa) = &secrets.service_account {
            add("sa.key".into(), "serviceAccount.key", &sa.key)?;
            if let Some(p) = &sa.public_key {
                add("sa.pub".into(), "serviceAccount.publicKey", p)?;
            }
        }
        Ok(out)
    }

    /// Secrets with only a seed.
    pub fn from_seed(seed: [u8; 32]) -> Secrets {
        Secrets {
            seed: Seed(seed),
            ca_issued_at: None,
            ca: None,
            front_proxy_ca: None,
            etcd_ca: None,
            service_account: None,
            external_etcd: None,
            origin: "<memory>".into(),
        }
    }

    /// A fresh random seed from the operating system.
    pub fn generate() -> Result<Secrets, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        Ok(Self::from_seed(seed))
    }

    /// Parses the YAML text of a secrets file; `origin` names it in errors. Errors give a
    /// position and kbc's own words, never the file's text (see [`SecretsError::Syntax`]).
    pub fn parse(text: &str, origin: &str) -> Result<Secrets, SecretsError> {
        let f = decode::file(text).map_err(|e| SecretsError::Syntax {
            path: origin.into(),
            pos: e.pos,
            detail: e.message,
        })?;
        let seed = parse_seed(&f.seed).map_err(|detail| SecretsError::Seed {
            path: origin.into(),
            detail,
        })?;
        let ca_issued_at = match &f.ca_issued_at {
            Some(t) => Some(
                IssueTime::parse_rfc3339(t).map_err(|e| SecretsError::CaIssuedAt {
                    path: origin.into(),
                    detail: e.to_string(),
                })?,
            ),
            None => None,
        };
        Ok(Secrets {
            seed: Seed(seed),
            ca_issued_at,
            ca: f.ca,
            front_proxy_ca: f.front_proxy_ca,
            etcd_ca: f.etcd_ca,
            service_account: f.service_account,
            external_etcd: f.external_etcd,
            origin: origin.into(),
        })
    }

    /// The file text. It holds the seed: treat it as a secret.
    pub fn to_yaml(&self) -> String {
        let f = File {
            version: VERSION.into(),
            seed: hex(&self.seed.0),
            ca_issued_at: self.ca_issued_at.map(IssueTime::to_rfc3339),
            ca: self.ca.clone(),
            front_proxy_ca: self.front_proxy_ca.clone(),
            etcd_ca: self.etcd_ca.clone(),
            service_account: self.service_account.clone(),
            external_etcd: self.external_etcd.clone(),
        };
        let opts = serde_saphyr::ser_options! {
            folded_wrap_chars: usize::MAX,
        };
        let body = serde_saphyr::to_string_with_options(&f, opts)
            .expect("the secrets file holds only strings");
        format!(
            "# kbc cluster secrets: every key of the cluster derives from this file.\n\
             # Keep it private (mode 0600) and backed up.\n{body}"
        )
    }
}

/// Why a user-supplied file was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    /// Unreadable or not UTF-8.
    #[error("{file}: {detail}")]
    Read {
        /// The file.
        file: String,
        /// Cause.
        detail: String,
    },
    /// Not a usable certificate.
    #[error("{file}: unusable certificate")]
    Cert {
        /// The file.
        file: String,
        /// Cause.
        #[source]
        source: x509::CertError,
    },
    /// Not a usable key.
    #[error("{file}: unusable key")]
    Key {
        /// The file.
        file: String,
        /// Cause.
        #[source]
        source: crate::pki::keys::KeyError,
    },
    /// A CA certificate without the CA flag.
    #[error(
        "{file}: the certificate is not a certificate authority (basicConstraints cA is not set)"
    )]
    NotCa {
        /// The file.
        file: String,
    },
    /// A CA that could sign nothing that verifies.
    #[error("{file}: the certificate cannot be used as a CA: {reason}")]
    CaUnusable {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A key that does not belong to the certificate.
    #[error("{key}: the private key does not match {cert}")]
    Mismatch {
        /// The key file.
        key: String,
        /// The certificate (or public key) file.
        cert: String,
    },
}

/// A user-supplied file as read (`edge::read_input_text`): its name for messages and its
/// text. The checks below read nothing themselves.
#[derive(Debug, Clone)]
pub struct InputText {
    pub name: String,
    pub text: String,
}

/// Reads and checks a CA pair: the certificate parses and is a CA, the key parses and
/// matches it.
pub fn ca_pair(cert: InputText, key: InputText) -> Result<CaPair, InputFileError> {
    let (cname, cert_text) = (cert.name, cert.text);
    let (kname, key_text) = (key.name, key.text);
    let chain =
        x509::parse_pem_chain(cert_text.as_bytes()).map_err(|source| InputFileError::Cert {
            file: cname.clone(),
            source,
        })?;
    let info = chain[0].info().map_err(|source| InputFileError::Cert {
        file: cname.clone(),
        source,
    })?;
    if !info.is_ca {
        return Err(InputFileError::NotCa { file: cname });
    }
    let infos = chain
        .iter()
        .map(x509::Cert::info)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| InputFileError::Cert {
            file: cname.clone(),
            source,
        })?;
    if let Some(reason) = x509::ca_unusable(&infos) {
        return Err(InputFileError::CaUnusable {
            file: cname,
            reason,
        });
    }
    let pk = PrivateKey::from_pem(key_text.as_bytes()).map_err(|source| InputFileError::Key {
        file: kname.clone(),
        source,
    })?;
    if pk.spki_der() != info.spki {
        return Err(InputFileError::Mismatch {
            key: kname,
            cert: cname,
        });
    }
    Ok(CaPair {
        certificate: cert_text,
        key: key_text,
    })
}

/// Reads and checks external etcd's client files: the CA and the client certificate parse,
/// and the key belongs to the client certificate.
pub(crate) fn external_etcd(
    ca: InputText,
    cert: InputText,
    key: InputText,
) -> Result<ExternalEtcdFiles, InputFileError> {
    let cert_error = |name: &str| {
        let file = name.to_string();
        move |source| InputFileError::Cert { file, source }
    };
    let ca_text = ca.text;
    x509::parse_pem_chain(ca_text.as_bytes()).map_err(cert_error(&ca.name))?;
    let cert_text = cert.text;
    let chain = x509::parse_pem_chain(cert_text.as_bytes()).map_err(cert_error(&cert.name))?;
    let info = chain[0].info().map_err(cert_error(&cert.name))?;
    let (kname, key_text) = (key.name, key.text);
    let pk = PrivateKey::from_pem(key_text.as_bytes()).map_err(|source| InputFileError::Key {
        file: kname.clone(),
        source,
    })?;
    if pk.spki_der() != info.spki {
        return Err(InputFileError::Mismatch {
            key: kname,
            cert: cert.name,
        });
    }
    Ok(ExternalEtcdFiles {
        ca: ca_text,
        certificate: cert_text,
        key: key_text,
    })
}

/// Reads and checks the service-account pair.
pub fn sa_pair(key: InputText, public: Option<InputText>) -> Result<SaPair, InputFileError> {
    let (kname, key_text) = (key.name, key.text);
    let pk = PrivateKey::from_pem(key_text.as_bytes()).map_err(|source| InputFileError::Key {
        file: kname.clone(),
        source,
    })?;
    let public_key = match public {
        Some(p) => {
            let (pname, text) = (p.name, p.text);
            let block = pem::parse(text.as_bytes()).map_err(|e| InputFileError::Read {
                file: pname.clone(),
                detail: format!("malformed PEM: {e}"),
            })?;
            if block.tag() != "PUBLIC KEY" || block.contents() != pk.spki_der() {
                return Err(InputFileError::Mismatch {
                    key: kname,
                    cert: pname,
                });
            }
            Some(text)
        }
        None => None,
    };
    Ok(SaPair {
        key: key_text,
        public_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let mut s = Secrets::from_seed([0xab; 32]);
        s.ca = Some(CaPair {
            certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            // Not a key: a dummy PEM block (the type is assembled so scanners do not flag it).
            key: format!(
                "-----BEGIN {0}-----\nAAAA\n-----END {0}-----\n",
                "PRIVATE KEY"
            ),
        });
        let text = s.to_yaml();
        let back = Secrets::parse(&text, "x").unwrap();
        assert_eq!(back.seed, s.seed);
        assert_eq!(back.ca, s.ca);
    }

    #[test]
    fn bad_version_and_seed() {
        let e = Secrets::parse("version: kbc.secrets/v9\nseed: aa\n", "s.yaml").unwrap_err();
        assert!(e.to_string().contains("unknown secrets version"), "{e}");
        assert!(e.to_string().starts_with("s.yaml:1:10: "), "{e}");
        assert!(e.to_string().contains("\"kbc.secrets/v9\""), "{e}");
        let e = Secrets::parse("version: kbc.secrets/v1\nseed: abcd\n", "s.yaml").unwrap_err();
        assert!(e.to_string().contains("64 hex digits"), "{e}");
    }
}
