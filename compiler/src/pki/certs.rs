//! The certificate table and the certificate builder.
//!
//! Mirrors `cmd/kubeadm/app/phases/certs/certlist.go` (one value per certificate: name, CA,
//! CN, O, usages, SAN rule) and `cmd/kubeadm/app/util/pkiutil/pki_helpers.go`
//! (`NewSelfSignedCACert`, `NewSignedCert`, `GetAPIServerAltNames`, `GetEtcdAltNames`,
//! `GetEtcdPeerAltNames`, `RemoveDuplicateAltNames`). Certificates are assembled with rcgen;
//! every extension is supplied by kbc ([`super::der`]) so that their set, order and
//! encoding follow Go's `crypto/x509` (KeyUsage, ExtKeyUsage, BasicConstraints, SKI (CAs
//! only), AKI (non-self-signed only), SAN).

use std::net::IpAddr;

use rcgen::{CustomExtension, DistinguishedName, DnType, DnValue, SerialNumber};
use sha1::{Digest, Sha1};
use time::OffsetDateTime;

use super::der;
use super::keys::PrivateKey;
use super::PkiInput;

/// The three certificate authorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaId {
    /// `ca` (`ca.crt`).
    Ca,
    /// `front-proxy-ca`.
    FrontProxyCa,
    /// `etcd-ca` (`etcd/ca.crt`).
    EtcdCa,
}

impl CaId {
    /// kubeadm's name (`ca`, `front-proxy-ca`, `etcd-ca`).
    pub fn name(self) -> &'static str {
        match self {
            CaId::Ca => "ca",
            CaId::FrontProxyCa => "front-proxy-ca",
            CaId::EtcdCa => "etcd-ca",
        }
    }

    /// File base name relative to `certificatesDir`.
    pub fn base(self) -> &'static str {
        match self {
            CaId::Ca => "ca",
            CaId::FrontProxyCa => "front-proxy-ca",
            CaId::EtcdCa => "etcd/ca",
        }
    }

    /// All CAs in kubeadm's phase order.
    pub const ALL: [CaId; 3] = [CaId::Ca, CaId::FrontProxyCa, CaId::EtcdCa];
}

/// Which SAN rule a certificate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SanRule {
    /// No SAN extension.
    None,
    /// One DNS name: the CA's CN.
    OwnCommonName,
    /// kubeadm's `GetAPIServerAltNames` (`cmd/kubeadm/app/util/pkiutil/pki_helpers.go`).
    ApiServer,
    /// kubeadm's `GetEtcdAltNames`, `serverCertSANs`.
    EtcdServer,
    /// kubeadm's `GetEtcdPeerAltNames`, `peerCertSANs`.
    EtcdPeer,
}

/// How the CN is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cn {
    /// A fixed string.
    Fixed(&'static str),
    /// `nodeRegistration.name`.
    NodeName,
}

/// Extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eku {
    /// TLS server.
    ServerAuth,
    /// TLS client.
    ClientAuth,
}

impl Eku {
    fn oid(self) -> &'static [u64] {
        match self {
            Eku::ServerAuth => der::oid::SERVER_AUTH,
            Eku::ClientAuth => der::oid::CLIENT_AUTH,
        }
    }
}

/// One row of the certificate table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertSpec {
    /// kubeadm's name (`apiserver`, `etcd-server`, …; for CAs `ca`, `etcd-ca`, …).
    pub name: &'static str,
    /// File base relative to `certificatesDir` (`apiserver`, `etcd/server`).
    pub base: &'static str,
    /// The signing CA; `None` for the CAs themselves.
    pub ca: Option<CaId>,
    /// This row's own CA id if it is a CA.
    pub is_ca: Option<CaId>,
    /// Subject CN.
    pub cn: Cn,
    /// Subject O.
    pub org: Option<&'static str>,
    /// Extended key usages, in order.
    pub ekus: &'static [Eku],
    /// SAN rule.
    pub sans: SanRule,
    /// Part of the local-etcd PKI (skipped with external etcd).
    pub etcd: bool,
}

