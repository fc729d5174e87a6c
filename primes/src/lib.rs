//! kbc's RSA prime search, part of the key derivation `kbc-kdf-v1` (documented in the
//! compiler's `pki::kdf`): draw a candidate from the seeded stream, scan it and the odd
//! numbers after it in windows, skip those with a small factor (or ≡ 1 mod 65537), and
//! accept the first that passes crypto-primes' deterministic Baillie-PSW test. A crate of
//! its own so that the workspace optimises it in every build, tests included: the result
//! never depends on that, only the speed.

use crypto_bigint::BoxedUint;
use crypto_primes::Flavor;
use rand_core::Rng;
use std::sync::OnceLock;

// The accepted prime is fixed by the scan order and the BPSW verdict alone; the sieve below
// only skips numbers with a small factor (never prime at these sizes) and can be tuned
// without changing any key.

/// Offsets scanned per sieve window: candidates `c + 2k`, `k < WINDOW`.
const WINDOW: usize = 4096;
/// Sieve bound: odd primes below 2^16.
const SIEVE_BOUND: u32 = 1 << 16;
/// The RSA public exponent: `p ≡ 1 (mod E)` is skipped.
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

/// The first prime of `bits` bits (top two bits set) at or after a candidate drawn from
/// `stream`, other than `avoid`; a candidate window that runs past `2^bits` is drawn again.
pub fn find_prime(stream: &mut impl Rng, bits: u32, avoid: Option<&BoxedUint>) -> BoxedUint {
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
                if fermat2(&limbs_le(&x)) && crypto_primes::is_prime(Flavor::Any, &x) {
                    return x;
                }
            }
            start = start.wrapping_add(small(2 * WINDOW as u64, bits));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    fn stream() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::from_seed([3u8; 32])
    }

    #[test]
    fn fermat_prefilter_agrees_with_bpsw() {
        let mut stream = stream();
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
}
