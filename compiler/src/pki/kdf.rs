//! Seed-based derivation of every random value kbc needs (`kbc-kdf-v1`).
//!
//! kubeadm draws keys, serials and ECDSA nonces from the OS random source; kbc derives them
//! from the 256-bit cluster seed so that a compile is a pure function of its inputs
//! (README, "Determinism and secrets"). The scheme below is part of kbc's output format: changing any
//! step changes every key kbc emits, so it is versioned and golden-tested
//! (`tests/pki_determinism.rs`).
//!
//! # Derivation `kbc-kdf-v1`
//!
//! 1. `prk = HKDF-Extract-SHA256(salt = "kbc-kdf-v1", ikm = seed)` (the 32 seed bytes).
//! 2. For an artifact label `L` (UTF-8, e.g. `kbc/v1/pki/apiserver.key/RSA-2048`):
//!    `okm = HKDF-Expand-SHA256(prk, info = L, 32 bytes)`.
//! 3. `stream = ChaCha20Rng::from_seed(okm)` (rand_chacha 0.10: 20 rounds, stream 0,
//!    64-bit block counter from 0); values are read with `fill_bytes`.
//!
//! Labels in use:
//!
//! | label | what |
//! | --- | --- |
//! | `kbc/v1/pki/<path>.key/<ALG>` | private key of a PKI file, `<path>` relative to `certificatesDir` (`ca`, `etcd/server`, `sa`, …), `<ALG>` = `RSA-2048`, `RSA-3072`, `RSA-4096`, `ECDSA-P256` |
//! | `kbc/v1/kubeconfig/<file>/<ALG>` | client key of a kubeconfig (`admin.conf`, …) |
//! | `kbc/v1/pki/<path>.crt/serial`, `kbc/v1/kubeconfig/<file>/serial` | certificate serial number |
//! | `kbc/v1/token/<i>/id`, `kbc/v1/token/<i>/secret` | bootstrap token `<i>` of the InitConfiguration, when the config gives none: stream bytes (the low byte of each `next_u32`) `< 252` map to `[a-z0-9][b % 36]`, others are skipped (`crate::compile`) |
//! | `kbc/v1/certificate-key` | the upload-certs key when the config gives none: the first 32 stream bytes |
//!
//! Serial numbers: the first 8 bytes of the stream as a big-endian `u64` `v`;
//! `serial = (v mod (2^63 - 2)) + 1`, i.e. kubeadm's range `[1, 2^63 - 2]`.
//!
//! ECDSA keys (`ECDSA-P256`): read 32 bytes from the stream as a big-endian scalar; if it is
//! zero or not below the group order, read the next 32 bytes, and so on.
//!
//! RSA keys (`RSA-<n>`, public exponent 65537, two primes of `n/2` bits each; p first, then q
//! from the same stream):
//!
//! 1. Read `n/16` bytes as a big-endian integer `c`; set its two top bits and its low bit.
//! 2. The prime is the first `x = c + 2k` (`k = 0, 1, 2, …`) with `x mod 65537 ≠ 1`,
//!    `x ≠ p` (for q), and `crypto_primes::is_prime(Flavor::Any, x)` true (crypto-primes
//!    0.7: Baillie-PSW, i.e. Miller-Rabin base 2 then the strengthened Lucas test; it uses
//!    no randomness, so its verdict is a fixed function of `x`). A sieve of small primes
//!    and a base-2 Fermat test skip candidates first; they are speed-ups only and do not
//!    change which `x` is found. The search is the `kbc-primes` crate (`primes/`),
//!    optimised in every build profile.
//! 3. If `x` reaches `2^(n/2)` before a prime is found, go back to step 1 with the next
//!    bytes of the stream (probability about 2^-1000).
//! 4. If `rsa::PrivateKey::from_p_q(p, q, 65537)` rejects the pair (it does not in
//!    practice), q is searched again from step 1.
//!
//! The private exponent is `d = e^-1 mod lcm(p-1, q-1)` (rsa 0.10 `from_p_q`); the file
//! holds `n, e, d, p, q, dp, dq, qinv` (PKCS#1). Neither the rsa crate's own prime search
//! nor any other crate's randomness is involved, so an upgrade of rsa cannot change keys.

use hkdf::Hkdf;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Sha256;

/// The name of this derivation scheme, recorded in bundle manifests.
pub const DERIVATION: &str = "kbc-kdf-v1";

/// A 256-bit cluster seed.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(pub [u8; 32]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

impl Seed {
    /// The 32 bytes of output key material for `label` (steps 1-2 of the scheme).
    pub fn okm(&self, label: &str) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(Some(DERIVATION.as_bytes()), &self.0);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
        hk.expand(label.as_bytes(), &mut okm)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        okm
    }

    /// The ChaCha20 stream for `label` (step 3).
    pub fn stream(&self, label: &str) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(self.okm(label))
    }

    /// `len` bytes from the start of the stream for `label`: the reusable primitive for the
    /// bootstrap token, the upload-certs certificate key and anything else seeded later.
    pub fn bytes(&self, label: &str, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.stream(label).fill_bytes(&mut out);
        out
    }

    /// A certificate serial number in kubeadm's range `[1, 2^63 - 2]`.
    pub fn serial(&self, label: &str) -> u64 {
        let mut b = [0u8; 8];
        self.stream(label).fill_bytes(&mut b);
        (u64::from_be_bytes(b) % ((1u64 << 63) - 2)) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_give_independent_streams() {
        let s = Seed([7u8; 32]);
        assert_ne!(s.okm("a"), s.okm("b"));
        assert_eq!(s.okm("a"), s.okm("a"));
        assert_eq!(s.bytes("x", 40)[..32], s.bytes("x", 32)[..]);
        let serial = s.serial("kbc/v1/pki/ca.crt/serial");
        assert!((1..=(1u64 << 63) - 2).contains(&serial));
    }
}
