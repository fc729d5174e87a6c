//! Private keys: seeded generation (`kbc-kdf-v1`, see [`super::kdf`]), kubeadm's PEM
//! encodings, reading user-supplied keys, and signing for rcgen.
//!
//! Mirrors `cmd/kubeadm/app/util/pkiutil/pki_helpers.go` (`GeneratePrivateKey`, `WriteKey`,
//! `EncodePublicKeyPEM`) and client-go `keyutil` (`MarshalPrivateKeyToPEM`,
//! `ParsePrivateKeyPEM`): RSA keys are written as PKCS#1 `RSA PRIVATE KEY`, ECDSA keys as
//! SEC 1 `EC PRIVATE KEY`, public keys as PKIX `PUBLIC KEY`; reading accepts PKCS#1, SEC 1
//! and PKCS#8.

use std::sync::OnceLock;

use crypto_primes::Flavor;
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

// ---- RSA prime search (kbc-kdf-v1, documented in super::kdf) ----
//
// The accepted prime is fixed by the scan order and the BPSW verdict alone; the sieve below
// only skips numbers with a small factor (never prime at these sizes) and can be tuned
// without changing any key.

/// Offsets scanned per sieve window: candidates `c + 2k`, `k < WINDOW`.
const WINDOW: usize = 4096;
/// Sieve bound: odd primes below 2^16.
const SIEVE_BOUND: u32 = 1 << 16;
const E: u32 = 65537;

/// Odd primes below the sieve bound, paired so that each product is below 2^32 (the last
/// group may hold one prime).
fn sieve_groups() -> &'static [(u32, u32, u64)] {
    static GROUPS: OnceLock<Vec<(u32, u32, u64)>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let n = SIEVE_BOUND as usize;
        let mut composite = vec![false; n];
        let mut primes = Vec::new();
        for i in 2..n {
            if !composite[i] {
                if i > 2 {
                    primes.push(i as u32);
                }
                let mut j = i * i;
                while j < n {
                    composite[j] = true;
                    j += i;
                }
            }
        }
        primes
            .chunks(2)
            .map(|c| {
                let a = c[0];
                let b = c.get(1).copied().unwrap_or(1);
                (a, b, u64::from(a) * u64::from(b))
            })
            .collect()
    })
}

/// `x mod m` for `m < 2^32`, from the big-endian bytes of `x` (32 bits at a time).
fn rem_u32(be: &[u8], m: u64) -> u64 {
    let mut r: u64 = 0;
    for chunk in be.chunks(4) {
        let mut v: u64 = 0;
        for b in chunk {
            v = (v << 8) | u64::from(*b);
        }
        r = ((r << (8 * chunk.len())) | v) % m;
    }
    r
}

/// `v` as a `BoxedUint` of precision `bits` (a multiple of 64).
fn small(v: u64, bits: u32) -> BoxedUint {
    let mut b = vec![0u8; (bits / 8) as usize];
    let n = b.len();
    b[n - 8..].copy_from_slice(&v.to_be_bytes());
    BoxedUint::from_be_slice(&b, bits).expect("buffer length matches the precision")
}

/// Marks `k < WINDOW` where `start + 2k ≡ target (mod s)`.
fn mark_residue(mark: &mut [bool], r: u64, s: u64, target: u64) {
    // 2k ≡ target - r (mod s)  =>  k ≡ (target - r) * inv2 (mod s), inv2 = (s + 1) / 2.
    let inv2 = s.div_ceil(2);
    let mut k = (((target + s - r) % s) * inv2 % s) as usize;
    while k < mark.len() {
        mark[k] = true;
        k += s as usize;
    }
}