const SERVER_CLIENT: &[Eku] = &[Eku::ServerAuth, Eku::ClientAuth];

/// Every certificate of `kubeadm init phase certs all`, in phase order.
pub(crate) const CERTS: &[CertSpec] = &[
    CertSpec {
        name: "ca",
        base: "ca",
        ca: None,
        is_ca: Some(CaId::Ca),
        cn: Cn::Fixed("kubernetes"),
        org: None,
        ekus: &[],
        sans: SanRule::OwnCommonName,
        etcd: false,
    },
    CertSpec {
        name: "apiserver",
        base: "apiserver",
        ca: Some(CaId::Ca),
        is_ca: None,
        cn: Cn::Fixed("kube-apiserver"),
        org: None,
        ekus: &[Eku::ServerAuth],
        sans: SanRule::ApiServer,
        etcd: false,
    },
    CertSpec {
        name: "apiserver-kubelet-client",
        base: "apiserver-kubelet-client",
        ca: Some(CaId::Ca),
        is_ca: None,
        cn: Cn::Fixed("kube-apiserver-kubelet-client"),
        org: Some("kubeadm:cluster-admins"),
        ekus: &[Eku::ClientAuth],
        sans: SanRule::None,
        etcd: false,
    },
    CertSpec {
        name: "front-proxy-ca",
        base: "front-proxy-ca",
        ca: None,
        is_ca: Some(CaId::FrontProxyCa),
        cn: Cn::Fixed("front-proxy-ca"),
        org: None,
        ekus: &[],
        sans: SanRule::OwnCommonName,
        etcd: false,
    },
    CertSpec {
        name: "front-proxy-client",
        base: "front-proxy-client",
        ca: Some(CaId::FrontProxyCa),
        is_ca: None,
        cn: Cn::Fixed("front-proxy-client"),
        org: None,
        ekus: &[Eku::ClientAuth],
        sans: SanRule::None,
        etcd: false,
    },
    CertSpec {
        name: "etcd-ca",
        base: "etcd/ca",
        ca: None,
        is_ca: Some(CaId::EtcdCa),
        cn: Cn::Fixed("etcd-ca"),
        org: None,
        ekus: &[],
        sans: SanRule::OwnCommonName,
        etcd: true,
    },
    CertSpec {
        name: "etcd-server",
        base: "etcd/server",
        ca: Some(CaId::EtcdCa),
        is_ca: None,
        cn: Cn::NodeName,
        org: None,
        ekus: SERVER_CLIENT,
        sans: SanRule::EtcdServer,
        etcd: true,
    },
    CertSpec {
        name: "etcd-peer",
        base: "etcd/peer",
        ca: Some(CaId::EtcdCa),
        is_ca: None,
        cn: Cn::NodeName,
        org: None,
        ekus: SERVER_CLIENT,
        sans: SanRule::EtcdPeer,
        etcd: true,
    },
    CertSpec {
        name: "etcd-healthcheck-client",
        base: "etcd/healthcheck-client",
        ca: Some(CaId::EtcdCa),
        is_ca: None,
        cn: Cn::Fixed("kube-etcd-healthcheck-client"),
        org: None,
        ekus: &[Eku::ClientAuth],
        sans: SanRule::None,
        etcd: true,
    },
    CertSpec {
        name: "apiserver-etcd-client",
        base: "apiserver-etcd-client",
        ca: Some(CaId::EtcdCa),
        is_ca: None,
        cn: Cn::Fixed("kube-apiserver-etcd-client"),
        org: None,
        ekus: &[Eku::ClientAuth],
        sans: SanRule::None,
        etcd: true,
    },
];

/// The row of a CA.
pub fn ca_spec(id: CaId) -> &'static CertSpec {
    CERTS
        .iter()
        .find(|c| c.is_ca == Some(id))
        .expect("every CaId has a row in CERTS")
}

