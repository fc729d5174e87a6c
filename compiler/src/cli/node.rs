//! The node-fact flags: what kubeadm looks up on the host it runs on, given explicitly. One
//! definition, flattened into every command that reads a configuration (`config validate`,
//! `view`, `migrate`, `images list`, `certs render`, `render`, `compile`, `diff`).

use crate::compile::CompileOptions;
use crate::config::{LoadOptions, Overrides};
use clap::Args;

#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Node facts (what kubeadm looks up on the host)")]
pub struct NodeArgs {
    /// Node name (instead of kubeadm's host name look-up); overrides nodeRegistration.name.
    #[arg(long)]
    pub node_name: Option<String>,
    /// API server advertise address (instead of kubeadm's interface look-up); overrides
    /// localAPIEndpoint.advertiseAddress.
    #[arg(long)]
    pub advertise_address: Option<String>,
    /// CRI socket (instead of kubeadm's runtime detection); overrides nodeRegistration.criSocket.
    #[arg(long)]
    pub cri_socket: Option<String>,
    /// Kubernetes version, e.g. v1.31.2 (instead of resolving a label such as stable-1 over
    /// the network).
    #[arg(long)]
    pub kubernetes_version: Option<String>,
    /// The node's host name: `--hostname-override` is then written only when it differs from
    /// the node name, as kubeadm does. Unknown (the default): always written.
    #[arg(long)]
    pub host_name: Option<String>,
    /// The node runs systemd-resolved: the kubelet gets resolvConf
    /// /run/systemd/resolve/resolv.conf (kubeadm decides this by probing the host).
    #[arg(long)]
    pub systemd_resolved: bool,
    /// The CA certificate directories that exist on the node and are mounted into the API
    /// server and controller manager (kubeadm mounts those it finds). Default: all five of
    /// /etc/pki/ca-trust, /etc/pki/tls/certs, /etc/ca-certificates,
    /// /usr/share/ca-certificates, /usr/local/share/ca-certificates.
    #[arg(long, value_delimiter = ',')]
    pub ca_cert_dirs: Option<Vec<String>>,
    /// Report unknown and duplicate fields and unknown documents as warnings, as kubeadm does.
    #[arg(long)]
    pub allow_unknown_fields: bool,
}

impl NodeArgs {
    /// How a configuration is read with these facts; `skip_phases` replaces the file's.
    pub fn load_options(&self, skip_phases: Option<Vec<String>>) -> LoadOptions {
        LoadOptions {
            overrides: Overrides {
                node_name: self.node_name.clone(),
                advertise_address: self.advertise_address.clone(),
                cri_socket: self.cri_socket.clone(),
                kubernetes_version: self.kubernetes_version.clone(),
                skip_phases,
            },
            allow_unknown_fields: self.allow_unknown_fields,
            systemd_resolved: self.systemd_resolved,
        }
    }

    /// The compile options the file-system facts set.
    pub fn apply_host(&self, opts: &mut CompileOptions) {
        opts.host_name = self.host_name.clone();
        if let Some(dirs) = &self.ca_cert_dirs {
            opts.host.ca_cert_extra_dirs = dirs.clone();
        }
    }
}