/// Fermat test to base 2, `2^(x-1) ≡ 1 (mod x)`, for an odd `x` whose top bit is set,
/// given as little-endian 64-bit limbs. A pre-filter only: every prime passes, and BPSW
/// (which starts with Miller-Rabin base 2, a stronger form of this test) has the final
/// word, so it never changes which candidate is accepted. Montgomery arithmetic (square, then reduce);
/// doubling in the Montgomery domain is a shift, so the ladder needs squarings only.
fn fermat2(n: &[u64]) -> bool {
    match n.len() {
        16 => fermat2_fixed::<16>(n.try_into().expect("length checked")),
        24 => fermat2_fixed::<24>(n.try_into().expect("length checked")),
        32 => fermat2_fixed::<32>(n.try_into().expect("length checked")),
        // Other sizes are never generated; let BPSW decide alone.
        _ => true,
    }
}

fn fermat2_fixed<const L: usize>(n: &[u64; L]) -> bool {
    debug_assert!(n[0] & 1 == 1 && n[L - 1] >> 63 == 1);
    // -n^-1 mod 2^64 by Newton iteration.
    let mut inv: u64 = 1;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
    }
    let n0inv = inv.wrapping_neg();
    // R mod n = 2^(64 L) - n, since n > 2^(64 L - 1).
    let mut one = [0u64; L];
    sub_n(&mut one, n);
    let mut r = one;
    // Room for a 2L-limb square (L ≤ 32).
    let mut t = [0u64; 64];
    for bit in (0..64 * L).rev() {
        square(&r, &mut t[..2 * L]);
        montgomery_reduce(&mut t, n, n0inv, &mut r);
        // Exponent n - 1: n with its low bit cleared.
        if bit != 0 && (n[bit / 64] >> (bit % 64)) & 1 == 1 {
            double_mod(&mut r, n);
        }
    }
    r == one
}

/// `a >= n`, little-endian limbs.
#[inline(always)]
fn geq<const L: usize>(a: &[u64; L], n: &[u64; L]) -> bool {
    for i in (0..L).rev() {
        if a[i] != n[i] {
            return a[i] > n[i];
        }
    }
    true
}

