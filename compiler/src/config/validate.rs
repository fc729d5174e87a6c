//! kubeadm's validation rules (`cmd/kubeadm/app/apis/kubeadm/validation/validation.go`) over
//! the defaulted v1beta4 documents. Every rule adds to one list; nothing stops at the first
//! problem. Messages keep kubeadm's wording and add what was expected and a hint.

use super::diag::Diagnostic;
use super::features;
use super::wire::v1beta4::*;
use ipnet::IpNet;
use regex::Regex;
use std::net::IpAddr;
use std::sync::LazyLock;

const INIT: &str = "InitConfiguration";
const CLUSTER: &str = "ClusterConfiguration";

static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\A([a-z0-9]{6})\.([a-z0-9]{16})\z").expect("static regex"));
static BOOTSTRAP_GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z").expect("static regex")
});
static DNS1123_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("static regex"));
/// The Docker reference grammar's repository part (`domain[:port]/path`), as kubeadm checks it.
/// distribution/reference's `ReferenceRegexp` (v0.6, vendored by kubeadm 1.31): kubeadm's
/// `ValidateImageRepository` checks `<imageRepository>/name:tag` against it, so a registry
/// with a port and no path (`nexus.local:8122`) is valid.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let path = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    let domain_part = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let host = format!(r"(?:{domain_part}(?:\.{domain_part})*|\[(?:[a-fA-F0-9:]+)\])");
    let name = format!(r"(?:{host}(?::[0-9]+)?/)?{path}(?:/{path})*");
    let tag = r"[\w][\w.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
    Regex::new(&format!(r"^(?-u:({name})(?::({tag}))?(?:@({digest}))?)$")).expect("static regex")
});

pub(crate) const TOKEN_USAGES: [&str; 2] = ["signing", "authentication"];
pub(crate) const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
pub(crate) const ENCRYPTION_ALGORITHMS: [&str; 4] =
    ["ECDSA-P256", "RSA-2048", "RSA-3072", "RSA-4096"];

fn err(kind: &str, path: impl Into<String>, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(path, msg).kind(kind)
}

/// DNS-1123 subdomain problems, apimachinery's wording; empty when valid.
pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push("must be no more than 253 characters".to_string());
    }
    if s.is_empty() || !s.split('.').all(|l| DNS1123_LABEL.is_match(l)) {
        out.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string());
    }
    out
}

/// Validates the InitConfiguration part (`ValidateInitConfiguration` minus the cluster part).
pub(crate) fn init(c: &InitConfiguration, out: &mut Vec<Diagnostic>) {
    skip_phases(
        INIT,
        &c.skip_phases,
        kbc_bundle::phases::invalid_name(&c.skip_phases),
        "name a phase of kubeadm init, e.g. addon/kube-proxy or upload-certs (kubeadm init --help lists them)",
        out,
    );
    node_registration(INIT, &c.node_registration, true, out);
    for (i, t) in c.bootstrap_tokens.iter().enumerate() {
        bootstrap_token(i, t, out);
    }
    local_api_endpoint(INIT, "", &c.local_api_endpoint, out);
    certificate_key(INIT, "certificateKey", &c.certificate_key, out);
}

/// kubeadm's workflow runner refuses a `skipPhases` name that is no phase (runner.go):
/// `invalid` is the first such name of `skip` (init's or join's table decides).
pub(crate) fn skip_phases(
    kind: &str,
    skip: &[String],
    invalid: Option<&str>,
    hint: &str,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(name) = invalid {
        let i = skip.iter().position(|s| s == name).unwrap_or(0);
        out.push(
            err(
                kind,
                format!("skipPhases[{i}]"),
                format!("invalid phase name: {name}"),
            )
            .hint(hint),
        );
    }
}

