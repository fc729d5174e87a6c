//! kbc-apply as a library: the applier's phases and its HTTPS client. The bundle contract
//! lives in the `kbc-bundle` crate shared with the compiler and is re-exported as
//! [`bundle`]. The binary in `main.rs` is the command line around them; what it and the
//! tests use is re-exported here, the rest is private to the crate.

pub use kbc_bundle as bundle;

mod api;
mod etcd;
mod phases;

/// The API client the phases use, for tests that talk to the in-process API server.
pub mod client {
    pub use crate::api::client::split_url;
    pub use crate::api::{ApiClient, ApiError, ApiRequest, Endpoint, ObjectRef};
}

pub use phases::run::{run, RunError};
pub use phases::{install, reset, ApplyContext, PhaseError, RunOptions};
