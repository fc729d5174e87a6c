//! Renderers: pure functions from a validated [`crate::config::Cluster`] to the files
//! `kubeadm init` writes. They read no file, environment variable or clock; whatever kubeadm
//! takes from the host is an explicit input of the renderer that needs it.
//!
//! - [`manifests`]: the control-plane static Pods (`/etc/kubernetes/manifests/*.yaml`);
//! - [`args`]: kubeadm's `extraArgs` merge, shared by every command line kubeadm builds.

pub mod addons;
pub mod api;
pub(crate) mod args;
pub mod join;
pub mod kubelet;
pub mod manifests;
pub(crate) mod objects;
pub mod patches;
pub mod upload_certs;