/// The rows that apply to `input`: no etcd rows with external etcd; a worker only the
/// cluster CA (its `ca.crt`, and the signer of its `kubelet.conf`).
pub(crate) fn applicable(input: &PkiInput) -> impl Iterator<Item = &'static CertSpec> + '_ {
    CERTS.iter().filter(move |c| match input.role {
        super::NodeRole::Worker => c.is_ca == Some(CaId::Ca),
        _ => !(c.etcd && input.external_etcd),
    })
}

impl CertSpec {
    /// The subject CN for `input`.
    pub fn common_name(&self, input: &PkiInput) -> String {
        match self.cn {
            Cn::Fixed(s) => s.to_string(),
            Cn::NodeName => input.node_name.clone(),
        }
    }
}

/// Subject alternative names after kubeadm's post-processing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AltNames {
    /// DNS names: de-duplicated and sorted.
    pub dns: Vec<String>,
    /// IPs: de-duplicated, first occurrence kept; IPv4-mapped IPv6 as IPv4.
    pub ips: Vec<IpAddr>,
}

fn canon_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

impl AltNames {
    fn push_dns(&mut self, s: &str) {
        self.dns.push(s.to_string());
    }

    fn push_ip(&mut self, ip: IpAddr) {
        self.ips.push(canon_ip(ip));
    }

    /// kubeadm's `RemoveDuplicateAltNames`: DNS sorted and unique, IPs unique in order.
    fn finish(mut self) -> AltNames {
        self.dns.sort();
        self.dns.dedup();
        let mut seen = Vec::new();
        self.ips.retain(|ip| {
            if seen.contains(ip) {
                false
            } else {
                seen.push(*ip);
                true
            }
        });
        self
    }
}

/// Go's `netutils.ParseIPSloppy`: like the standard parser, but IPv4 octets may carry
/// leading zeros (read as decimal).
pub(crate) fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut o = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        o[i] = p.parse().ok()?;
    }
    Some(IpAddr::from(o))
}

/// DNS-1123 subdomain (lower case, ≤ 253 characters, labels of `[a-z0-9-]` not starting or
/// ending with `-`).
pub(crate) fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// `*.` + a DNS-1123 subdomain.
pub(crate) fn is_wildcard_dns1123_subdomain(s: &str) -> bool {
    s.strip_prefix("*.").is_some_and(is_dns1123_subdomain)
}

/// The host part of `controlPlaneEndpoint` (`host:port`, `[v6]:port` or a bare host).
pub(crate) fn endpoint_host(endpoint: &str) -> &str {
    if let Some(rest) = endpoint.strip_prefix('[') {
        if let Some((h, _)) = rest.split_once(']') {
            return h;
        }
    }
    if endpoint.parse::<IpAddr>().is_ok() {
        return endpoint;
    }
    match endpoint.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => endpoint,
    }
}

/// kubeadm's `appendSANsToAltNames`: IPs (sloppy parse) to IPs, valid (wildcard)
/// subdomains to DNS, anything else skipped with a warning. `lowercase` mirrors kubeadm's
/// `LowercaseSANs`, which config defaulting applies to `apiServer.certSANs` only (etcd SANs
/// with capitals fail the DNS-1123 check and are skipped, as in kubeadm).
fn append_sans(
    alt: &mut AltNames,
    sans: &[String],
    cert: &str,
    lowercase: bool,
    warnings: &mut Vec<String>,
) {
    for s in sans {
        if let Some(ip) = parse_ip_sloppy(s) {
            alt.push_ip(ip);
        } else {
            let name = if lowercase {
                s.to_ascii_lowercase()
            } else {
                s.clone()
            };
            if is_dns1123_subdomain(&name) || is_wildcard_dns1123_subdomain(&name) {
                alt.push_dns(&name);
            } else {
                warnings.push(format!(
                    "{cert}: skipping SAN {s:?}: it is neither an IP address nor a valid DNS-1123 (wildcard) subdomain"
                ));
            }
        }
    }
}