/// `nodeRegistration` of an InitConfiguration or a JoinConfiguration (`kind`): the name
/// (required unless `name_required` is false: a generic worker of a cluster file has none),
/// the CRI socket, kubeletExtraArgs and imagePullPolicy.
pub(crate) fn node_registration(
    kind: &str,
    nr: &NodeRegistrationOptions,
    name_required: bool,
    out: &mut Vec<Diagnostic>,
) {
    if nr.name.is_empty() && name_required {
        out.push(
            err(kind, "nodeRegistration.name", "--node-name or .nodeRegistration.name in the config file is a required value")
                .hint("kbc never reads the host name: set nodeRegistration.name in the file or pass --node-name"),
        );
    } else if !nr.name.is_empty() {
        for problem in dns1123_subdomain(&nr.name) {
            out.push(
                err(
                    kind,
                    "nodeRegistration.name",
                    format!("Invalid value: {:?}: {problem}", nr.name),
                )
                .hint("node names are lower-case DNS names such as cp-1.example.com"),
            );
        }
    }
    cri_socket(kind, &nr.cri_socket, out);
    args(
        kind,
        "nodeRegistration.kubeletExtraArgs",
        &nr.kubelet_extra_args,
        out,
    );
    if !nr.image_pull_policy.is_empty() && !PULL_POLICIES.contains(&nr.image_pull_policy.as_str()) {
        out.push(
            err(
                kind,
                "nodeRegistration.imagePullPolicy",
                format!(
                    "Invalid value: {:?}: invalid pull policy",
                    nr.image_pull_policy
                ),
            )
            .hint("use one of Always, IfNotPresent, Never"),
        );
    }
}

/// A `localAPIEndpoint` (an InitConfiguration's, or a JoinConfiguration's under
/// `controlPlane.`; `prefix` says which): a concrete advertise address, kbc never picks a
/// host interface, and a valid bind port.
pub(crate) fn local_api_endpoint(
    kind: &str,
    prefix: &str,
    ep: &ApiEndpoint,
    out: &mut Vec<Diagnostic>,
) {
    let path = format!("{prefix}localAPIEndpoint.advertiseAddress");
    let address = ep.advertise_address.as_str();
    if address.is_empty() {
        out.push(
            err(kind, &path, "a concrete IP address is required")
                .hint(if prefix.is_empty() {
                    format!("kbc never picks a host interface: set {path} in the file or pass --advertise-address")
                } else {
                    format!("kbc never picks a host interface: set {path}")
                }),
        );
    } else {
        match address.parse::<IpAddr>() {
            Err(_) => out.push(
                err(kind, &path, format!("Invalid value: {address:?}: ip address is not valid"))
                    .hint("expected an IPv4 or IPv6 address such as 192.168.0.10"),
            ),
            Ok(ip) if ip.is_loopback() || ip.is_unspecified() => out.push(
                err(kind, &path, format!("Invalid value: {address:?}: kubeadm would replace this address with one found on the host"))
                    .hint("give the node's real address; kbc does not look at the host"),
            ),
            Ok(_) => {}
        }
    }
    port(
        kind,
        &format!("{prefix}localAPIEndpoint.bindPort"),
        ep.bind_port,
        out,
    );
}

/// A `certificateKey` (at `path` of a `kind` document), when set: 32 bytes of hex
/// (kubeadm's `ValidateCertificateKey` for init and join alike).
pub(crate) fn certificate_key(kind: &str, path: &str, key: &str, out: &mut Vec<Diagnostic>) {
    if key.is_empty() {
        return;
    }
    match decode_certificate_key(key) {
        Err(CertificateKeyError::NotHex) => out.push(
            err(
                kind,
                path,
                "certificate key decoding error: expected hexadecimal digits",
            )
            .hint("generate one with `kbc certs certificate-key`"),
        ),
        Err(CertificateKeyError::Size(n)) => out.push(
            err(
                kind,
                path,
                format!("invalid certificate key size {n}, the key must be an AES key of size 32"),
            )
            .hint(
                "expected 64 hexadecimal characters; generate one with `kbc certs certificate-key`",
            ),
        ),
        Ok(_) => {}
    }
}

/// Why a `certificateKey` is unusable (kubeadm's `DecodeString` error, or the size check of
/// `cmd/kubeadm/app/util/crypto` `CreateRandBytes`' consumer, `EncryptBytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateKeyError {
    /// Not an even number of hex digits (either case, as Go's `hex.DecodeString`).
    NotHex,
    /// Hex of this many bytes instead of 32.
    Size(usize),
}

