//! `kbc certs check-expiration`: kubeadm's two tables (certificates, then certificate
//! authorities), from files in kubeadm's layout.
//!
//! Mirrors `cmd/kubeadm/app/cmd/certs.go` (`newCmdCertsExpiration`, the text printer) and
//! `cmd/kubeadm/app/phases/certs/renewal/manager.go`. Go's tabwriter (minwidth 10,
//! tabwidth 4, padding 3, spaces) is reproduced by [`tabwrite`]; residual times use
//! apimachinery's `ShortHumanDuration` (`cmd/kubeadm/app/cmd/certs.go`; whether 1.31.x prints the long form is
//! unconfirmed).

use time::OffsetDateTime;

use super::certs::{CaId, CERTS};
use super::existing::Provided;
use super::kubeconfig;
use super::x509;

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `admin.conf`, `apiserver`, `ca`, …
    pub name: String,
    /// NotAfter, `None` if the file is missing.
    pub expires: Option<OffsetDateTime>,
    /// The signing CA's name (empty for CA rows).
    pub ca_name: String,
    /// The CA's key is absent (external CA).
    pub externally_managed: bool,
}

/// Both tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Leaf certificates and kubeconfigs, sorted by name.
    pub certificates: Vec<Row>,
    /// CAs, sorted by name.
    pub authorities: Vec<Row>,
}

/// Errors: a file that exists but cannot be read as a certificate.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {detail}")]
pub struct ExpirationError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub detail: String,
}

fn not_after(provided: &Provided, name: &str) -> Result<Option<OffsetDateTime>, ExpirationError> {
    let Some(f) = provided.get(name) else {
        return Ok(None);
    };
    let bytes = if name.ends_with(".conf") {
        let parsed = kubeconfig::parse(&f.bytes).map_err(|detail| ExpirationError {
            file: f.origin.clone(),
            detail,
        })?;
        if parsed.client_cert.is_empty() {
            return Err(ExpirationError {
                file: f.origin.clone(),
                detail: "the kubeconfig has no embedded client certificate".into(),
            });
        }
        parsed.client_cert
    } else {
        f.bytes.clone()
    };
    let chain = x509::parse_pem_chain(&bytes).map_err(|e| ExpirationError {
        file: f.origin.clone(),
        detail: e.to_string(),
    })?;
    let info = chain[0].info().map_err(|e| ExpirationError {
        file: f.origin.clone(),
        detail: e.to_string(),
    })?;
    Ok(Some(info.not_after))
}

/// Builds the report. Etcd rows are included when any etcd file exists (kbc has no
/// config here to tell local from external etcd).
pub fn report(provided: &Provided) -> Result<Report, ExpirationError> {
    let local_etcd = provided.files.keys().any(|k| k.starts_with("etcd/"));
    let external = |id: CaId| {
        provided.get(&format!("{}.crt", id.base())).is_some()
            && provided.get(&format!("{}.key", id.base())).is_none()
    };
    let mut certificates = Vec::new();
    let mut authorities = Vec::new();
    for spec in CERTS.iter().filter(|s| local_etcd || !s.etcd) {
        let expires = not_after(provided, &format!("{}.crt", spec.base))?;
        match (spec.is_ca, spec.ca) {
            (Some(id), _) => authorities.push(Row {
                name: spec.name.into(),
                expires,
                ca_name: String::new(),
                externally_managed: external(id),
            }),
            (None, Some(ca)) => certificates.push(Row {
                name: spec.name.into(),
                expires,
                ca_name: ca.name().into(),
                externally_managed: external(ca),
            }),
            (None, None) => {}
        }
    }
    for k in kubeconfig::KUBECONFIGS
        .iter()
        .filter(|k| k.file != "kubelet.conf")
    {
        certificates.push(Row {
            name: k.file.into(),
            expires: not_after(provided, k.file)?,
            ca_name: "ca".into(),
            externally_managed: external(CaId::Ca),
        });
    }
    certificates.sort_by(|a, b| a.name.cmp(&b.name));
    authorities.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Report {
        certificates,
        authorities,
    })
}

