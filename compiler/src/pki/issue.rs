//! The procedure behind [`super::render`], one function per kubeadm step
//! (`cmd/kubeadm/app/phases/certs/certlist.go`: `CreateAsCA` per CA row, `CreateFromCA` per
//! leaf row; `cmd/kubeadm/app/phases/kubeconfig/`): load the provided CAs, check external-CA
//! mode, derive every missing key at once, then issue (or reuse) each row of the `CERTS`
//! table in order, the service-account pair and the kubeconfigs.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::certs::{self, alt_names, applicable, AltNames, BuildParams, CaId, CertSpec};
use super::layout;
use super::x509::{self, Cert};
use super::{
    add_duration, build_err, check_issuer, covers, hex, kubeconfig, name_from_der, summary,
    Artifact, CaMaterial, CertSummary, EncryptionAlgorithm, IssueTime, PkiError, PkiInput,
    PkiOutput, PrivateKey, Provided, ProvidedFile, Seed, CERTIFICATE_BACKDATE,
};

/// A CA certificate found among the provided files, checked.
struct ProvidedCa {
    id: CaId,
    /// `None`: kbc issues this CA.
    cert: Option<ProvidedCaCert>,
    /// The CA's key and its file bytes; `None` with the certificate alone (external CA).
    key: Option<(PrivateKey, Vec<u8>)>,
}

struct ProvidedCaCert {
    cert: Cert,
    info: x509::CertInfo,
    file: Vec<u8>,
    origin: String,
}

/// The validity window of every certificate of one render.
struct Times {
    start: OffsetDateTime,
    not_before: OffsetDateTime,
    leaf_not_after: OffsetDateTime,
    ca_not_before: OffsetDateTime,
    ca_not_after: OffsetDateTime,
}

/// One render in progress: its inputs, the derived keys still to use, and its outputs.
struct Renderer<'a> {
    input: &'a PkiInput,
    seed: &'a Seed,
    provided: &'a Provided,
    times: Times,
    keys: BTreeMap<String, PrivateKey>,
    cas: Vec<CaMaterial>,
    artifacts: Vec<Artifact>,
    summaries: Vec<CertSummary>,
    warnings: Vec<String>,
}

/// The derivation label of the key of `base` (`kbc/v1/pki/apiserver.key/RSA-2048`).
fn key_label(base: &str, alg: EncryptionAlgorithm) -> String {
    format!("kbc/v1/pki/{base}.key/{alg}")
}

/// The derivation label of a kubeconfig's client key.
fn kubeconfig_key_label(file: &str, alg: EncryptionAlgorithm) -> String {
    format!("kbc/v1/kubeconfig/{file}/{alg}")
}

/// The keys a render derives: [`key_jobs`] of the applicable rows.
pub(super) fn planned_keys(
    input: &PkiInput,
    provided: &Provided,
) -> Vec<(String, EncryptionAlgorithm)> {
    let specs: Vec<&'static CertSpec> = applicable(input).collect();
    key_jobs(input, provided, &specs)
}

