//! The applier's side of the Kubernetes API: credentials from a kubeconfig
//! ([`kubeconfig`]), requests built as data ([`request`]), the HTTPS client that sends them
//! with retries ([`client`]) and the object helpers the API phases share ([`objects`]).
//!
//! Requests are values first ([`request::ApiRequest`]: method, path, query, content type,
//! body) so that `--dry-run` can print them and the tests can snapshot them; only
//! [`client::ApiClient::send`] does I/O.

pub mod client;
pub mod kubeconfig;
pub mod objects;
pub mod request;

pub use client::{ApiClient, ApiError, Endpoint, Response};
pub use request::{ApiRequest, ObjectRef};