/// The SANs of `spec` for `input`, post-processed as kubeadm does.
pub(crate) fn alt_names(
    spec: &CertSpec,
    input: &PkiInput,
    warnings: &mut Vec<String>,
) -> Result<AltNames, String> {
    let mut alt = AltNames::default();
    match spec.sans {
        SanRule::None => {}
        SanRule::OwnCommonName => alt.push_dns(&spec.common_name(input)),
        SanRule::ApiServer => {
            let subnet = input
                .service_subnets
                .first()
                .ok_or_else(|| "networking.serviceSubnet is empty".to_string())?;
            let svc_ip = first_ip(subnet)?;
            alt.push_dns(&input.node_name);
            alt.push_dns("kubernetes");
            alt.push_dns("kubernetes.default");
            alt.push_dns("kubernetes.default.svc");
            alt.push_dns(&format!("kubernetes.default.svc.{}", input.dns_domain));
            alt.push_ip(svc_ip);
            alt.push_ip(input.advertise_address);
            if let Some(ep) = &input.control_plane_endpoint {
                let host = endpoint_host(ep);
                match parse_ip_sloppy(host) {
                    Some(ip) => alt.push_ip(ip),
                    None => alt.push_dns(host),
                }
            }
            append_sans(
                &mut alt,
                &input.api_server_cert_sans,
                spec.name,
                true,
                warnings,
            );
        }
        SanRule::EtcdServer | SanRule::EtcdPeer => {
            alt.push_dns(&input.node_name);
            alt.push_dns("localhost");
            alt.push_ip(input.advertise_address);
            alt.push_ip(IpAddr::from([127, 0, 0, 1]));
            alt.push_ip("::1".parse().expect("::1 is an IPv6 address"));
            let extra = if spec.sans == SanRule::EtcdServer {
                &input.etcd_server_cert_sans
            } else {
                &input.etcd_peer_cert_sans
            };
            append_sans(&mut alt, extra, spec.name, false, warnings);
        }
    }
    Ok(alt.finish())
}

/// The first host address of a CIDR (network address + 1): the `kubernetes` Service IP.
pub(crate) fn first_ip(net: &ipnet::IpNet) -> Result<IpAddr, String> {
    let addr = match net.network() {
        IpAddr::V4(a) => u32::from(a)
            .checked_add(1)
            .map(|v| IpAddr::from(std::net::Ipv4Addr::from(v))),
        IpAddr::V6(a) => u128::from(a)
            .checked_add(1)
            .map(|v| IpAddr::from(std::net::Ipv6Addr::from(v))),
    };
    match addr {
        Some(a) if net.contains(&a) => Ok(a),
        _ => Err(format!("service subnet {net} has no usable address")),
    }
}

/// Everything needed to assemble one certificate.
#[derive(Debug, Clone)]
pub(crate) struct BuildParams {
    /// Subject CN.
    pub cn: String,
    /// Subject O.
    pub org: Option<String>,
    /// Serial number.
    pub serial: u64,
    /// NotBefore (whole seconds).
    pub not_before: OffsetDateTime,
    /// NotAfter (whole seconds).
    pub not_after: OffsetDateTime,
    /// CA certificate?
    pub is_ca: bool,
    /// Extended key usages.
    pub ekus: Vec<Eku>,
    /// SANs.
    pub alt: AltNames,
}

/// Who signs: the CA's subject name and key identifier, and its key.
pub(crate) struct Signer<'a> {
    /// The issuer Name, in rcgen's form (must re-encode byte-identically to the CA's subject).
    pub name: DistinguishedName,
    /// The CA's SubjectKeyIdentifier (None: no AKI, as Go does).
    pub key_id: Option<Vec<u8>>,
    /// The CA key.
    pub key: &'a PrivateKey,
}

