//! The configuration documents as they are written in files, one module per API version.

pub(crate) mod join;
pub(crate) mod kubelet;
pub(crate) mod kubeproxy;
pub(crate) mod v1beta3;
pub(crate) mod v1beta4;
