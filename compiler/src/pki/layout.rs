//! Where each PKI file goes and how it is written: one definition read by the real render
//! ([`super::render`]) and by the keyless review plan ([`super::plan`]), so the two
//! cannot disagree on a path, a mode or the `secret` flag. kubeadm's layout
//! (`cmd/kubeadm/app/util/pkiutil/pki_helpers.go`, `cmd/kubeadm/app/phases/kubeconfig/`):
//! keys 0600, certificates 0644, `sa.pub` 0600, kubeconfigs 0600 under `/etc/kubernetes`.

use super::PkiInput;

/// A file's place: its host path, its path in kubeadm's layout, mode and secrecy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Host path without the leading `/` (from `certificatesDir` for PKI files).
    pub path: String,
    /// Path in kubeadm's `/etc/kubernetes` layout: `pki/ca.crt`, `admin.conf`.
    pub kubeadm_path: String,
    pub mode: u32,
    /// Holds a private key.
    pub secret: bool,
}

/// The host path of `rel` in the certificates directory.
fn pki_path(input: &PkiInput, rel: &str) -> String {
    let dir = input
        .certificates_dir
        .trim_start_matches('/')
        .trim_end_matches('/');
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

fn pki_slot(input: &PkiInput, rel: &str, mode: u32, secret: bool) -> Slot {
    Slot {
        path: pki_path(input, rel),
        kubeadm_path: format!("pki/{rel}"),
        mode,
        secret,
    }
}

/// `<base>.key` of a certificate row, or `sa.key`.
pub(crate) fn key(input: &PkiInput, base: &str) -> Slot {
    pki_slot(input, &format!("{base}.key"), 0o600, true)
}

/// `<base>.crt` of a certificate row.
pub(crate) fn cert(input: &PkiInput, base: &str) -> Slot {
    pki_slot(input, &format!("{base}.crt"), 0o644, false)
}

/// `sa.pub`: kubeadm init writes the public half 0600 as well; a joining control-plane
/// node gets it 0644 (kubeadm's download-certs writes it as a certificate, `cmd/kubeadm/app/phases/copycerts/copycerts.go`).
pub(crate) fn sa_pub(input: &PkiInput) -> Slot {
    let mode = match input.role {
        super::NodeRole::ControlPlaneJoin => 0o644,
        _ => 0o600,
    };
    pki_slot(input, "sa.pub", mode, false)
}

/// A kubeconfig (`admin.conf`): always under `/etc/kubernetes`, whatever the certificates
/// directory.
pub(crate) fn kubeconfig(file: &str) -> Slot {
    Slot {
        path: crate::paths::kubernetes_file(file)
            .trim_start_matches('/')
            .to_string(),
        kubeadm_path: file.to_string(),
        mode: 0o600,
        secret: true,
    }
}
