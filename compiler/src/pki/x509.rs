//! Reading certificates: PEM chains, the facts kbc checks on user-supplied and existing
//! certificates (CA flag, validity, key match, signature), and the summary used by the
//! review rendering.

use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::keys::PrivateKey;

/// A parsed certificate, owning its DER.
#[derive(Clone, Debug)]
pub struct Cert {
    /// The DER bytes.
    pub der: Vec<u8>,
}

/// Facts read from a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// Raw DER of the subject Name.
    pub raw_subject: Vec<u8>,
    /// Raw DER of the issuer Name.
    pub raw_issuer: Vec<u8>,
    /// Subject as `O=…, CN=…` in encoded order.
    pub subject: String,
    /// Issuer, same form.
    pub issuer: String,
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// BasicConstraints cA.
    pub is_ca: bool,
    /// SubjectKeyIdentifier, if present.
    pub subject_key_id: Option<Vec<u8>>,
    /// NotBefore.
    pub not_before: OffsetDateTime,
    /// NotAfter.
    pub not_after: OffsetDateTime,
    /// DNS SANs in certificate order.
    pub dns_names: Vec<String>,
    /// IP SANs in certificate order.
    pub ip_addresses: Vec<IpAddr>,
    /// Key usages, e.g. `digitalSignature`.
    pub key_usages: Vec<String>,
    /// Whether the certificate has a keyUsage extension at all (without one, every usage
    /// is allowed).
    pub has_key_usage: bool,
    /// BasicConstraints pathLenConstraint, if set.
    pub path_len: Option<u32>,
    /// Extended key usages, e.g. `serverAuth`.
    pub ext_key_usages: Vec<String>,
    /// `RSA 2048`, `ECDSA P-256`, …
    pub key_algorithm: String,
    /// Serial as lower-case hex.
    pub serial_hex: String,
}

/// Why a certificate could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// No `CERTIFICATE` PEM block.
    #[error("no PEM-encoded certificate found")]
    NoCertificate,
    /// Malformed PEM armour.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// DER that x509-parser rejects.
    #[error("malformed certificate: {0}")]
    Der(String),
}

/// All `CERTIFICATE` blocks of a PEM file, in order (a `.crt` may hold a chain; the first is
/// the certificate itself).
pub fn parse_pem_chain(bytes: &[u8]) -> Result<Vec<Cert>, CertError> {
    let blocks = pem::parse_many(bytes).map_err(|e| CertError::Pem(e.to_string()))?;
    let certs: Vec<Cert> = blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| Cert {
            der: b.into_contents(),
        })
        .collect();
    if certs.is_empty() {
        return Err(CertError::NoCertificate);
    }
    for c in &certs {
        c.info()?;
    }
    Ok(certs)
}

fn name_string(name: &x509_parser::x509::X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let short = match attr.attr_type().to_id_string().as_str() {
                "2.5.4.3" => "CN".to_string(),
                "2.5.4.10" => "O".to_string(),
                "2.5.4.11" => "OU".to_string(),
                "2.5.4.6" => "C".to_string(),
                "2.5.4.7" => "L".to_string(),
                "2.5.4.8" => "ST".to_string(),
                other => other.to_string(),
            };
            let value = attr.as_str().map(str::to_string).unwrap_or_else(|_| {
                attr.attr_value()
                    .data
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            });
            parts.push(format!("{short}={value}"));
        }
    }
    parts.join(", ")
}

/// The EKU OIDs in encoded order (x509-parser keeps flags only).
fn eku_order(value: &[u8]) -> Vec<String> {
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let l0 = *b.get(1)? as usize;
        let (len, hdr) = if l0 < 0x80 {
            (l0, 2)
        } else {
            let n = l0 & 0x7f;
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | *b.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        let body = b.get(hdr..hdr + len)?;
        Some((tag, body, &b[hdr + len..]))
    }
    let mut out = Vec::new();
    let Some((0x30, mut rest, _)) = tlv(value) else {
        return out;
    };
    while let Some((tag, body, next)) = tlv(rest) {
        if tag == 0x06 {
            out.push(match body {
                [0x2b, 6, 1, 5, 5, 7, 3, 1] => "serverAuth".to_string(),
                [0x2b, 6, 1, 5, 5, 7, 3, 2] => "clientAuth".to_string(),
                _ => x509_parser::oid_registry::Oid::new(body.into()).to_id_string(),
            });
        }
        rest = next;
    }
    out
}

fn key_algorithm(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256".into(),
                Some("1.3.132.0.34") => "ECDSA P-384".into(),
                Some("1.3.132.0.35") => "ECDSA P-521".into(),
                Some(o) => format!("ECDSA {o}"),
                None => "ECDSA".into(),
            }
        }
        _ => spki.algorithm.algorithm.to_id_string(),
    }
}

/// Why a CA certificate (with the chain above it in its file) cannot sign what kubeadm
/// makes with it, as Go's and OpenSSL's verifiers would decide at run time; `None` if it
/// can. Element 0 of `chain` is the CA itself.
pub(crate) fn ca_unusable(chain: &[CertInfo]) -> Option<String> {
    let ca = chain.first()?;
    if ca.has_key_usage && !ca.key_usages.iter().any(|u| u == "keyCertSign") {
        return Some(
            "its keyUsage does not include keyCertSign, so no certificate it signs verifies".into(),
        );
    }
    // The leaves kbc signs are not counted; the CAs below chain[k] are chain[..k].
    for (k, above) in chain.iter().enumerate().skip(1) {
        if let Some(limit) = above.path_len {
            if (k as u32) > limit {
                return Some(format!(
                    "certificate {} of the file ({}) allows {limit} CA certificate(s) below it, and there are {k}: the path length constraint is exceeded",
                    k + 1,
                    above.subject
                ));
            }
        }
    }
    None
}