/// Go's `isPrintable` (rejecting `*` and `&`): such strings are PrintableString, others
/// UTF8String.
fn dn_value(s: &str) -> DnValue {
    let printable = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    if printable {
        if let Ok(p) = rcgen::string::PrintableString::try_from(s) {
            return DnValue::PrintableString(p);
        }
    }
    DnValue::Utf8String(s.to_string())
}

/// kubeadm's subject: O (if any) then CN.
pub(crate) fn subject_name(cn: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(o) = org {
        dn.push(DnType::OrganizationName, dn_value(o));
    }
    dn.push(DnType::CommonName, dn_value(cn));
    dn
}

/// Go's CA subject key identifier: SHA-1 of the subjectPublicKey bits.
pub(crate) fn subject_key_id(key: &PrivateKey) -> Vec<u8> {
    let bits = rcgen::PublicKeyData::der_bytes(key);
    Sha1::digest(bits).to_vec()
}

fn ext(oid: &[u64], critical: bool, content: Vec<u8>) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(oid, content);
    e.set_criticality(critical);
    e
}

/// Builds and signs one certificate; `signer = None` means self-signed by `key`.
pub(crate) fn build(
    p: &BuildParams,
    key: &PrivateKey,
    signer: Option<&Signer<'_>>,
) -> Result<Vec<u8>, rcgen::Error> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject_name(&p.cn, p.org.as_deref());
    let serial = p.serial.to_be_bytes();
    let skip = serial.iter().take_while(|b| **b == 0).count();
    params.serial_number = Some(SerialNumber::from_slice(&serial[skip..]));
    params.not_before = p.not_before;
    params.not_after = p.not_after;
    params.is_ca = rcgen::IsCa::NoCa;
    params.key_usages = Vec::new();
    params.extended_key_usages = Vec::new();
    params.subject_alt_names = Vec::new();
    params.use_authority_key_identifier_extension = false;
    params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(Vec::new());

    let ku = if p.is_ca {
        der::KU_DIGITAL_SIGNATURE | der::KU_KEY_ENCIPHERMENT | der::KU_CERT_SIGN
    } else {
        der::KU_DIGITAL_SIGNATURE | der::KU_KEY_ENCIPHERMENT
    };
    let mut exts = vec![ext(der::oid::KEY_USAGE, true, der::key_usage(ku))];
    if !p.ekus.is_empty() {
        let oids: Vec<&[u64]> = p.ekus.iter().map(|e| e.oid()).collect();
        exts.push(ext(
            der::oid::EXT_KEY_USAGE,
            false,
            der::ext_key_usage(&oids),
        ));
    }
    exts.push(ext(
        der::oid::BASIC_CONSTRAINTS,
        true,
        der::basic_constraints(p.is_ca),
    ));
    if p.is_ca {
        exts.push(ext(
            der::oid::SUBJECT_KEY_ID,
            false,
            der::subject_key_id(&subject_key_id(key)),
        ));
    }
    if let Some(Signer {
        key_id: Some(id), ..
    }) = signer
    {
        exts.push(ext(
            der::oid::AUTHORITY_KEY_ID,
            false,
            der::authority_key_id(id),
        ));
    }
    if !p.alt.dns.is_empty() || !p.alt.ips.is_empty() {
        exts.push(ext(
            der::oid::SUBJECT_ALT_NAME,
            false,
            der::subject_alt_name(&p.alt.dns, &p.alt.ips),
        ));
    }
    params.custom_extensions = exts;

    let cert = match signer {
        None => params.self_signed(key)?,
        Some(s) => {
            let mut ip = rcgen::CertificateParams::default();
            ip.distinguished_name = s.name.clone();
            ip.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(Vec::new());
            let issuer = rcgen::Issuer::new(ip, s.key);
            params.signed_by(key, &issuer)?
        }
    };
    Ok(cert.der().to_vec())
}
