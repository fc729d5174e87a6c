//! Files that already exist: a kubeadm certificates dir (`--pki-dir`) and the CA/SA pairs of
//! the secrets file. kbc reuses them the way `kubeadm init` reuses an existing
//! `certificatesDir` (`cmd/kubeadm/app/phases/certs/certs.go`, `UsingExternalCA`,
//! `writeCertificateFilesIfNotExist`; `cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go`,
//! `validateKubeConfig`).

use std::collections::BTreeMap;

use super::certs::applicable;
use super::PkiInput;

/// One provided file.
#[derive(Clone, PartialEq, Eq)]
pub struct ProvidedFile {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Where they came from (a path, or `secrets.yaml (ca.key)`), for messages.
    pub origin: String,
}

impl std::fmt::Debug for ProvidedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ProvidedFile({}, {} bytes)",
            self.origin,
            self.bytes.len()
        )
    }
}

/// Provided files by kubeadm-relative name: `ca.crt`, `etcd/ca.key`, `sa.pub` (relative to
/// the certificates dir) and `admin.conf`, … (relative to the kubeconfig dir).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provided {
    /// The files.
    pub files: BTreeMap<String, ProvidedFile>,
}

/// Every file name kbc looks for, relative to the certificates dir, in a fixed order.
pub(crate) fn pki_file_names(input: &PkiInput) -> Vec<String> {
    let mut out = Vec::new();
    for spec in applicable(input) {
        out.push(format!("{}.crt", spec.base));
        out.push(format!("{}.key", spec.base));
    }
    out.push("sa.key".into());
    out.push("sa.pub".into());
    out
}

impl Provided {
    /// From (name in kubeadm's layout, bytes, origin for messages) triples.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>, String)>) -> Provided {
        Provided {
            files: files
                .into_iter()
                .map(|(name, bytes, origin)| (name, ProvidedFile { bytes, origin }))
                .collect(),
        }
    }

    /// Looks a file up.
    pub fn get(&self, name: &str) -> Option<&ProvidedFile> {
        self.files.get(name)
    }

    /// From host paths without the leading `/` (as in a bundle's `rootfs/`): files under
    /// `cert_dir` by their name relative to it, `etc/kubernetes/<name>.conf` kubeconfigs.
    /// `origin` prefixes the paths in messages (e.g. the bundle file name).
    pub fn from_host_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        cert_dir: &str,
        origin: &str,
    ) -> Provided {
        let cert_dir = cert_dir.trim_matches('/');
        let mut out = BTreeMap::new();
        for (path, bytes) in files {
            let rel = path
                .strip_prefix(cert_dir)
                .and_then(|r| r.strip_prefix('/'))
                .map(str::to_string)
                .or_else(|| {
                    path.strip_prefix("etc/kubernetes/")
                        .filter(|n| n.ends_with(".conf") && !n.contains('/'))
                        .map(str::to_string)
                });
            if let Some(rel) = rel {
                out.insert(
                    rel,
                    ProvidedFile {
                        bytes: bytes.to_vec(),
                        origin: format!("{origin}: {path}"),
                    },
                );
            }
        }
        Provided { files: out }
    }
}