/// apimachinery's `ShortHumanDuration`.
pub fn short_human_duration(secs: i64) -> String {
    if secs < -1 {
        "<invalid>".into()
    } else if secs < 0 {
        "0s".into()
    } else if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else if secs < 24 * 3600 {
        format!("{}h", secs / 3600)
    } else if secs / 3600 < 24 * 365 {
        format!("{}d", secs / 3600 / 24)
    } else {
        format!("{}y", secs / 3600 / 24 / 365)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Go layout `Jan 02, 2006 15:04 MST` in UTC.
pub fn format_expiry(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{} {:02}, {} {:02}:{:02} UTC",
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day(),
        t.year(),
        t.hour(),
        t.minute()
    )
}

/// Go's `text/tabwriter` with minwidth 10, tabwidth 4, padding 3, space padding and no
/// flags, for lines whose cells are separated by `\t` (the last cell is not aligned).
pub(crate) fn tabwrite(lines: &[Vec<String>]) -> String {
    let cols = lines
        .iter()
        .map(|l| l.len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    let mut widths = vec![10usize; cols];
    for l in lines {
        for (i, c) in l.iter().enumerate().take(l.len().saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for l in lines {
        for (i, c) in l.iter().enumerate() {
            if i + 1 < l.len() {
                out.push_str(c);
                out.push_str(&" ".repeat(widths[i] - c.chars().count()));
            } else {
                out.push_str(c);
            }
        }
        out.push('\n');
    }
    out
}

fn yes_no(b: bool) -> String {
    format!("{:<8}", if b { "yes" } else { "no" })
}

/// The text output of `kubeadm certs check-expiration`, residual times counted from `now`.
pub fn render_text(report: &Report, now: OffsetDateTime) -> String {
    let residual = |t: OffsetDateTime| short_human_duration((t - now).whole_seconds());
    let mut certs = vec![vec![
        "CERTIFICATE".to_string(),
        "EXPIRES".into(),
        "RESIDUAL TIME".into(),
        "CERTIFICATE AUTHORITY".into(),
        "EXTERNALLY MANAGED".into(),
    ]];
    for r in &report.certificates {
        certs.push(match r.expires {
            Some(t) => vec![
                r.name.clone(),
                format_expiry(t),
                residual(t),
                r.ca_name.clone(),
                yes_no(r.externally_managed),
            ],
            None => vec![
                format!("!MISSING! {}", r.name),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        });
    }
    let mut cas = vec![vec![
        "CERTIFICATE AUTHORITY".to_string(),
        "EXPIRES".into(),
        "RESIDUAL TIME".into(),
        "EXTERNALLY MANAGED".into(),
    ]];
    for r in &report.authorities {
        cas.push(match r.expires {
            Some(t) => vec![
                r.name.clone(),
                format_expiry(t),
                residual(t),
                yes_no(r.externally_managed),
            ],
            None => vec![
                format!("!MISSING! {}", r.name),
                String::new(),
                String::new(),
                String::new(),
            ],
        });
    }
    format!("{}\n{}", tabwrite(&certs), tabwrite(&cas))
}

/// One entry of kubeadm's JSON output (`output.kubeadm.k8s.io/v1alpha3` `Certificate`).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonCertificate<'a> {
    name: &'a str,
    /// RFC 3339 in UTC; `null` when missing (Go's zero `metav1.Time`).
    expiration_date: Option<String>,
    /// Seconds until expiry (negative once expired); 0 when missing.
    residual_time: i64,
    externally_managed: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    ca_name: &'a str,
    missing: bool,
}

/// kubeadm's JSON document for `certs check-expiration -o json`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    kind: &'static str,
    api_version: &'static str,
    certificates: Vec<JsonCertificate<'a>>,
    certificate_authorities: Vec<JsonCertificate<'a>>,
}

/// The JSON output of `kubeadm certs check-expiration -o json`
/// (`CertificateExpirationInfo`, `output.kubeadm.k8s.io/v1alpha3`; `fetchCertificateExpirationInfo`
/// in `cmd/kubeadm/app/cmd/certs.go`), residual times counted from `now`.
pub(crate) fn render_json(report: &Report, now: OffsetDateTime) -> String {
    fn entry(r: &Row, now: OffsetDateTime) -> JsonCertificate<'_> {
        match r.expires {
            Some(t) => JsonCertificate {
                name: &r.name,
                expiration_date: Some(super::rfc3339(t)),
                residual_time: (t - now).whole_seconds(),
                externally_managed: r.externally_managed,
                ca_name: &r.ca_name,
                missing: false,
            },
            // kubeadm fills only the name for a missing file.
            None => JsonCertificate {
                name: &r.name,
                expiration_date: None,
                residual_time: 0,
                externally_managed: false,
                ca_name: "",
                missing: true,
            },
        }
    }
    kbc_bundle::cli::to_json(&JsonReport {
        kind: "CertificateExpirationInfo",
        api_version: "output.kubeadm.k8s.io/v1alpha3",
        certificates: report.certificates.iter().map(|r| entry(r, now)).collect(),
        certificate_authorities: report.authorities.iter().map(|r| entry(r, now)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(short_human_duration(-5), "<invalid>");
        assert_eq!(short_human_duration(-1), "0s");
        assert_eq!(short_human_duration(59), "59s");
        assert_eq!(short_human_duration(8760 * 3600 - 1), "364d");
        assert_eq!(short_human_duration(87600 * 3600), "10y");
    }

    #[test]
    fn tabwriter_matches_go() {
        let t = tabwrite(&[
            vec!["CERTIFICATE".into(), "X".into(), "last".into()],
            vec![
                "apiserver-kubelet-client".into(),
                "Y".into(),
                "no      ".into(),
            ],
        ]);
        assert_eq!(
            t,
            "CERTIFICATE                X         last\napiserver-kubelet-client   Y         no      \n"
        );
        let d = time::macros::datetime!(2027-01-04 12:42:07 UTC);
        assert_eq!(format_expiry(d), "Jan 04, 2027 12:42 UTC");
    }
}