/// The upload-certs key from its hex form, as `kubeadm init --certificate-key` takes it: the
/// one decoder, used by validation and by [`crate::config::Cluster`].
pub fn decode_certificate_key(hex: &str) -> Result<[u8; 32], CertificateKeyError> {
    if !hex.len().is_multiple_of(2) {
        return Err(CertificateKeyError::NotHex);
    }
    let mut bytes = vec![0u8; hex.len() / 2];
    base16ct::mixed::decode(hex, &mut bytes).map_err(|_| CertificateKeyError::NotHex)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| CertificateKeyError::Size(bytes.len()))
}

fn cri_socket(kind: &str, s: &str, out: &mut Vec<Diagnostic>) {
    let path = "nodeRegistration.criSocket";
    if let Some((scheme, _)) = s.split_once("://") {
        if scheme != "unix" {
            out.push(
                err(kind, path, format!("Invalid value: {s:?}: only URL scheme \"unix\" is supported, got {scheme:?}"))
                    .hint("use a unix:// socket path"),
            );
        }
    }
}

fn bootstrap_token(i: usize, t: &BootstrapToken, out: &mut Vec<Diagnostic>) {
    let base = format!("bootstrapTokens[{i}]");
    if let Some(token) = &t.token {
        if !TOKEN.is_match(token) {
            out.push(
                err(INIT, format!("{base}.token"), "the bootstrap token is invalid")
                    .hint("expected 6 and 16 characters of [a-z0-9] joined by a dot, such as abcdef.0123456789abcdef; `kbc token generate` makes one"),
            );
        }
    }
    let unknown: Vec<_> = t
        .usages
        .iter()
        .filter(|u| !TOKEN_USAGES.contains(&u.as_str()))
        .collect();
    if !unknown.is_empty() {
        let list = unknown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        out.push(
            err(
                INIT,
                format!("{base}.usages"),
                format!(
                    "Invalid value: {:?}: unknown bootstrapping token usage(s): [{list}]",
                    t.usages.join(",")
                ),
            )
            .hint("allowed usages are signing and authentication"),
        );
    }
    if !t.groups.is_empty() && !t.usages.iter().any(|u| u == "authentication") {
        out.push(err(
            INIT,
            format!("{base}.groups"),
            "token groups cannot be specified unless --usages includes \"authentication\"",
        ));
    }
    for g in &t.groups {
        if !BOOTSTRAP_GROUP.is_match(g) {
            out.push(err(
                INIT,
                format!("{base}.groups"),
                format!("Invalid value: {g:?}: bootstrap group {g:?} is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]\\z)"),
            ));
        }
    }
    if t.expires.is_some()
        && t.ttl.is_some_and(|d| !d.is_zero())
        && t.ttl != Some(super::defaults::DEFAULT_TOKEN_TTL)
    {
        out.push(err(
            INIT,
            base,
            "the BootstrapToken .TTL and .Expires fields are mutually exclusive",
        ));
    }
}

fn port(kind: &str, path: &str, p: i32, out: &mut Vec<Diagnostic>) {
    if !(1..=65535).contains(&p) {
        out.push(
            err(
                kind,
                path,
                format!("Invalid value: {p}: port number is not valid"),
            )
            .hint("expected a port from 1 to 65535"),
        );
    }
}

fn args(kind: &str, path: &str, list: &[Arg], out: &mut Vec<Diagnostic>) {
    for (i, a) in list.iter().enumerate() {
        if a.name.is_empty() {
            out.push(
                err(
                    kind,
                    format!("{path}[{i}].name"),
                    format!("Invalid value: \"index {i}\": argument has no name"),
                )
                .hint("write the flag name without leading dashes, e.g. name: v"),
            );
        } else if a.name.starts_with('-') {
            out.push(
                err(
                    kind,
                    format!("{path}[{i}].name"),
                    format!(
                        "Invalid value: {:?}: the flag name must not start with dashes",
                        a.name
                    ),
                )
                .hint(format!(
                    "write {:?}: kubeadm adds the dashes itself",
                    a.name.trim_start_matches('-')
                )),
            );
        }
    }
}