impl Cert {
    fn parsed(&self) -> Result<X509Certificate<'_>, CertError> {
        let (rest, cert) =
            X509Certificate::from_der(&self.der).map_err(|e| CertError::Der(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertError::Der("trailing data after the certificate".into()));
        }
        Ok(cert)
    }

    /// Reads the facts kbc needs.
    pub fn info(&self) -> Result<CertInfo, CertError> {
        let c = self.parsed()?;
        let tbs = &c.tbs_certificate;
        let mut info = CertInfo {
            raw_subject: tbs.subject.as_raw().to_vec(),
            raw_issuer: tbs.issuer.as_raw().to_vec(),
            subject: name_string(&tbs.subject),
            issuer: name_string(&tbs.issuer),
            spki: c.public_key().raw.to_vec(),
            is_ca: false,
            subject_key_id: None,
            not_before: OffsetDateTime::from_unix_timestamp(c.validity().not_before.timestamp())
                .map_err(|e| CertError::Der(e.to_string()))?,
            not_after: OffsetDateTime::from_unix_timestamp(c.validity().not_after.timestamp())
                .map_err(|e| CertError::Der(e.to_string()))?,
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            key_usages: Vec::new(),
            has_key_usage: false,
            path_len: None,
            ext_key_usages: Vec::new(),
            key_algorithm: key_algorithm(&c),
            serial_hex: c.raw_serial().iter().map(|b| format!("{b:02x}")).collect(),
        };
        for ext in c.iter_extensions() {
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    info.is_ca = bc.ca;
                    info.path_len = bc.path_len_constraint;
                }
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    info.subject_key_id = Some(id.0.to_vec())
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    for n in &san.general_names {
                        match n {
                            GeneralName::DNSName(d) => info.dns_names.push(d.to_string()),
                            GeneralName::IPAddress(b) => {
                                if let Ok(a) = <[u8; 4]>::try_from(*b) {
                                    info.ip_addresses.push(IpAddr::from(a));
                                } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                                    info.ip_addresses.push(IpAddr::from(a));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::KeyUsage(ku) => {
                    info.has_key_usage = true;
                    let names = [
                        (ku.digital_signature(), "digitalSignature"),
                        (ku.non_repudiation(), "nonRepudiation"),
                        (ku.key_encipherment(), "keyEncipherment"),
                        (ku.data_encipherment(), "dataEncipherment"),
                        (ku.key_agreement(), "keyAgreement"),
                        (ku.key_cert_sign(), "keyCertSign"),
                        (ku.crl_sign(), "cRLSign"),
                    ];
                    info.key_usages = names
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, n)| n.to_string())
                        .collect();
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    // x509-parser keeps flags, not order; read the order from the raw OIDs.
                    let _ = eku;
                    info.ext_key_usages = eku_order(ext.value);
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// PEM of this certificate alone.
    pub fn to_pem(&self) -> Vec<u8> {
        super::keys::encode_pem("CERTIFICATE", &self.der)
    }

    /// Whether `key` is the private half of this certificate's public key.
    pub fn matches_key(&self, key: &PrivateKey) -> Result<bool, CertError> {
        Ok(self.info()?.spki == key.spki_der())
    }

    /// Whether `issuer`'s key made this certificate's signature (RSA PKCS#1 v1.5 with
    /// SHA-256/384/512, ECDSA P-256/P-384 with SHA-256/384).
    pub fn is_signed_by(&self, issuer: &Cert) -> Result<bool, CertError> {
        let c = self.parsed()?;
        let spki = issuer.info()?.spki;
        let tbs = c.tbs_certificate.as_ref();
        let sig = c.signature_value.data.as_ref();
        let alg = c.signature_algorithm.algorithm.to_id_string();
        Ok(verify(&alg, &spki, tbs, sig))
    }
}

fn verify(alg: &str, spki: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    use p256::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    fn rsa_verify<D>(spki: &[u8], msg: &[u8], sig: &[u8]) -> bool
    where
        D: rsa::sha2::Digest + rsa::pkcs8::AssociatedOid + rsa::sha2::digest::FixedOutputReset,
    {
        let Ok(pk) = rsa::PublicKey::from_public_key_der(spki) else {
            return false;
        };
        let Ok(sig) = rsa::pkcs1v15::Signature::try_from(sig) else {
            return false;
        };
        rsa::pkcs1v15::VerifyingKey::<D>::new(pk)
            .verify(msg, &sig)
            .is_ok()
    }
    match alg {
        "1.2.840.113549.1.1.11" => rsa_verify::<rsa::sha2::Sha256>(spki, msg, sig),
        "1.2.840.113549.1.1.12" => rsa_verify::<rsa::sha2::Sha384>(spki, msg, sig),
        "1.2.840.113549.1.1.13" => rsa_verify::<rsa::sha2::Sha512>(spki, msg, sig),
        "1.2.840.10045.4.3.2" | "1.2.840.10045.4.3.3" => {
            if let Ok(vk) = p256::ecdsa::VerifyingKey::from_public_key_der(spki) {
                let Ok(s) = p256::ecdsa::Signature::from_der(sig) else {
                    return false;
                };
                if alg.ends_with(".2") {
                    return p256::ecdsa::signature::Verifier::verify(&vk, msg, &s).is_ok();
                }
                return false;
            }
            if let Ok(vk) = p384::ecdsa::VerifyingKey::from_public_key_der(spki) {
                let Ok(s) = p384::ecdsa::Signature::from_der(sig) else {
                    return false;
                };
                if alg.ends_with(".3") {
                    return p384::ecdsa::signature::Verifier::verify(&vk, msg, &s).is_ok();
                }
            }
            false
        }
        _ => false,
    }
}
