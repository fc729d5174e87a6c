//! The keyless PKI plan: the files and certificate summaries [`super::render`] would
//! produce for a [`PkiInput`] with nothing provided, computed without generating a key.
//!
//! `kbc render` uses it to print the review rendering in milliseconds. It reads the same
//! tables as the real render (`certs::CERTS` through [`applicable`], [`alt_names`],
//! [`super::kubeconfig::for_node`]) and states the rest of what a generated certificate holds as
//! kbc's builder writes it (`certs::build`): the subject as `O=…, CN=…` (the form of
//! [`super::x509::CertInfo`]), key usages `digitalSignature, keyEncipherment` (plus
//! `keyCertSign` for CAs), the EKUs of the row, and a validity of the period plus
//! [`CERTIFICATE_BACKDATE`]. The cross-check test in `tests/review.rs` compares this plan
//! with certificates read back from compiled bundles.

use super::certs::{alt_names, applicable, ca_spec, CertSpec, Eku};
use super::existing::Provided;
use super::keys::PrivateKey;
use super::kubeconfig::for_node;
use super::layout::{self, Slot};
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
    /// Files in [`super::render`]'s order.
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
pub(crate) fn key_algorithm_name(alg: EncryptionAlgorithm) -> String {
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
pub fn plan(input: &PkiInput, provided: &Provided) -> Result<PkiPlan, PkiError> {
    let mut planner = Planner {
        input,
        provided,
        alg: key_algorithm_name(input.encryption_algorithm),
        files: Vec::new(),
        warnings: Vec::new(),
    };
    for spec in applicable(input) {
        planner.cert_row(spec)?;
    }
    if input.has_service_account() {
        planner.service_account_pair()?;
    }
    planner.kubeconfigs()?;
    Ok(PkiPlan {
        files: planner.files,
        warnings: planner.warnings,
    })
}

impl PlannedFile {
    /// `body` at `slot`.
    fn at(slot: Slot, body: PlannedBody) -> PlannedFile {
        PlannedFile {
            path: slot.path,
            kubeadm_path: slot.kubeadm_path,
            mode: slot.mode,
            secret: slot.secret,
            body,
        }
    }
}

/// The plan in progress, in the real render's order.
struct Planner<'a> {
    input: &'a PkiInput,
    provided: &'a Provided,
    /// The key algorithm as summaries print it.
    alg: String,
    files: Vec<PlannedFile>,
    warnings: Vec<String>,
}

impl Planner<'_> {
    fn given(&self, name: &str) -> Option<PlannedBody> {
        self.provided
            .get(name)
            .map(|f| PlannedBody::Provided(f.bytes.clone()))
    }

    /// One row of the certificate table: its key and certificate, provided or planned.
    fn cert_row(&mut self, spec: &CertSpec) -> Result<(), PkiError> {
        let (input, provided) = (self.input, self.provided);
        let crt_rel = format!("{}.crt", spec.base);
        if let Some(crt) = self.given(&crt_rel) {
            // Reused as is; a CA may come without its key (external CA mode).
            if spec.is_ca.is_none() {
                alt_names(spec, input, &mut self.warnings).map_err(PkiError::Input)?;
            }
            let key = self.given(&format!("{}.key", spec.base));
            // A worker signs with a CA key but never receives it (as in the real render).
            if let Some(key) = key.filter(|_| spec.is_ca.is_none() || input.has_ca_keys()) {
                self.files
                    .push(PlannedFile::at(layout::key(input, spec.base), key));
            }
            self.files
                .push(PlannedFile::at(layout::cert(input, spec.base), crt));
            return Ok(());
        }
        let is_ca = spec.is_ca.is_some();
        let issuer = match spec.ca {
            Some(ca) => ca_subject(ca, input, provided)?,
            None => spec_subject(spec, input),
        };
        let alt = alt_names(spec, input, &mut self.warnings).map_err(PkiError::Input)?;
        let validity = if is_ca {
            input.ca_validity
        } else {
            input.cert_validity
        };
        let summary = CertSummary {
            name: spec.name.into(),
            file: format!("pki/{crt_rel}"),
            subject: spec_subject(spec, input),
            issuer,
            dns_names: alt.dns,
            ip_addresses: alt.ips,
            key_algorithm: self.alg.clone(),
            is_ca,
            key_usages: key_usages(is_ca),
            ext_key_usages: spec.ekus.iter().map(|e| eku_name(*e)).collect(),
            validity: validity + CERTIFICATE_BACKDATE,
            reused: false,
        };
        if !is_ca || input.has_ca_keys() {
            let key = PlannedBody::PrivateKey(self.alg.clone());
            self.files
                .push(PlannedFile::at(layout::key(input, spec.base), key));
        }
        self.files.push(PlannedFile::at(
            layout::cert(input, spec.base),
            PlannedBody::Certificate(summary),
        ));
        Ok(())
    }

    /// `sa.key` and `sa.pub`: provided (the public half derived from the key when only the
    /// key is given), or planned.
    fn service_account_pair(&mut self) -> Result<(), PkiError> {
        let (key, public) = match self.provided.get("sa.key") {
            Some(k) => {
                let key = PrivateKey::from_pem(&k.bytes).map_err(|source| PkiError::BadKey {
                    file: k.origin.clone(),
                    source,
                })?;
                let public = self
                    .given("sa.pub")
                    .unwrap_or(PlannedBody::Provided(key.public_key_pem()));
                (PlannedBody::Provided(k.bytes.clone()), public)
            }
            None => (
                PlannedBody::PrivateKey(self.alg.clone()),
                PlannedBody::PublicKey(self.alg.clone()),
            ),
        };
        self.files
            .push(PlannedFile::at(layout::key(self.input, "sa"), key));
        self.files
            .push(PlannedFile::at(layout::sa_pub(self.input), public));
        Ok(())
    }

    /// The five kubeconfigs, each with a client certificate signed by the cluster CA.
    fn kubeconfigs(&mut self) -> Result<(), PkiError> {
        let input = self.input;
        let issuer = ca_subject(CaId::Ca, input, self.provided)?;
        for k in for_node(input) {
            let user = k.common_name(input);
            let body = match self.given(k.file) {
                Some(given) => given,
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
                        key_algorithm: self.alg.clone(),
                        is_ca: false,
                        key_usages: key_usages(false),
                        ext_key_usages: vec![eku_name(Eku::ClientAuth)],
                        validity: input.cert_validity + CERTIFICATE_BACKDATE,
                        reused: false,
                    },
                    key_algorithm: self.alg.clone(),
                }),
            };
            self.files
                .push(PlannedFile::at(layout::kubeconfig(k.file), body));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_lists_every_file_of_the_default_pki() {
        let input = PkiInput::new("cp-1", "192.168.56.10".parse().unwrap());
        let p = plan(&input, &Provided::default()).unwrap();
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