fn absolute(kind: &str, path: &str, p: &str, out: &mut Vec<Diagnostic>) {
    if !p.starts_with('/') {
        out.push(
            err(
                kind,
                path,
                format!("Invalid value: {p:?}: path is not absolute"),
            )
            .hint("use an absolute path such as /etc/kubernetes/pki"),
        );
    }
}

/// Parses a comma-separated CIDR list the way `netutils.ParseCIDRs` does.
pub(crate) fn parse_cidrs(s: &str) -> Result<Vec<IpNet>, String> {
    s.split(',')
        .map(|c| {
            let c = c.trim();
            c.parse::<IpNet>()
                .map_err(|_| format!("{c:?} is not a CIDR"))
        })
        .collect()
}

/// `ValidateIPNetFromString`: parse, dual-stack shape, minimum and (service) maximum size.
fn subnets(
    path: &str,
    value: &str,
    min_addresses: u128,
    is_service: bool,
    out: &mut Vec<Diagnostic>,
) -> Vec<IpNet> {
    let nets = match parse_cidrs(value) {
        Ok(n) => n,
        Err(why) => {
            out.push(
                err(
                    CLUSTER,
                    path,
                    format!("Invalid value: {value:?}: couldn't parse subnet ({why})"),
                )
                .hint(if value.contains('/') {
                    "expected a CIDR such as 10.244.0.0/16, or two (IPv4,IPv6) for dual-stack"
                        .to_string()
                } else {
                    "add the prefix length, e.g. 10.244.0.0/16".to_string()
                }),
            );
            return Vec::new();
        }
    };
    let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
    if nets.len() > 2 || (nets.len() == 2 && v4 != 1) {
        out.push(
            err(CLUSTER, path, format!("Invalid value: {value:?}: expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking"))
                .hint("for dual-stack give one IPv4 and one IPv6 CIDR separated by a comma"),
        );
    }
    for net in &nets {
        let bits = net.max_prefix_len() - net.prefix_len();
        let size: u128 = if bits >= 127 {
            u128::MAX
        } else {
            1u128 << bits
        };
        if size < min_addresses {
            out.push(
                err(CLUSTER, path, format!("Invalid value: {:?}: subnet with {size} address(es) is too small, the minimum is {min_addresses}", net.to_string()))
                    .hint("use a shorter prefix length"),
            );
        }
        if is_service && bits > 20 {
            let (width, min_mask) = if matches!(net, IpNet::V4(_)) {
                (32, 12)
            } else {
                (128, 108)
            };
            out.push(
                err(CLUSTER, path, format!("Invalid value: {:?}: specified service subnet is too large; for {width}-bit addresses, the mask must be >= {min_mask}", net.to_string()))
                    .hint(format!("use a prefix length of /{min_mask} or longer")),
            );
        }
        if let IpNet::V6(v6) = net {
            if (v6.addr().segments()[0] & 0xffc0) == 0xfec0 {
                out.push(
                    Diagnostic::warning(
                        path,
                        format!("the subnet {net} is in the deprecated site-local range fec0::/10"),
                    )
                    .kind(CLUSTER),
                );
            }
        }
    }
    nets
}

/// The last value of a controller-manager flag, as kubeadm reads it.
fn last_arg<'a>(list: &'a [Arg], name: &str) -> Option<&'a str> {
    list.iter()
        .rev()
        .find(|a| a.name == name)
        .map(|a| a.value.as_str())
}

