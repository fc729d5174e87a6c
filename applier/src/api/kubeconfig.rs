//! The credentials of a kubeconfig file (admin.conf, super-admin.conf, kubelet.conf): the
//! current context's cluster (`server`, `certificate-authority-data`) and user
//! (`client-certificate-data`/`client-key-data`, or `client-certificate`/`client-key` file
//! paths, read under `--root`).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

/// Why a kubeconfig cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("cannot read kubeconfig \"{}\"", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("kubeconfig \"{}\" is not valid YAML: {}", .0.display(), .1)]
    Yaml(PathBuf, String),
    #[error("kubeconfig \"{}\": {}", .0.display(), .1)]
    Invalid(PathBuf, String),
}

/// What the client needs from a kubeconfig, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub ca_pem: Vec<u8>,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// Parses kubeconfig YAML (or JSON) into a JSON value. A kubeconfig holds a private key or
/// a token, so an error never quotes it ([`kbc_bundle::leak`]).
pub fn parse(text: &str) -> Result<Value, String> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| {
        let at = e.location().map(|l| (l.line(), l.column()));
        kbc_bundle::leak::parse_error(e.to_string(), at, text, "kubeconfig")
    })
}

/// The named entry of a kubeconfig list (`clusters`, `users`, `contexts`).
pub fn named<'a>(config: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    config
        .get(list)?
        .as_array()?
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

/// The current context's user name and cluster name.
pub fn current(config: &Value) -> Result<(String, String), String> {
    let ctx_name = config
        .get("current-context")
        .and_then(Value::as_str)
        .ok_or("no current-context")?;
    let ctx = named(config, "contexts", ctx_name)
        .and_then(|c| c.get("context"))
        .ok_or_else(|| format!("no context named \"{ctx_name}\""))?;
    let field = |f: &str| {
        ctx.get(f)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("context \"{ctx_name}\" has no {f}"))
    };
    Ok((field("user")?, field("cluster")?))
}

/// The most kbc-apply reads of a kubeconfig or of a file it names (a certificate, a key):
/// real ones are a few kilobytes; a FIFO, a device or a huge file is refused, not read.
pub const MAX_FILE_BYTES: u64 = kbc_bundle::limits::MAX_INPUT_FILE_BYTES;

/// The bytes of `path`: a regular file of at most [`MAX_FILE_BYTES`].
fn read_file(path: &Path) -> Result<Vec<u8>, KubeconfigError> {
    kbc_bundle::file::read_capped(path, MAX_FILE_BYTES)
        .map_err(|e| KubeconfigError::Read(path.to_path_buf(), e))
}

/// The text of kubeconfig `path` (a bounded regular file of UTF-8).
pub fn read_text(path: &Path) -> Result<String, KubeconfigError> {
    String::from_utf8(read_file(path)?).map_err(|_| {
        KubeconfigError::Read(
            path.to_path_buf(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
        )
    })
}

/// Reads the credentials of `path` (a host path); file references in the kubeconfig are
/// read under `root`.
pub fn load(path: &Path, root: &Path) -> Result<Credentials, KubeconfigError> {
    let text = read_text(path)?;
    let config = parse(&text).map_err(|e| KubeconfigError::Yaml(path.to_path_buf(), e))?;
    let invalid = |m: String| KubeconfigError::Invalid(path.to_path_buf(), m);
    let (user_name, cluster_name) = current(&config).map_err(invalid)?;
    let cluster = named(&config, "clusters", &cluster_name)
        .and_then(|c| c.get("cluster"))
        .ok_or_else(|| invalid(format!("no cluster named \"{cluster_name}\"")))?;
    let user = named(&config, "users", &user_name)
        .and_then(|u| u.get("user"))
        .ok_or_else(|| invalid(format!("no user named \"{user_name}\"")))?;
    // kbc-apply connects to the plan's API server; a kubeconfig without one is still broken.
    cluster
        .get("server")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("cluster \"{cluster_name}\" has no server")))?;
    let data_or_file = |node: &Value, data: &str, file: &str| -> Result<Vec<u8>, KubeconfigError> {
        if let Some(b64) = node.get(data).and_then(Value::as_str) {
            return base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| invalid(format!("{data} is not base64: {e}")));
        }
        if let Some(f) = node.get(file).and_then(Value::as_str) {
            // --root is a boundary: a kubeconfig may not name a file outside it.
            if kbc_bundle::check_path(f.trim_start_matches('/')).is_err() {
                return Err(invalid(format!(
                    "{file} {f:?} is not a clean path under the root"
                )));
            }
            let host = root.join(f.trim_start_matches('/'));
            return read_file(&host);
        }
        Err(invalid(format!("neither {data} nor {file} is set")))
    };
    Ok(Credentials {
        ca_pem: data_or_file(
            cluster,
            "certificate-authority-data",
            "certificate-authority",
        )?,
        cert_pem: data_or_file(user, "client-certificate-data", "client-certificate")?,
        key_pem: data_or_file(user, "client-key-data", "client-key")?,
    })
}
