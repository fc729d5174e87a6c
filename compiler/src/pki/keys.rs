//! Private keys: seeded generation (`kbc-kdf-v1`, see [`super::kdf`]), kubeadm's PEM
//! encodings, reading user-supplied keys, and signing for rcgen.
//!
//! Mirrors `cmd/kubeadm/app/util/pkiutil/pki_helpers.go` (`GeneratePrivateKey`, `WriteKey`,
//! `EncodePublicKeyPEM`) and client-go `keyutil` (`MarshalPrivateKeyToPEM`,
//! `ParsePrivateKeyPEM`): RSA keys are written as PKCS#1 `RSA PRIVATE KEY`, ECDSA keys as
//! SEC 1 `EC PRIVATE KEY`, public keys as PKIX `PUBLIC KEY`; reading accepts PKCS#1, SEC 1
//! and PKCS#8.

use p256::elliptic_curve::sec1::ToSec1Point;
use rand_core::Rng;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::BoxedUint;

use super::kdf::Seed;

/// The key algorithm of every generated key (kubeadm's `encryptionAlgorithm`, after the
/// `PublicKeysECDSA` override has been applied by the config front end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum EncryptionAlgorithm {
    /// `RSA-2048` (kubeadm's default).
    #[default]
    Rsa2048,
    /// `RSA-3072`.
    Rsa3072,
    /// `RSA-4096`.
    Rsa4096,
    /// `ECDSA-P256`.
    EcdsaP256,
}

impl EncryptionAlgorithm {
    /// kubeadm's spelling (`RSA-2048`, …), also used in derivation labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "RSA-2048",
            Self::Rsa3072 => "RSA-3072",
            Self::Rsa4096 => "RSA-4096",
            Self::EcdsaP256 => "ECDSA-P256",
        }
    }

    /// Parses kubeadm's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Rsa2048, Self::Rsa3072, Self::Rsa4096, Self::EcdsaP256]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    fn rsa_bits(self) -> Option<u32> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            Self::EcdsaP256 => None,
        }
    }
}

impl std::fmt::Display for EncryptionAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No PEM block holding a private key.
    #[error("no PEM-encoded private key found")]
    NoPem,
    /// A key of another type (Ed25519, DSA, …) or an unreadable DER body.
    #[error("the private key is neither in RSA nor ECDSA format (P-256 or P-384)")]
    Unsupported,
    /// The PEM block itself is malformed.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// A passphrase-protected key (kubeadm cannot read one either).
    #[error("the private key is encrypted; give it without a passphrase (e.g. openssl pkey -in KEY -out PLAIN)")]
    Encrypted,
    /// An RSA key below [`MIN_RSA_BITS`].
    #[error("the RSA key has {0} bits; kbc requires at least {MIN_RSA_BITS} (kubeadm's smallest choice), a shorter key can be factored")]
    Weak(usize),
    /// Signing failed (only for keys that are internally inconsistent).
    #[error("signing failed")]
    Sign,
}

/// The smallest RSA key kbc reads from the user: kubeadm's smallest `encryptionAlgorithm`.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// A private key of one of the types kubeadm handles.
#[derive(Clone)]
pub enum PrivateKey {
    /// RSA; `public` is the PKCS#1 `RSAPublicKey` DER (the subjectPublicKey bits).
    Rsa {
        /// The key.
        key: Box<rsa::PrivateKey>,
        /// PKCS#1 RSAPublicKey DER.
        public: Vec<u8>,
    },
    /// ECDSA on P-256; `public` is the uncompressed SEC 1 point.
    P256 {
        /// The key.
        key: p256::SecretKey,
        /// Uncompressed point.
        public: Vec<u8>,
    },
    /// ECDSA on P-384 (only ever read from a user-supplied CA; 1.31 generates none).
    P384 {
        /// The key.
        key: p384::SecretKey,
        /// Uncompressed point.
        public: Vec<u8>,
    },
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.describe())
    }
}

fn pem_config() -> pem::EncodeConfig {
    pem::EncodeConfig::new()
        .set_line_ending(pem::LineEnding::LF)
        .set_line_wrap(64)
}

