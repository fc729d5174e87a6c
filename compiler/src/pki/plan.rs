//! The keyless PKI plan: the files and certificate summaries [`super::render_with`] would
//! produce for a [`PkiInput`] with nothing provided, computed without generating a key.
//!
//! `kbc render` uses it to print the review rendering in milliseconds. It reads the same
//! tables as the real render (`certs::CERTS` through [`applicable`], [`alt_names`],
//! [`kubeconfig::KUBECONFIGS`]) and states the rest of what a generated certificate holds as
//! kbc's builder writes it (`certs::build`): the subject as `O=…, CN=…` (the form of
//! [`super::x509::CertInfo`]), key usages `digitalSignature, keyEncipherment` (plus
//! `keyCertSign` for CAs), the EKUs of the row, and a validity of the period plus
//! [`CERTIFICATE_BACKDATE`]. The cross-check test in `tests/review.rs` compares this plan
//! with certificates read back from compiled bundles.

use super::certs::{alt_names, applicable, ca_spec, CertSpec, Eku};
use super::existing::Provided;
use super::keys::PrivateKey;
use super::kubeconfig::KUBECONFIGS;
use super::x509::parse_pem_chain;
use super::{CaId, CertSummary, EncryptionAlgorithm, PkiError, PkiInput, CERTIFICATE_BACKDATE};

/// What a planned file holds, described without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedBody {
    /// A certificate (`.crt`).
    Certificate(CertSummary),
    /// A private key (`.key`), by algorithm: `RSA 2048`.
    PrivateKey(String),
    /// A public key (`sa.pub`), by algorithm.
    PublicKey(String),
    /// A kubeconfig with an embedded client certificate and key.
    Kubeconfig(PlannedKubeconfig),
    /// A file provided with `--pki-dir`: the bundle holds these bytes as they are.
    Provided(Vec<u8>),
}

/// A kubeconfig as `kubeconfig::render` writes it: one cluster, one context, one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedKubeconfig {
    /// Cluster name (`clusterName`).
    pub cluster: String,
    /// Server URL.
    pub server: String,
    /// User name (= the client certificate's CN).
    pub user: String,
    /// The client certificate.
    pub client_certificate: CertSummary,
    /// The client key's algorithm.
    pub key_algorithm: String,
}

/// One file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Host path without the leading `/`, as [`super::Artifact::path`].
    pub path: String,
    /// Path in kubeadm's layout (`pki/ca.crt`, `admin.conf`).
    pub kubeadm_path: String,
    /// File mode.
    pub mode: u32,
    /// Holds a private key.
    pub secret: bool,
    /// What it holds.
    pub body: PlannedBody,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiPlan {
    /// Files in [`super::render_with`]'s order.
    pub files: Vec<PlannedFile>,
    /// Non-fatal findings (skipped SANs), as the real render reports them.
    pub warnings: Vec<String>,
}

impl PkiPlan {
    /// A planned file by its kubeadm path.
    pub fn get(&self, kubeadm_path: &str) -> Option<&PlannedFile> {
        self.files.iter().find(|f| f.kubeadm_path == kubeadm_path)
    }

    /// Every certificate summary (CAs, leaves, kubeconfig clients), in file order.
    pub fn certificates(&self) -> Vec<&CertSummary> {
        self.files
            .iter()
            .filter_map(|f| match &f.body {
                PlannedBody::Certificate(c) => Some(c),
                PlannedBody::Kubeconfig(k) => Some(&k.client_certificate),
                _ => None,
            })
            .collect()
    }
}

/// The key algorithm as [`super::x509::CertInfo::key_algorithm`] spells it.
pub fn key_algorithm_name(alg: EncryptionAlgorithm) -> String {
    match alg {
        EncryptionAlgorithm::Rsa2048 => "RSA 2048".into(),
        EncryptionAlgorithm::Rsa3072 => "RSA 3072".into(),
        EncryptionAlgorithm::Rsa4096 => "RSA 4096".into(),
        EncryptionAlgorithm::EcdsaP256 => "ECDSA P-256".into(),
    }
}

/// The subject string of `O=org, CN=cn` as the x509 reader prints it.
fn subject(cn: &str, org: Option<&str>) -> String {
    match org {
        Some(o) => format!("O={o}, CN={cn}"),
        None => format!("CN={cn}"),
    }
}

fn eku_name(e: Eku) -> String {
    match e {
        Eku::ServerAuth => "serverAuth".into(),
        Eku::ClientAuth => "clientAuth".into(),
    }
}

fn key_usages(is_ca: bool) -> Vec<String> {
    let mut v = vec![
        "digitalSignature".to_string(),
        "keyEncipherment".to_string(),
    ];
    if is_ca {
        v.push("keyCertSign".into());
    }
    v
}

fn spec_subject(spec: &CertSpec, input: &PkiInput) -> String {
    subject(&spec.common_name(input), spec.org)
}

/// Plans the PKI of `input` as [`super::render_with`] renders it with no provided files.
pub fn plan(input: &PkiInput) -> Result<PkiPlan, PkiError> {
    plan_with(input, &Provided::default())
}

/// The CA's subject as its leaves name their issuer: the provided certificate's, else the
/// table's.
fn ca_subject(id: CaId, input: &PkiInput, provided: &Provided) -> Result<String, PkiError> {
    let spec = ca_spec(id);
    match provided.get(&format!("{}.crt", spec.base)) {
        Some(crt) => {
            let bad = |source| PkiError::BadCert {
                file: crt.origin.clone(),
                source,
            };
            let chain = parse_pem_chain(&crt.bytes).map_err(bad)?;
            Ok(chain[0].info().map_err(bad)?.subject)
        }
        None => Ok(spec_subject(spec, input)),
    }
}