pub(super) fn render(
    input: &PkiInput,
    secrets: &super::PkiSecrets,
    at: IssueTime,
    cache: &super::KeyCache,
) -> Result<PkiOutput, PkiError> {
    let provided = &secrets.provided;
    let start = at.at();
    let backdate = time::Duration::try_from(CERTIFICATE_BACKDATE).expect("5 minutes");
    // CAs start when the secrets say (docs/clusters.md): every bundle of a cluster, on
    // whatever day it is compiled, carries the same CA certificates.
    let ca_start = secrets.ca_issued_at.map_or(start, IssueTime::at);
    let times = Times {
        start,
        not_before: start - backdate,
        leaf_not_after: add_duration(start, input.cert_validity)?,
        ca_not_before: ca_start - backdate,
        ca_not_after: add_duration(ca_start, input.ca_validity)?,
    };
    let specs: Vec<&'static CertSpec> = applicable(input).collect();
    let mut warnings = Vec::new();
    let mut loaded = Vec::new();
    for spec in &specs {
        if let Some(id) = spec.is_ca {
            loaded.push(load_provided_ca(provided, spec, id, start, &mut warnings)?);
        }
    }
    let external: Vec<CaId> = loaded
        .iter()
        .filter(|c| c.cert.is_some() && c.key.is_none())
        .map(|c| c.id)
        .collect();
    check_external_ca_mode(provided, &specs, &external)?;
    let jobs = key_jobs(input, provided, &specs);
    cache.fill(secrets.seed, &jobs);
    let keys = jobs
        .into_iter()
        .filter_map(|(label, alg)| cache.get(secrets.seed, &label, alg).map(|k| (label, k)))
        .collect();
    let mut r = Renderer {
        input,
        seed: secrets.seed,
        provided,
        times,
        keys,
        cas: Vec::new(),
        artifacts: Vec::new(),
        summaries: Vec::new(),
        warnings,
    };
    for spec in &specs {
        match spec.is_ca {
            Some(id) => {
                let provided_ca = loaded
                    .iter_mut()
                    .find(|c| c.id == id)
                    .expect("every applicable CA was examined");
                r.ca(spec, provided_ca)?;
            }
            None => r.leaf(spec)?,
        }
    }
    if input.has_service_account() {
        r.service_account_pair()?;
    }
    r.kubeconfigs()?;
    r.finish(external)
}

/// Reads and checks the provided certificate (and key) of CA row `spec`; kubeadm's
/// `LoadCertificateAuthority` with kbc's stricter checks (docs/differences.md).
fn load_provided_ca(
    provided: &Provided,
    spec: &CertSpec,
    id: CaId,
    start: OffsetDateTime,
    warnings: &mut Vec<String>,
) -> Result<ProvidedCa, PkiError> {
    let Some(crt) = provided.get(&format!("{}.crt", spec.base)) else {
        return Ok(ProvidedCa {
            id,
            cert: None,
            key: None,
        });
    };
    let bad = |source| PkiError::BadCert {
        file: crt.origin.clone(),
        source,
    };
    let chain = x509::parse_pem_chain(&crt.bytes).map_err(bad)?;
    let infos = chain
        .iter()
        .map(x509::Cert::info)
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let info = infos[0].clone();
    check_ca_usable(crt, id, &infos, start, warnings)?;
    let key = match provided.get(&format!("{}.key", spec.base)) {
        Some(k) => Some((matching_key(k, &info, crt)?, k.bytes.clone())),
        None => None,
    };
    let cert = chain
        .into_iter()
        .next()
        .expect("parse_pem_chain returns at least one");
    Ok(ProvidedCa {
        id,
        cert: Some(ProvidedCaCert {
            cert,
            info,
            file: crt.bytes.clone(),
            origin: crt.origin.clone(),
        }),
        key,
    })
}

/// A provided CA certificate must be a CA that can sign leaves and be valid at the issue
/// time; one not valid yet is a warning.
fn check_ca_usable(
    crt: &ProvidedFile,
    id: CaId,
    infos: &[x509::CertInfo],
    start: OffsetDateTime,
    warnings: &mut Vec<String>,
) -> Result<(), PkiError> {
    let info = &infos[0];
    if !info.is_ca {
        return Err(PkiError::NotCa {
            file: crt.origin.clone(),
            name: id.name().into(),
        });
    }
    if let Some(reason) = x509::ca_unusable(infos) {
        return Err(PkiError::CaUnusable {
            file: crt.origin.clone(),
            name: id.name().into(),
            reason,
        });
    }
    if info.not_after < start {
        return Err(PkiError::CaExpired {
            file: crt.origin.clone(),
            name: id.name().into(),
            not_after: info.not_after,
            at: start,
        });
    }
    if info.not_before > start {
        warnings.push(format!(
            "{}: the {} certificate is not valid before {}",
            crt.origin,
            id.name(),
            info.not_before
        ));
    }
    Ok(())
}