/// PEM-encodes one block with LF line endings and 64-character lines (Go `encoding/pem`).
pub(crate) fn encode_pem(tag: &str, der: &[u8]) -> Vec<u8> {
    pem::encode_config(&pem::Pem::new(tag, der.to_vec()), pem_config()).into_bytes()
}

impl PrivateKey {
    /// Derives the key for `label` from `seed` (see [`super::kdf`] for the exact procedure).
    pub fn derive(seed: &Seed, label: &str, alg: EncryptionAlgorithm) -> PrivateKey {
        let mut stream = seed.stream(label);
        match alg.rsa_bits() {
            Some(bits) => rsa_from_stream(&mut stream, bits),
            None => loop {
                let mut b = [0u8; 32];
                stream.fill_bytes(&mut b);
                if let Ok(key) = p256::SecretKey::from_slice(&b) {
                    return Self::from_p256(key);
                }
            },
        }
    }

    fn from_rsa(key: rsa::PrivateKey) -> PrivateKey {
        let public = key
            .to_public_key()
            .to_pkcs1_der()
            .expect("encoding an RSA public key cannot fail")
            .into_vec();
        PrivateKey::Rsa {
            key: Box::new(key),
            public,
        }
    }

    fn from_p256(key: p256::SecretKey) -> PrivateKey {
        let public = key.public_key().to_sec1_point(false).as_bytes().to_vec();
        PrivateKey::P256 { key, public }
    }

    fn from_p384(key: p384::SecretKey) -> PrivateKey {
        let public = key.public_key().to_sec1_point(false).as_bytes().to_vec();
        PrivateKey::P384 { key, public }
    }

    /// kubeadm's file encoding: `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC 1).
    pub fn to_pem(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa { key, .. } => encode_pem(
                "RSA PRIVATE KEY",
                key.to_pkcs1_der()
                    .expect("encoding an RSA private key cannot fail")
                    .as_bytes(),
            ),
            PrivateKey::P256 { key, .. } => encode_pem(
                "EC PRIVATE KEY",
                &key.to_sec1_der()
                    .expect("encoding a P-256 private key cannot fail"),
            ),
            PrivateKey::P384 { key, .. } => encode_pem(
                "EC PRIVATE KEY",
                &key.to_sec1_der()
                    .expect("encoding a P-384 private key cannot fail"),
            ),
        }
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    pub fn spki_der(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(self)
    }

    /// The public half as a PKIX `PUBLIC KEY` PEM (kubeadm's `sa.pub`).
    pub fn public_key_pem(&self) -> Vec<u8> {
        encode_pem("PUBLIC KEY", &self.spki_der())
    }

    /// Short human description: `RSA 2048`, `ECDSA P-256`.
    pub fn describe(&self) -> String {
        match self {
            PrivateKey::Rsa { key, .. } => format!("RSA {}", key.size() * 8),
            PrivateKey::P256 { .. } => "ECDSA P-256".to_string(),
            PrivateKey::P384 { .. } => "ECDSA P-384".to_string(),
        }
    }

    /// Reads the first private key of a PEM file, refusing RSA keys below [`MIN_RSA_BITS`]
    /// (kubeadm accepts them; everything signed with one could be forged).
    pub fn from_pem(bytes: &[u8]) -> Result<PrivateKey, KeyError> {
        let key = Self::from_pem_any_size(bytes)?;
        match &key {
            PrivateKey::Rsa { key: k, .. } if k.size() * 8 < MIN_RSA_BITS => {
                Err(KeyError::Weak(k.size() * 8))
            }
            _ => Ok(key),
        }
    }