/// `a -= n` (wrapping).
#[inline(always)]
fn sub_n<const L: usize>(a: &mut [u64; L], n: &[u64; L]) {
    let mut borrow = false;
    for i in 0..L {
        let (d, b1) = a[i].overflowing_sub(n[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        a[i] = d;
        borrow = b1 || b2;
    }
}

/// `t = r^2` (2L limbs): the off-diagonal products once, doubled, plus the diagonal.
#[inline(always)]
fn square<const L: usize>(r: &[u64; L], t: &mut [u64]) {
    t.fill(0);
    for i in 0..L {
        let ri = r[i] as u128;
        let mut carry: u128 = 0;
        for j in i + 1..L {
            let s = t[i + j] as u128 + ri * (r[j] as u128) + carry;
            t[i + j] = s as u64;
            carry = s >> 64;
        }
        t[i + L] = carry as u64;
    }
    let mut top = 0u64;
    for v in t.iter_mut() {
        let w = *v;
        *v = (w << 1) | top;
        top = w >> 63;
    }
    let mut carry: u128 = 0;
    for i in 0..L {
        let sq = (r[i] as u128) * (r[i] as u128);
        let s = t[2 * i] as u128 + (sq as u64 as u128) + carry;
        t[2 * i] = s as u64;
        let s2 = t[2 * i + 1] as u128 + (sq >> 64) + (s >> 64);
        t[2 * i + 1] = s2 as u64;
        carry = s2 >> 64;
    }
}

/// Montgomery reduction: `r = t / R mod n`. Each row's carry lands in `t[i + L]`; the carry
/// out of that limb (`extra`) is added one limb further up with the next row.
#[inline(always)]
fn montgomery_reduce<const L: usize>(t: &mut [u64], n: &[u64; L], n0inv: u64, r: &mut [u64; L]) {
    let mut extra = 0u64;
    for i in 0..L {
        let m = t[i].wrapping_mul(n0inv) as u128;
        let mut carry: u128 = 0;
        for j in 0..L {
            let s = t[i + j] as u128 + m * (n[j] as u128) + carry;
            t[i + j] = s as u64;
            carry = s >> 64;
        }
        let s = t[i + L] as u128 + carry + extra as u128;
        t[i + L] = s as u64;
        extra = (s >> 64) as u64;
    }
    r.copy_from_slice(&t[L..2 * L]);
    if extra != 0 || geq(r, n) {
        sub_n(r, n);
    }
}

/// `r = 2 r mod n`: doubling in the Montgomery domain is a shift.
#[inline(always)]
fn double_mod<const L: usize>(r: &mut [u64; L], n: &[u64; L]) {
    let top = r[L - 1] >> 63;
    for i in (1..L).rev() {
        r[i] = (r[i] << 1) | (r[i - 1] >> 63);
    }
    r[0] <<= 1;
    if top == 1 || geq(r, n) {
        sub_n(r, n);
    }
}

fn limbs_le(x: &BoxedUint) -> Vec<u64> {
    let be = x.to_be_bytes();
    be.rchunks(8)
        .map(|c| {
            let mut v = 0u64;
            for b in c {
                v = (v << 8) | u64::from(*b);
            }
            v
        })
        .collect()
}

fn find_prime(stream: &mut impl Rng, bits: u32, avoid: Option<&BoxedUint>) -> BoxedUint {
    let nbytes = (bits / 8) as usize;
    'draw: loop {
        let mut buf = vec![0u8; nbytes];
        stream.fill_bytes(&mut buf);
        buf[0] |= 0xc0;
        buf[nbytes - 1] |= 1;
        let mut start =
            BoxedUint::from_be_slice(&buf, bits).expect("buffer length matches the precision");
        loop {
            let be = start.to_be_bytes();
            // mark[k]: start + 2k has a small factor, or is 1 mod 65537.
            let mut mark = vec![false; WINDOW];
            for &(a, b, m) in sieve_groups() {
                let r = rem_u32(&be, m);
                mark_residue(&mut mark, r % u64::from(a), u64::from(a), 0);
                if b > 1 {
                    mark_residue(&mut mark, r % u64::from(b), u64::from(b), 0);
                }
            }
            mark_residue(&mut mark, rem_u32(&be, u64::from(E)), u64::from(E), 1);
            for (k, &skip) in mark.iter().enumerate() {
                if skip {
                    continue;
                }
                let x = start.wrapping_add(small(2 * k as u64, bits));
                if x.bit_width() != bits {
                    // Ran past 2^bits: every later candidate does too.
                    continue 'draw;
                }
                if avoid.is_some_and(|p| *p == x) {
                    continue;
                }
                // The pre-filter pays off only when optimised; debug builds (tests) skip it,
                // which changes speed, never the result.
                let maybe_prime = cfg!(debug_assertions) || fermat2(&limbs_le(&x));
                if maybe_prime && crypto_primes::is_prime(Flavor::Any, &x) {
                    return x;
                }
            }
            start = start.wrapping_add(small(2 * WINDOW as u64, bits));
        }
    }
}

fn rsa_from_stream(stream: &mut impl Rng, bits: u32) -> PrivateKey {
    let half = bits / 2;
    let p = find_prime(stream, half, None);
    loop {
        let q = find_prime(stream, half, Some(&p));
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
    fn fermat_prefilter_agrees_with_bpsw() {
        let mut stream = Seed([3u8; 32]).stream("t/fermat");
        let mut agree = 0;
        for _ in 0..100 {
            let mut b = [0u8; 128];
            stream.fill_bytes(&mut b);
            b[0] |= 0x80;
            b[127] |= 1;
            let x = BoxedUint::from_be_slice(&b, 1024).unwrap();
            let prime = crypto_primes::is_prime(Flavor::Any, &x);
            let f = fermat2(&limbs_le(&x));
            assert!(f || !prime, "a prime failed the Fermat test");
            assert_eq!(
                f, prime,
                "Fermat pseudoprime among random numbers: astronomically unlikely"
            );
            agree += 1;
        }
        assert_eq!(agree, 100);
        let p = find_prime(&mut stream, 1024, None);
        assert!(fermat2(&limbs_le(&p)));
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