/// The provided key `k`, which must belong to the certificate `info` of `crt`.
fn matching_key(
    k: &ProvidedFile,
    info: &x509::CertInfo,
    crt: &ProvidedFile,
) -> Result<PrivateKey, PkiError> {
    let key = PrivateKey::from_pem(&k.bytes).map_err(|source| PkiError::BadKey {
        file: k.origin.clone(),
        source,
    })?;
    if info.spki != key.spki_der() {
        return Err(PkiError::KeyMismatch {
            cert_file: crt.origin.clone(),
            key_file: k.origin.clone(),
        });
    }
    Ok(key)
}

/// A leaf certificate and its key, as files.
struct Leaf {
    cert_file: Vec<u8>,
    key_file: Vec<u8>,
    der: Vec<u8>,
    /// Provided rather than issued.
    reused: bool,
}

/// A provided leaf: its key must match, its CA must have signed it, and it must hold every
/// SAN kubeadm would write. Returns the leaf and its NotAfter.
fn reused_leaf(
    provided: &Provided,
    crt: &ProvidedFile,
    key_rel: &str,
    ca: &CaMaterial,
    alt: &AltNames,
) -> Result<(Leaf, OffsetDateTime), PkiError> {
    let key = provided.get(key_rel).ok_or_else(|| PkiError::Incomplete {
        file: crt.origin.clone(),
        missing: key_rel.to_string(),
    })?;
    let bad = |source| PkiError::BadCert {
        file: crt.origin.clone(),
        source,
    };
    let chain = x509::parse_pem_chain(&crt.bytes).map_err(bad)?;
    let cert = &chain[0];
    let info = cert.info().map_err(bad)?;
    matching_key(key, &info, crt)?;
    if !cert.is_signed_by(&ca.cert).map_err(bad)? {
        return Err(PkiError::NotSignedBy {
            file: crt.origin.clone(),
            ca: ca.id.name().into(),
        });
    }
    let mut lacking: Vec<String> = alt
        .dns
        .iter()
        .filter(|d| !covers(&info.dns_names, d))
        .cloned()
        .collect();
    lacking.extend(
        alt.ips
            .iter()
            .filter(|ip| !info.ip_addresses.contains(ip))
            .map(|ip| ip.to_string()),
    );
    if !lacking.is_empty() {
        return Err(PkiError::MissingSans {
            file: crt.origin.clone(),
            missing: lacking.join(", "),
        });
    }
    let leaf = Leaf {
        cert_file: crt.bytes.clone(),
        key_file: key.bytes.clone(),
        der: cert.der.clone(),
        reused: true,
    };
    Ok((leaf, info.not_after))
}