/// `ValidatePodSubnetNodeMask`.
fn pod_subnet_node_mask(c: &ClusterConfiguration, pods: &[IpNet], out: &mut Vec<Diagnostic>) {
    let cm = &c.controller_manager.extra_args;
    if last_arg(cm, "allocate-node-cidrs") == Some("false") {
        return;
    }
    for net in pods {
        let (flag, default) = match net {
            IpNet::V4(_) => ("node-cidr-mask-size-ipv4", 24u8),
            IpNet::V6(_) => ("node-cidr-mask-size-ipv6", 64u8),
        };
        let mask = match last_arg(cm, flag).or_else(|| last_arg(cm, "node-cidr-mask-size")) {
            None => default,
            Some(v) => match v.parse::<u8>() {
                Ok(m) => m,
                Err(e) => {
                    out.push(err(CLUSTER, "controllerManager.extraArgs", format!("could not parse the value of the kube-controller-manager flag {flag} as an integer: {e}")));
                    continue;
                }
            },
        };
        let pod_mask = net.prefix_len();
        if pod_mask > mask {
            out.push(
                err(CLUSTER, "networking.podSubnet", format!("Invalid value: {:?}: the size of pod subnet with mask {pod_mask} is smaller than the size of node subnet with mask {mask}", net.to_string()))
                    .hint(format!("use a pod subnet of /{mask} or larger, or change --{flag} of the controller manager")),
            );
        } else if mask - pod_mask > 16 {
            out.push(
                err(CLUSTER, "networking.podSubnet", format!("Invalid value: {:?}: pod subnet mask ({pod_mask}) and node-mask ({mask}) difference is greater than 16", net.to_string()))
                    .hint("a pod subnet can hold at most 65536 node subnets"),
            );
        }
    }
}

fn cert_sans(kind: &str, path: &str, sans: &[String], out: &mut Vec<Diagnostic>) {
    for (i, san) in sans.iter().enumerate() {
        if san.parse::<IpAddr>().is_ok() {
            continue;
        }
        let dns = dns1123_subdomain(san);
        let wildcard = san
            .strip_prefix("*.")
            .map(dns1123_subdomain)
            .unwrap_or_else(|| {
                vec!["a wildcard DNS-1123 subdomain must start with '*.'".to_string()]
            });
        if !dns.is_empty() && !wildcard.is_empty() {
            out.push(
                err(kind, format!("{path}[{i}]"), format!("Invalid value: {san:?}: altname is not a valid IP address, DNS label or a DNS label with subdomain wildcards: {}; {}", dns.join("; "), wildcard.join("; ")))
                    .hint("expected an IP, a lower-case DNS name or *.example.com"),
            );
        }
    }
}

fn image_repository(path: &str, repo: &str, out: &mut Vec<Diagnostic>) {
    if !REFERENCE.is_match(&format!("{repo}/name:tag")) {
        out.push(
            err(CLUSTER, path, format!("Invalid value: {repo:?}: invalid image repository format"))
                .hint("expected a registry path such as registry.example.com:5000/k8s, without tag or scheme"),
        );
    }
}

/// `ValidateClusterConfiguration` plus the checks kubeadm makes elsewhere (encryption
/// algorithm, feature gates, validity warnings). Returns the parsed subnets.
pub(crate) fn cluster(
    c: &ClusterConfiguration,
    out: &mut Vec<Diagnostic>,
) -> (Vec<IpNet>, Vec<IpNet>) {
    let n = &c.networking;
    for problem in dns1123_subdomain(&n.dns_domain) {
        out.push(err(
            CLUSTER,
            "networking.dnsDomain",
            format!("Invalid value: {:?}: {problem}", n.dns_domain),
        ));
    }
    let services = subnets("networking.serviceSubnet", &n.service_subnet, 10, true, out);
    let pods = if n.pod_subnet.is_empty() {
        Vec::new()
    } else {
        let pods = subnets("networking.podSubnet", &n.pod_subnet, 14, false, out);
        pod_subnet_node_mask(c, &pods, out);
        pods
    };
    cert_sans(CLUSTER, "apiServer.certSANs", &c.api_server.cert_sans, out);
    components(c, out);
    absolute(CLUSTER, "certificatesDir", &c.certificates_dir, out);
    feature_gates(&c.feature_gates, out);
    if !c.control_plane_endpoint.is_empty() && parse_endpoint(&c.control_plane_endpoint).is_none() {
        out.push(
            err(CLUSTER, "controlPlaneEndpoint", format!("Invalid value: {:?}: endpoint is not valid", c.control_plane_endpoint))
                .hint("expected an IP or DNS name with an optional port, such as lb.example.com:6443 or [fd00::1]:6443"),
        );
    }
    image_repository("imageRepository", &c.image_repository, out);
    if !c.dns.image_repository.is_empty() {
        image_repository("dns.imageRepository", &c.dns.image_repository, out);
    }
    etcd(&c.etcd, out);
    encryption_algorithm(&c.encryption_algorithm, out);
    validity(
        "certificateValidityPeriod",
        "certificate",
        c.certificate_validity_period,
        super::defaults::CERTIFICATE_VALIDITY,
        out,
    );
    validity(
        "caCertificateValidityPeriod",
        "CA certificate",
        c.ca_certificate_validity_period,
        super::defaults::CA_CERTIFICATE_VALIDITY,
        out,
    );
    (services, pods)
}