/// Plans the PKI with files provided by `--pki-dir` (taken byte for byte, as the real render
/// takes them). Provided files are not checked here (`kbc compile` checks them). One
/// difference remains: a kubeconfig client certificate starts when its CA does, so with a
/// provided CA its validity depends on the issue time; the plan assumes the CA was issued at
/// the issue time.
pub fn plan_with(input: &PkiInput, provided: &Provided) -> Result<PkiPlan, PkiError> {
    let alg = key_algorithm_name(input.encryption_algorithm);
    let leaf_validity = input.cert_validity + CERTIFICATE_BACKDATE;
    let ca_validity = input.ca_validity + CERTIFICATE_BACKDATE;
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
    let mut warnings = Vec::new();
    let mut files = Vec::new();
    let key_file = |rel: &str, body: PlannedBody| PlannedFile {
        path: pki_path(rel),
        kubeadm_path: format!("pki/{rel}"),
        mode: 0o600,
        secret: true,
        body,
    };
    let crt_file = |rel: &str, body: PlannedBody| PlannedFile {
        path: pki_path(rel),
        kubeadm_path: format!("pki/{rel}"),
        mode: 0o644,
        secret: false,
        body,
    };
    let given = |name: &str| {
        provided
            .get(name)
            .map(|f| PlannedBody::Provided(f.bytes.clone()))
    };
    for spec in applicable(input) {
        let crt_rel = format!("{}.crt", spec.base);
        let key_rel = format!("{}.key", spec.base);
        if let Some(crt) = given(&crt_rel) {
            // Reused as is; a CA may come without its key (external CA mode).
            if spec.is_ca.is_none() {
                alt_names(spec, input, &mut warnings).map_err(PkiError::Input)?;
            }
            if let Some(key) = given(&key_rel) {
                files.push(key_file(&key_rel, key));
            }
            files.push(crt_file(&crt_rel, crt));
            continue;
        }
        let is_ca = spec.is_ca.is_some();
        let issuer = match spec.ca {
            Some(ca) => ca_subject(ca, input, provided)?,
            None => spec_subject(spec, input),
        };
        let alt = alt_names(spec, input, &mut warnings).map_err(PkiError::Input)?;
        let summary = CertSummary {
            name: spec.name.into(),
            file: format!("pki/{crt_rel}"),
            subject: spec_subject(spec, input),
            issuer,
            dns_names: alt.dns,
            ip_addresses: alt.ips,
            key_algorithm: alg.clone(),
            is_ca,
            key_usages: key_usages(is_ca),
            ext_key_usages: spec.ekus.iter().map(|e| eku_name(*e)).collect(),
            validity: if is_ca { ca_validity } else { leaf_validity },
            reused: false,
        };
        files.push(key_file(&key_rel, PlannedBody::PrivateKey(alg.clone())));
        files.push(crt_file(&crt_rel, PlannedBody::Certificate(summary)));
    }
    match provided.get("sa.key") {
        Some(k) => {
            let key = PrivateKey::from_pem(&k.bytes).map_err(|source| PkiError::BadKey {
                file: k.origin.clone(),
                source,
            })?;
            files.push(key_file("sa.key", PlannedBody::Provided(k.bytes.clone())));
            let public = given("sa.pub").unwrap_or(PlannedBody::Provided(key.public_key_pem()));
            files.push(PlannedFile {
                mode: 0o600,
                ..crt_file("sa.pub", public)
            });
        }
        None => {
            files.push(key_file("sa.key", PlannedBody::PrivateKey(alg.clone())));
            files.push(PlannedFile {
                mode: 0o600,
                ..crt_file("sa.pub", PlannedBody::PublicKey(alg.clone()))
            });
        }
    }
    let issuer = ca_subject(CaId::Ca, input, provided)?;
    for k in KUBECONFIGS {
        let user = k.common_name(input);
        let body = match provided.get(k.file) {
            Some(f) => PlannedBody::Provided(f.bytes.clone()),
            None => PlannedBody::Kubeconfig(PlannedKubeconfig {
                cluster: input.cluster_name.clone(),
                server: k.server_url(input),
                user: user.clone(),
                client_certificate: CertSummary {
                    name: k.file.into(),
                    file: k.file.into(),
                    subject: subject(&user, k.org),
                    issuer: issuer.clone(),
                    dns_names: Vec::new(),
                    ip_addresses: Vec::new(),
                    key_algorithm: alg.clone(),
                    is_ca: false,
                    key_usages: key_usages(false),
                    ext_key_usages: vec![eku_name(Eku::ClientAuth)],
                    validity: leaf_validity,
                    reused: false,
                },
                key_algorithm: alg.clone(),
            }),
        };
        files.push(PlannedFile {
            path: format!("etc/kubernetes/{}", k.file),
            kubeadm_path: k.file.to_string(),
            mode: 0o600,
            secret: true,
            body,
        });
    }
    Ok(PkiPlan { files, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_lists_every_file_of_the_default_pki() {
        let input = PkiInput::new("cp-1", "192.168.56.10".parse().unwrap());
        let p = plan(&input).unwrap();
        // 10 certificates with keys, sa pair, 5 kubeconfigs.
        assert_eq!(p.files.len(), 27);
        assert_eq!(p.certificates().len(), 15);
        let api = p.get("pki/apiserver.crt").unwrap();
        let PlannedBody::Certificate(c) = &api.body else {
            panic!("apiserver.crt is a certificate")
        };
        assert_eq!(c.subject, "CN=kube-apiserver");
        assert_eq!(c.issuer, "CN=kubernetes");
        assert_eq!(c.validity_go(), "8760h5m0s");
        assert_eq!(
            c.dns_names,
            [
                "cp-1",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"
            ]
        );
    }
}