    /// Reads the first private key of a PEM file (PKCS#1, SEC 1 or PKCS#8; other blocks
    /// such as `EC PARAMETERS` are skipped, as client-go's `ParsePrivateKeyPEM` does).
    fn from_pem_any_size(bytes: &[u8]) -> Result<PrivateKey, KeyError> {
        let blocks = pem::parse_many(bytes).map_err(|e| KeyError::Pem(e.to_string()))?;
        for block in &blocks {
            let der = block.contents();
            let encrypted = block.tag() == "ENCRYPTED PRIVATE KEY"
                || block
                    .headers()
                    .get("Proc-Type")
                    .is_some_and(|v| v.contains("ENCRYPTED"));
            if encrypted {
                return Err(KeyError::Encrypted);
            }
            match block.tag() {
                "RSA PRIVATE KEY" => {
                    return rsa::PrivateKey::from_pkcs1_der(der)
                        .map(Self::from_rsa)
                        .map_err(|_| KeyError::Unsupported)
                }
                "EC PRIVATE KEY" => {
                    if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
                        return Ok(Self::from_p256(k));
                    }
                    return p384::SecretKey::from_sec1_der(der)
                        .map(Self::from_p384)
                        .map_err(|_| KeyError::Unsupported);
                }
                "PRIVATE KEY" => {
                    if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(der) {
                        return Ok(Self::from_rsa(k));
                    }
                    if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
                        return Ok(Self::from_p256(k));
                    }
                    return p384::SecretKey::from_pkcs8_der(der)
                        .map(Self::from_p384)
                        .map_err(|_| KeyError::Unsupported);
                }
                _ => continue,
            }
        }
        Err(KeyError::NoPem)
    }

    /// Signs `msg` with the certificate signature algorithm that kubeadm (Go) uses for this
    /// key: RSA PKCS#1 v1.5 + SHA-256; ECDSA (RFC 6979 nonces) with SHA-256 / SHA-384.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            PrivateKey::Rsa { key, .. } => {
                let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new((**key).clone());
                signer
                    .try_sign(msg)
                    .map(|s| s.to_vec())
                    .map_err(|_| KeyError::Sign)
            }
            PrivateKey::P256 { key, .. } => {
                let signer = p256::ecdsa::SigningKey::from(key);
                let sig: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::try_sign(&signer, msg)
                        .map_err(|_| KeyError::Sign)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            PrivateKey::P384 { key, .. } => {
                let signer = p384::ecdsa::SigningKey::from(key);
                let sig: p384::ecdsa::Signature =
                    p384::ecdsa::signature::Signer::try_sign(&signer, msg)
                        .map_err(|_| KeyError::Sign)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

impl rcgen::PublicKeyData for PrivateKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            PrivateKey::Rsa { public, .. }
            | PrivateKey::P256 { public, .. }
            | PrivateKey::P384 { public, .. } => public,
        }
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            PrivateKey::Rsa { .. } => &rcgen::PKCS_RSA_SHA256,
            PrivateKey::P256 { .. } => &rcgen::PKCS_ECDSA_P256_SHA256,
            PrivateKey::P384 { .. } => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

impl rcgen::SigningKey for PrivateKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        PrivateKey::sign(self, msg).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

// ---- RSA keys from the prime search of the kbc-primes crate (kbc-kdf-v1, super::kdf) ----

const E: u32 = 65537;

fn rsa_from_stream(stream: &mut impl Rng, bits: u32) -> PrivateKey {
    let half = bits / 2;
    let p = kbc_primes::find_prime(stream, half, None);
    loop {
        let q = kbc_primes::find_prime(stream, half, Some(&p));
        let e = BoxedUint::from(u64::from(E));
        if let Ok(key) = rsa::PrivateKey::from_p_q(p.clone(), q, e) {
            return PrivateKey::from_rsa(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_key_is_valid_and_deterministic() {
        let seed = Seed([1u8; 32]);
        let a = PrivateKey::derive(&seed, "t/rsa", EncryptionAlgorithm::Rsa2048);
        let b = PrivateKey::derive(&seed, "t/rsa", EncryptionAlgorithm::Rsa2048);
        assert_eq!(a.to_pem(), b.to_pem());
        assert_eq!(a.describe(), "RSA 2048");
        let back = PrivateKey::from_pem(&a.to_pem()).unwrap();
        assert_eq!(back.spki_der(), a.spki_der());
    }

    #[test]
    fn ecdsa_key_roundtrips() {
        let seed = Seed([2u8; 32]);
        let a = PrivateKey::derive(&seed, "t/ec", EncryptionAlgorithm::EcdsaP256);
        let pem = String::from_utf8(a.to_pem()).unwrap();
        assert!(pem.starts_with(concat!("-----BEGIN EC ", "PRIVATE KEY-----\n")));
        assert!(!pem.contains('\r'));
        let back = PrivateKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(back.spki_der(), a.spki_der());
        assert_eq!(a.sign(b"x").unwrap(), a.sign(b"x").unwrap());
    }
}
