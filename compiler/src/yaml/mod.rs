//! Reading YAML the way Kubernetes reads it, and writing YAML that Kubernetes reads back as
//! intended.

pub(crate) mod de;
pub mod node;
pub mod ser;