/// The control-plane components' extraArgs, then extraVolumes, then extraEnvs.
fn components(c: &ClusterConfiguration, out: &mut Vec<Diagnostic>) {
    let (a, m, s) = (&c.api_server, &c.controller_manager, &c.scheduler);
    let all = [
        ("apiServer", &a.extra_args, &a.extra_volumes, &a.extra_envs),
        (
            "controllerManager",
            &m.extra_args,
            &m.extra_volumes,
            &m.extra_envs,
        ),
        ("scheduler", &s.extra_args, &s.extra_volumes, &s.extra_envs),
    ];
    for (name, extra, ..) in all {
        args(CLUSTER, &format!("{name}.extraArgs"), extra, out);
    }
    for (name, _, vols, _) in all {
        volumes(&format!("{name}.extraVolumes"), vols, out);
    }
    for (name, .., envs) in all {
        env_vars(&format!("{name}.extraEnvs"), envs, out);
    }
}

/// `encryptionAlgorithm`: one of kubeadm 1.31's four.
fn encryption_algorithm(algorithm: &str, out: &mut Vec<Diagnostic>) {
    if !ENCRYPTION_ALGORITHMS.contains(&algorithm) {
        out.push(
            err(
                CLUSTER,
                "encryptionAlgorithm",
                format!(
                    "Invalid encryption algorithm {:?}. Must be one of [{}]",
                    algorithm,
                    ENCRYPTION_ALGORITHMS.join(" ")
                ),
            )
            .hint(if algorithm.starts_with("ECDSA-P384") {
                "ECDSA-P384 arrived in kubeadm 1.32; kubeadm 1.31 supports ECDSA-P256".to_string()
            } else {
                "use RSA-2048 (the default), RSA-3072, RSA-4096 or ECDSA-P256".to_string()
            }),
        );
    }
}

fn validity(
    path: &str,
    what: &str,
    v: Option<super::duration::Duration>,
    default: super::duration::Duration,
    out: &mut Vec<Diagnostic>,
) {
    let Some(v) = v else { return };
    if v.nanos() <= 0 {
        out.push(err(
            CLUSTER,
            path,
            format!(
                "Invalid value: {v:?}: the validity period must be positive",
                v = v.to_string()
            ),
        ));
    } else if v > default {
        out.push(Diagnostic::warning(path, format!("the value {v} is more than the recommended default for {what} expiration: {default}")).kind(CLUSTER));
    }
}

fn volumes(path: &str, vols: &[HostPathMount], out: &mut Vec<Diagnostic>) {
    const TYPES: [&str; 8] = [
        "",
        "DirectoryOrCreate",
        "Directory",
        "FileOrCreate",
        "File",
        "Socket",
        "CharDevice",
        "BlockDevice",
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (i, v) in vols.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if v.name.is_empty() {
            out.push(
                err(
                    CLUSTER,
                    format!("{at}.name"),
                    "Required value: a volume needs a name",
                )
                .hint("the name becomes the Pod volume's name"),
            );
        } else if !seen.insert(v.name.as_str()) {
            out.push(err(CLUSTER, format!("{at}.name"), format!("Duplicate value: {:?}", v.name)).hint("kubeadm would write a static Pod the kubelet rejects; give each volume its own name"));
        }
        if v.host_path.is_empty() {
            out.push(err(CLUSTER, format!("{at}.hostPath"), "Required value"));
        }
        if !v.mount_path.starts_with('/') {
            out.push(err(
                CLUSTER,
                format!("{at}.mountPath"),
                format!("Invalid value: {:?}: path is not absolute", v.mount_path),
            ));
        }
        if !TYPES.contains(&v.path_type.as_str()) {
            out.push(
                err(
                    CLUSTER,
                    format!("{at}.pathType"),
                    format!("Unsupported value: {:?}", v.path_type),
                )
                .hint(format!("supported values: {}", TYPES[1..].join(", "))),
            );
        }
    }
}

