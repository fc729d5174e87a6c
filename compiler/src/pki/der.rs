//! The few DER encodings kbc writes itself: the X.509 extensions, in the order and form Go's
//! `crypto/x509` writes them for kubeadm (KeyUsage, ExtKeyUsage, BasicConstraints,
//! SubjectKeyIdentifier, AuthorityKeyIdentifier, SubjectAltName).

use std::net::IpAddr;

/// One TLV with a definite length.
pub(crate) fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(body);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// X.509 OIDs (as arcs) used here.
pub(crate) mod oid {
    pub const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
    pub const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
    pub const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
    pub const SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
    pub const AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
    pub const SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
    pub const SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
    pub const CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];
}

fn oid_body(arcs: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        out.extend(tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push(*a);
    }
    out
}

/// KeyUsage bits as Go numbers them (bit 0 = digitalSignature).
pub(crate) const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub(crate) const KU_KEY_ENCIPHERMENT: u16 = 1 << 2;
pub(crate) const KU_CERT_SIGN: u16 = 1 << 5;

/// The KeyUsage BIT STRING as Go's `marshalKeyUsage` writes it (minimal length, trailing
/// zero bits counted as unused).
pub(crate) fn key_usage(ku: u16) -> Vec<u8> {
    let a = [(ku as u8).reverse_bits(), ((ku >> 8) as u8).reverse_bits()];
    let bytes: &[u8] = if a[1] != 0 { &a } else { &a[..1] };
    let last = bytes[bytes.len() - 1];
    let unused = if last == 0 {
        0
    } else {
        last.trailing_zeros() as u8
    };
    let mut body = vec![unused];
    body.extend_from_slice(bytes);
    tlv(0x03, &body)
}

/// ExtKeyUsage: a SEQUENCE of OIDs, in the given order.
pub(crate) fn ext_key_usage(oids: &[&[u64]]) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = oids.iter().map(|o| tlv(0x06, &oid_body(o))).collect();
    seq(&parts)
}

/// BasicConstraints: `SEQUENCE { cA TRUE }` for CAs, an empty SEQUENCE otherwise.
pub(crate) fn basic_constraints(is_ca: bool) -> Vec<u8> {
    if is_ca {
        seq(&[vec![0x01, 0x01, 0xff]])
    } else {
        seq(&[])
    }
}

/// SubjectKeyIdentifier: OCTET STRING.
pub(crate) fn subject_key_id(id: &[u8]) -> Vec<u8> {
    tlv(0x04, id)
}

/// AuthorityKeyIdentifier: `SEQUENCE { [0] keyIdentifier }`.
pub(crate) fn authority_key_id(id: &[u8]) -> Vec<u8> {
    seq(&[tlv(0x80, id)])
}

/// SubjectAltName: DNS names first, then IPs (4 bytes for IPv4, 16 for IPv6).
pub(crate) fn subject_alt_name(dns: &[String], ips: &[IpAddr]) -> Vec<u8> {
    let mut parts = Vec::new();
    for d in dns {
        parts.push(tlv(0x82, d.as_bytes()));
    }
    for ip in ips {
        match ip {
            IpAddr::V4(v4) => parts.push(tlv(0x87, &v4.octets())),
            IpAddr::V6(v6) => parts.push(tlv(0x87, &v6.octets())),
        }
    }
    seq(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_matches_go() {
        // Go: digitalSignature|keyEncipherment|certSign -> 03 02 02 a4
        assert_eq!(
            key_usage(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_CERT_SIGN),
            vec![0x03, 0x02, 0x02, 0xa4]
        );
        assert_eq!(
            key_usage(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT),
            vec![0x03, 0x02, 0x05, 0xa0]
        );
    }

    #[test]
    fn oid_encoding() {
        assert_eq!(
            tlv(0x06, &oid_body(oid::SERVER_AUTH)),
            vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]
        );
        assert_eq!(basic_constraints(false), vec![0x30, 0x00]);
    }
}
