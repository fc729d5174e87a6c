//! What `kbc inspect` says of a verified bundle before its review rendering: digest, issue
//! time, the absolute validity of every certificate and the cluster-info JWS of each signing
//! token. Unlike the rendering it depends on the seed and the issue time. One value,
//! [`Inspection`], printed as text ([`Inspection::to_text`]) or as the JSON document of
//! docs/json-output.md (`kind: BundleInspection`).

use base64::Engine;
use kbc_bundle::VerifiedBundle;
use serde::ser::SerializeMap;

use crate::pki::x509::parse_pem_chain;
use crate::review::{self, parse_yaml, scalar, ReviewInput};

/// The facts `kbc inspect` prints.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Inspection {
    api_version: &'static str,
    kind: &'static str,
    pub digest: String,
    /// Always `ok` (a refused bundle gives a [`Refusal`]).
    verification: &'static str,
    /// The bundle format (`kbc.bundle/v1`).
    pub format: String,
    pub issued_at: String,
    pub kbc_version: String,
    /// Every certificate of the bundle's host files, kubeconfigs' client certificates
    /// included, in bundle order.
    pub certificates: Vec<CertificateDates>,
    /// `jws-kubeconfig-<token id>` → the detached JWS kubeadm puts into cluster-info.
    #[serde(rename = "clusterInfoJWS")]
    pub cluster_info_jws: OrderedMap,
    /// The review rendering (the text `kbc render` prints).
    pub review: String,
}

/// One certificate's dates.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CertificateDates {
    /// The bundle path of the file holding it.
    pub path: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// Lower-case hex.
    pub serial: String,
}

/// String pairs serialized as a JSON object in their order.
#[derive(Debug, Default)]
pub(crate) struct OrderedMap(pub Vec<(String, String)>);

impl serde::Serialize for OrderedMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Inspection {
    /// Reads the facts of a verified bundle.
    pub fn of(b: &VerifiedBundle) -> Inspection {
        let input = ReviewInput::from_bundle(b);
        let mut jws = OrderedMap::default();
        if let Some(kc) = review::cluster_info_kubeconfig(&input.files) {
            for t in review::find_tokens(&input.files)
                .iter()
                .filter(|t| t.signing)
            {
                jws.0.push((
                    format!("jws-kubeconfig-{}", t.id),
                    review::detached_jws(&kc, &t.id, &t.secret),
                ));
            }
        }
        Inspection {
            api_version: kbc_bundle::cli::OUTPUT_API_VERSION,
            kind: "BundleInspection",
            digest: b.digest.clone(),
            verification: "ok",
            format: b.manifest.format.clone(),
            issued_at: b.manifest.issued_at.clone(),
            kbc_version: b.manifest.kbc_version.clone(),
            certificates: certificate_dates(b),
            cluster_info_jws: jws,
            review: review::render(&input),
        }
    }

    /// The text of `kbc inspect`: a YAML-like header, then the review rendering.
    pub fn to_text(&self) -> String {
        let mut out = String::from("# kbc inspect\n");
        out.push_str(&format!("digest: {}\n", self.digest));
        out.push_str(&format!("verification: {}\n", self.verification));
        out.push_str(&format!("issuedAt: {}\n", scalar(&self.issued_at)));
        out.push_str(&format!("kbcVersion: {}\n", scalar(&self.kbc_version)));
        out.push_str("certificates:\n");
        for c in &self.certificates {
            out.push_str(&format!(
                "- {}: {} .. {} (serial {})\n",
                c.path, c.not_before, c.not_after, c.serial
            ));
        }
        if self.cluster_info_jws.0.is_empty() {
            out.push_str("clusterInfoJWS: {}\n");
        } else {
            out.push_str("clusterInfoJWS:\n");
            for (key, jws) in &self.cluster_info_jws.0 {
                out.push_str(&format!("  {key}: {jws}\n"));
            }
        }
        out.push_str(&self.review);
        out
    }
}

/// Why `kbc inspect --output json` refused a bundle: the same document with only these
/// fields.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refusal {
    api_version: &'static str,
    kind: &'static str,
    verification: &'static str,
    error: String,
}

impl Refusal {
    pub fn new(error: &dyn std::fmt::Display) -> Refusal {
        Refusal {
            api_version: kbc_bundle::cli::OUTPUT_API_VERSION,
            kind: "BundleInspection",
            verification: "refused",
            error: error.to_string(),
        }
    }
}

fn certificate_dates(b: &VerifiedBundle) -> Vec<CertificateDates> {
    let date = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| t.to_string())
    };
    let mut out = Vec::new();
    for f in b.files.iter().filter(|f| f.rootfs_path().is_some()) {
        for info in certificates_in(&f.path, &f.data) {
            out.push(CertificateDates {
                path: f.path.clone(),
                not_before: date(info.not_before),
                not_after: date(info.not_after),
                serial: info.serial_hex,
            });
        }
    }
    out
}

/// The certificates of a PEM file or of a kubeconfig's users.
fn certificates_in(path: &str, data: &[u8]) -> Vec<crate::pki::x509::CertInfo> {
    let mut pems = Vec::new();
    if data.starts_with(b"-----BEGIN CERTIFICATE") {
        pems.push(data.to_vec());
    } else if path.ends_with(".conf") {
        let v = std::str::from_utf8(data).ok().and_then(parse_yaml);
        for u in v
            .as_ref()
            .and_then(|v| v["users"].as_array())
            .into_iter()
            .flatten()
        {
            let cert = u["user"]["client-certificate-data"].as_str().unwrap_or("");
            if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(cert) {
                pems.push(d);
            }
        }
    }
    pems.iter()
        .filter(|d| !d.is_empty())
        .filter_map(|d| parse_pem_chain(d).ok())
        .flat_map(|chain| {
            chain
                .iter()
                .filter_map(|c| c.info().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}