/// External CA mode (a CA certificate without its key): every file that CA would sign must
/// be provided; one error lists all that are missing.
fn check_external_ca_mode(
    provided: &Provided,
    specs: &[&CertSpec],
    external: &[CaId],
) -> Result<(), PkiError> {
    let mut missing = Vec::new();
    for spec in specs
        .iter()
        .filter(|s| s.ca.is_some_and(|c| external.contains(&c)))
    {
        for ext in ["crt", "key"] {
            let n = format!("{}.{ext}", spec.base);
            if provided.get(&n).is_none() {
                missing.push(n);
            }
        }
    }
    if external.contains(&CaId::Ca) {
        if provided.get("sa.key").is_none() {
            missing.push("sa.key".into());
        }
        for k in kubeconfig::KUBECONFIGS {
            if provided.get(k.file).is_none() {
                missing.push(k.file.into());
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(PkiError::ExternalCaMissing {
        cas: external
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", "),
        missing,
    })
}

/// Every key this render must derive, in a fixed order (the table's, then `sa`, then the
/// kubeconfigs): derived in parallel, assembled by label.
fn key_jobs(
    input: &PkiInput,
    provided: &Provided,
    specs: &[&CertSpec],
) -> Vec<(String, EncryptionAlgorithm)> {
    let alg = input.encryption_algorithm;
    let mut jobs = Vec::new();
    for spec in specs {
        if provided.get(&format!("{}.crt", spec.base)).is_none() {
            let label = key_label(spec.base, alg);
            match spec.is_ca {
                Some(_) => jobs.push((label, alg)),
                None => jobs.push((input.scoped_label(&label), alg)),
            }
        }
    }
    if input.has_service_account() && provided.get("sa.key").is_none() {
        jobs.push((key_label("sa", alg), alg));
    }
    for k in kubeconfig::for_node(input) {
        if provided.get(k.file).is_none() {
            jobs.push((input.scoped_label(&kubeconfig_key_label(k.file, alg)), alg));
        }
    }
    jobs
}

impl Renderer<'_> {
    fn take_key(&mut self, label: &str) -> PrivateKey {
        self.keys
            .remove(label)
            .expect("a key was derived for every planned label")
    }

    fn push(&mut self, slot: layout::Slot, bytes: Vec<u8>) {
        self.artifacts.push(Artifact::at(slot, bytes));
    }

    fn serial(&self, label: &str) -> u64 {
        self.seed.serial(label)
    }

    /// kubeadm's `CreateAsCA`: the provided CA, or a new self-signed one.
    fn ca(&mut self, spec: &CertSpec, provided: &mut ProvidedCa) -> Result<(), PkiError> {
        let crt_rel = format!("{}.crt", spec.base);
        let material = match provided.cert.take() {
            Some(c) => {
                let name = name_from_der(&c.cert.der).ok_or_else(|| PkiError::IssuerName {
                    file: c.origin.clone(),
                })?;
                let key = provided.key.take();
                CaMaterial {
                    id: provided.id,
                    cert: c.cert,
                    info: c.info,
                    cert_file: c.file,
                    cert_origin: c.origin,
                    key_file: key.as_ref().map(|(_, b)| b.clone()),
                    key: key.map(|(k, _)| k),
                    name,
                    reused: true,
                }
            }
            None => self.new_ca(spec, provided.id, &crt_rel)?,
        };
        // A worker signs its kubelet.conf with the CA key but never receives it.
        if let Some(kf) = material
            .key_file
            .as_ref()
            .filter(|_| self.input.has_ca_keys())
        {
            self.push(layout::key(self.input, spec.base), kf.clone());
        }
        self.push(
            layout::cert(self.input, spec.base),
            material.cert_file.clone(),
        );
        self.summaries.push(summary(
            spec.name,
            &format!("pki/{crt_rel}"),
            &material.cert.der,
            material.reused,
        )?);
        self.cas.push(material);
        Ok(())
    }

    fn new_ca(&mut self, spec: &CertSpec, id: CaId, crt_rel: &str) -> Result<CaMaterial, PkiError> {
        let key = self.take_key(&key_label(spec.base, self.input.encryption_algorithm));
        let cn = spec.common_name(self.input);
        let params = BuildParams {
            cn: cn.clone(),
            org: spec.org.map(str::to_string),
            serial: self.serial(&format!("kbc/v1/pki/{crt_rel}/serial")),
            not_before: self.times.ca_not_before,
            not_after: self.times.ca_not_after,
            is_ca: true,
            ekus: Vec::new(),
            alt: alt_names(spec, self.input, &mut self.warnings).map_err(PkiError::Input)?,
        };
        let der = certs::build(&params, &key, None).map_err(build_err(spec.name))?;
        let cert = Cert { der };
        let info = cert.info().map_err(|source| PkiError::BadCert {
            file: crt_rel.to_string(),
            source,
        })?;
        Ok(CaMaterial {
            id,
            cert_file: cert.to_pem(),
            cert,
            info,
            cert_origin: crt_rel.to_string(),
            key_file: Some(key.to_pem()),
            key: Some(key),
            name: certs::subject_name(&cn, spec.org),
            reused: false,
        })
    }

    /// kubeadm's `CreateFromCA`: the provided leaf (checked against its CA and the SANs it
    /// must hold), or a new one signed by its CA.
    fn leaf(&mut self, spec: &CertSpec) -> Result<(), PkiError> {
        let ca_id = spec.ca.expect("a row is a CA or has one");
        let ca_index = self
            .cas
            .iter()
            .position(|c| c.id == ca_id)
            .expect("CAs precede their leaves in CERTS");
        let crt_rel = format!("{}.crt", spec.base);
        let key_rel = format!("{}.key", spec.base);
        let alt = alt_names(spec, self.input, &mut self.warnings).map_err(PkiError::Input)?;
        let leaf = match self.provided.get(&crt_rel) {
            Some(crt) => {
                let ca = &self.cas[ca_index];
                let (leaf, not_after) = reused_leaf(self.provided, crt, &key_rel, ca, &alt)?;
                if not_after < self.times.start {
                    self.warnings.push(format!(
                        "{}: the existing certificate expired at {not_after}",
                        crt.origin
                    ));
                }
                leaf
            }
            None => {
                if let Some(k) = self.provided.get(&key_rel) {
                    return Err(PkiError::Incomplete {
                        file: k.origin.clone(),
                        missing: crt_rel.clone(),
                    });
                }
                self.new_leaf(spec, &crt_rel, ca_index, alt)?
            }
        };
        self.push(layout::key(self.input, spec.base), leaf.key_file);
        self.push(layout::cert(self.input, spec.base), leaf.cert_file);
        self.summaries.push(summary(
            spec.name,
            &format!("pki/{crt_rel}"),
            &leaf.der,
            leaf.reused,
        )?);
        Ok(())
    }

    fn new_leaf(
        &mut self,
        spec: &CertSpec,
        crt_rel: &str,
        ca_index: usize,
        alt: AltNames,
    ) -> Result<Leaf, PkiError> {
        let alg = self.input.encryption_algorithm;
        let key = self.take_key(&self.input.scoped_label(&key_label(spec.base, alg)));
        let params = BuildParams {
            cn: spec.common_name(self.input),
            org: spec.org.map(str::to_string),
            serial: self.serial(
                &self
                    .input
                    .scoped_label(&format!("kbc/v1/pki/{crt_rel}/serial")),
            ),
            not_before: self.times.not_before,
            not_after: self.times.leaf_not_after,
            is_ca: false,
            ekus: spec.ekus.to_vec(),
            alt,
        };
        let ca = &self.cas[ca_index];
        let signer = ca.signer().expect("external CA leaves are provided");
        let der = certs::build(&params, &key, Some(&signer)).map_err(build_err(spec.name))?;
        check_issuer(&der, ca)?;
        let pem = Cert { der: der.clone() }.to_pem();
        Ok(Leaf {
            cert_file: pem,
            key_file: key.to_pem(),
            der,
            reused: false,
        })
    }

    /// `sa.key` and `sa.pub`: provided (the public key must match), or derived.
    fn service_account_pair(&mut self) -> Result<(), PkiError> {
        let (sa_key, sa_pub) = match self.provided.get("sa.key") {
            Some(k) => {
                let key = PrivateKey::from_pem(&k.bytes).map_err(|source| PkiError::BadKey {
                    file: k.origin.clone(),
                    source,
                })?;
                let public = match self.provided.get("sa.pub") {
                    Some(p) => {
                        let given = pem::parse(&p.bytes).map_err(|e| PkiError::Read {
                            file: p.origin.clone(),
                            detail: format!("malformed PEM: {e}"),
                        })?;
                        if given.tag() != "PUBLIC KEY" || given.contents() != key.spki_der() {
                            return Err(PkiError::KeyMismatch {
                                cert_file: p.origin.clone(),
                                key_file: k.origin.clone(),
                            });
                        }
                        p.bytes.clone()
                    }
                    None => key.public_key_pem(),
                };
                (k.bytes.clone(), public)
            }
            None => {
                let key = self.take_key(&key_label("sa", self.input.encryption_algorithm));
                (key.to_pem(), key.public_key_pem())
            }
        };
        self.push(layout::key(self.input, "sa"), sa_key);
        self.push(layout::sa_pub(self.input), sa_pub);
        Ok(())
    }

    /// The five kubeconfigs, each with a client certificate signed by `ca` (or provided).
    fn kubeconfigs(&mut self) -> Result<(), PkiError> {
        for k in kubeconfig::for_node(self.input) {
            let (bytes, der, reused) = match self.provided.get(k.file) {
                Some(existing) => self.reused_kubeconfig(k, existing)?,
                None => self.new_kubeconfig(k)?,
            };
            self.push(layout::kubeconfig(k.file), bytes);
            if let Some(der) = der {
                self.summaries.push(summary(k.file, k.file, &der, reused)?);
            }
        }
        Ok(())
    }

    fn cluster_ca(&self) -> &CaMaterial {
        self.cas
            .iter()
            .find(|c| c.id == CaId::Ca)
            .expect("the ca row is always applicable")
    }

    /// A provided kubeconfig: it must carry the cluster CA; another server URL is a warning.
    #[allow(clippy::type_complexity)]
    fn reused_kubeconfig(
        &mut self,
        k: &kubeconfig::KubeconfigSpec,
        existing: &ProvidedFile,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>, bool), PkiError> {
        let server = k.server_url(self.input);
        let ca = self.cluster_ca();
        let bad = |detail: String| PkiError::BadKubeconfig {
            file: existing.origin.clone(),
            detail,
        };
        let parsed = kubeconfig::parse(&existing.bytes).map_err(bad)?;
        if parsed.ca_data.trim_ascii() != ca.cert.to_pem().trim_ascii() {
            return Err(bad(format!(
                "the kubeconfig exists but carries another CA certificate than {}",
                ca.cert_origin
            )));
        }
        if parsed.server != server {
            self.warnings.push(format!(
                "{}: the server URL is {:?}, kubeadm would write {:?}",
                existing.origin, parsed.server, server
            ));
        }
        let der = if parsed.client_cert.is_empty() {
            None
        } else {
            Some(
                x509::parse_pem_chain(&parsed.client_cert)
                    .map_err(|e| bad(format!("client-certificate-data: {e}")))?[0]
                    .der
                    .clone(),
            )
        };
        Ok((existing.bytes.clone(), der, true))
    }

    #[allow(clippy::type_complexity)]
    fn new_kubeconfig(
        &mut self,
        k: &kubeconfig::KubeconfigSpec,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>, bool), PkiError> {
        let alg = self.input.encryption_algorithm;
        let key = self.take_key(&self.input.scoped_label(&kubeconfig_key_label(k.file, alg)));
        let user = k.common_name(self.input);
        let ca = self.cluster_ca();
        let params = BuildParams {
            cn: user.clone(),
            org: k.org.map(str::to_string),
            serial: self.serial(
                &self
                    .input
                    .scoped_label(&format!("kbc/v1/kubeconfig/{}/serial", k.file)),
            ),
            // kubeadm's signer starts a kubeconfig's certificate when its CA starts: with a
            // fresh CA that is the issue time; with a provided one, that CA's NotBefore.
            // kbc's own CAs may start earlier (caIssuedAt), and count as fresh here
            // (docs/differences.md).
            not_before: if ca.reused {
                ca.info.not_before
            } else {
                self.times.not_before
            },
            not_after: self.times.leaf_not_after,
            is_ca: false,
            ekus: vec![certs::Eku::ClientAuth],
            alt: AltNames::default(),
        };
        let signer = ca.signer().expect("external CA kubeconfigs are provided");
        let der = certs::build(&params, &key, Some(&signer)).map_err(build_err(k.file))?;
        check_issuer(&der, ca)?;
        let cert_pem = Cert { der: der.clone() }.to_pem();
        let bytes = kubeconfig::render(
            &self.input.cluster_name,
            &k.server_url(self.input),
            &user,
            &ca.cert.to_pem(),
            &cert_pem,
            &key.to_pem(),
        );
        Ok((bytes, Some(der), false))
    }

    fn finish(self, external_cas: Vec<CaId>) -> Result<PkiOutput, PkiError> {
        let ca = self.cluster_ca();
        let discovery_token_ca_cert_hash =
            format!("sha256:{}", hex(&Sha256::digest(&ca.info.spki)));
        Ok(PkiOutput {
            artifacts: self.artifacts,
            certificates: self.summaries,
            warnings: self.warnings,
            discovery_token_ca_cert_hash,
            external_cas,
        })
    }
}