fn env_vars(path: &str, envs: &[EnvVar], out: &mut Vec<Diagnostic>) {
    for (i, e) in envs.iter().enumerate() {
        if e.name.is_empty() {
            out.push(err(
                CLUSTER,
                format!("{path}[{i}].name"),
                "Required value: an environment variable needs a name",
            ));
        }
        if !e.value.is_empty() && e.value_from.is_some() {
            out.push(err(
                CLUSTER,
                format!("{path}[{i}].valueFrom"),
                "Invalid value: may not be specified when `value` is not empty",
            ));
        }
    }
}

fn feature_gates(gates: &std::collections::BTreeMap<String, bool>, out: &mut Vec<Diagnostic>) {
    for (name, value) in gates {
        let path = format!("featureGates.{name}");
        if let Some(gate) = features::gate(name) {
            if let Some(why) = gate.deprecated {
                out.push(Diagnostic::warning(path, format!("Setting deprecated feature gate {name}={value}. It will be removed in a future release. {why}")).kind(CLUSTER));
            }
            continue;
        }
        let known = features::GATES
            .iter()
            .map(|g| g.name)
            .collect::<Vec<_>>()
            .join(", ");
        let hint = match features::REMOVED.iter().find(|(n, _)| n == name) {
            Some((_, since)) => format!("{name} was removed in kubeadm {since}; delete it"),
            None => format!("kubeadm's gates are {known}; core Kubernetes gates go in extraArgs or the component configs"),
        };
        out.push(
            err(
                CLUSTER,
                path,
                format!("{name} is not a valid feature name."),
            )
            .hint(hint),
        );
    }
}

fn etcd(e: &Etcd, out: &mut Vec<Diagnostic>) {
    match (&e.local, &e.external) {
        (None, None) => out.push(err(CLUSTER, "etcd", "either .Etcd.Local or .Etcd.External is required")),
        (Some(_), Some(_)) => out.push(err(CLUSTER, "etcd", ".Etcd.Local and .Etcd.External are mutually exclusive").hint("keep etcd.local for a stacked etcd or etcd.external for your own cluster, not both")),
        (Some(l), None) => {
            absolute(CLUSTER, "etcd.local.dataDir", &l.data_dir, out);
            cert_sans(CLUSTER, "etcd.local.serverCertSANs", &l.server_cert_sans, out);
            cert_sans(CLUSTER, "etcd.local.peerCertSANs", &l.peer_cert_sans, out);
            if !l.image_repository.is_empty() {
                image_repository("etcd.local.imageRepository", &l.image_repository, out);
            }
            args(CLUSTER, "etcd.local.extraArgs", &l.extra_args, out);
            env_vars("etcd.local.extraEnvs", &l.extra_envs, out);
        }
        (None, Some(x)) => {
            let files = !x.ca_file.is_empty() || !x.cert_file.is_empty() || !x.key_file.is_empty();
            if x.cert_file.is_empty() != x.key_file.is_empty() {
                out.push(err(CLUSTER, "etcd.external", "either both or none of .Etcd.External.CertFile and .Etcd.External.KeyFile must be set"));
            }
            if !x.cert_file.is_empty() && !x.key_file.is_empty() && x.ca_file.is_empty() {
                out.push(err(CLUSTER, "etcd.external", "setting .Etcd.External.CertFile and .Etcd.External.KeyFile requires .Etcd.External.CAFile"));
            }
            if x.endpoints.is_empty() {
                out.push(err(CLUSTER, "etcd.external.endpoints", "Required value: at least one etcd endpoint is needed").hint("e.g. https://10.0.0.5:2379"));
            }
            for (i, ep) in x.endpoints.iter().enumerate() {
                let at = format!("etcd.external.endpoints[{i}]");
                match ep.split_once("://") {
                    None => out.push(err(CLUSTER, at, format!("Invalid value: {ep:?}: the URL without scheme is not allowed")).hint("write https://host:2379")),
                    Some((scheme, rest)) => {
                        if rest.is_empty() || !(scheme == "https" || scheme == "http") {
                            out.push(err(CLUSTER, at.clone(), format!("Invalid value: {ep:?}: URL parse error")).hint("write https://host:2379"));
                        }
                        if files && scheme != "https" {
                            out.push(err(CLUSTER, at, format!("Invalid value: {ep:?}: the URL must be using the HTTPS scheme")).hint("client certificates need https://"));
                        }
                    }
                }
            }
            for (path, f) in [("etcd.external.caFile", &x.ca_file), ("etcd.external.certFile", &x.cert_file), ("etcd.external.keyFile", &x.key_file)] {
                if !f.is_empty() {
                    absolute(CLUSTER, path, f, out);
                }
            }
        }
    }
}

