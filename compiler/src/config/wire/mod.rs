//! The configuration documents as they are written in files, one module per API version.

pub mod join;
pub mod kubelet;
pub mod kubeproxy;
pub mod v1beta3;
pub mod v1beta4;