/// Splits `host[:port]` as `ParseHostPort` does and checks both parts; the port is `None`
/// when absent. Returns `None` when the endpoint is invalid.
pub(crate) fn parse_endpoint(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (h.to_string(), port)
    } else if s.matches(':').count() > 1 {
        (s.to_string(), None)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return None,
        },
    };
    if host.parse::<IpAddr>().is_err() && !dns1123_subdomain(&host).is_empty() {
        return None;
    }
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("lb.example.com", Some(("lb.example.com", None)))]
    #[test_case("lb.example.com:8443", Some(("lb.example.com", Some(8443))))]
    #[test_case("10.0.0.1:6443", Some(("10.0.0.1", Some(6443))))]
    #[test_case("[fd00::1]:6443", Some(("fd00::1", Some(6443))))]
    #[test_case("fd00::1", Some(("fd00::1", None)))]
    #[test_case("lb_example:6443", None)]
    #[test_case("lb.example.com:0", None)]
    #[test_case("lb.example.com:99999", None)]
    fn endpoints(s: &str, want: Option<(&str, Option<u16>)>) {
        let got = parse_endpoint(s);
        assert_eq!(got.as_ref().map(|(h, p)| (h.as_str(), *p)), want);
    }

    #[test_case("registry.k8s.io", true)]
    #[test_case("my.registry:5000/k8s/mirror", true)]
    #[test_case("localhost/k8s", true)]
    #[test_case("nexus.local:8122", true)]
    #[test_case("[fd00::1]:5000/k8s", true)]
    #[test_case("https://registry.k8s.io", false)]
    #[test_case("Registry.k8s.io/UPPER", false)]
    #[test_case("registry.k8s.io/pause:3.10", false)]
    fn image_repositories(repo: &str, ok: bool) {
        let mut out = Vec::new();
        image_repository("imageRepository", repo, &mut out);
        assert_eq!(out.is_empty(), ok, "{out:?}");
    }

    #[test_case("10.96.0.0/12", 0; "default service subnet")]
    #[test_case("10.96.0.0/11", 1; "too large")]
    #[test_case("10.96.0.0/29", 1; "too small")]
    #[test_case("10.96.0.0/16,fd00::/112", 0; "dual stack")]
    #[test_case("10.96.0.0/16,10.97.0.0/16", 1; "two of one family")]
    #[test_case("fd00::/104", 1; "ipv6 too large")]
    fn service_subnets(s: &str, errors: usize) {
        let mut out = Vec::new();
        subnets("networking.serviceSubnet", s, 10, true, &mut out);
        assert_eq!(
            out.iter().filter(|d| d.is_error()).count(),
            errors,
            "{out:?}"
        );
    }
}
