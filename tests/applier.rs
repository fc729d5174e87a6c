//! The integration tests of `kbc-apply`, one test binary (one link; the modules' tests run
//! in parallel and share `apply_support`: test PKI, sample bundles, a fake host and the
//! in-process HTTPS API server). README's "Testing" section says what each module proves.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

#[path = "apply_api.rs"]
mod apply_api;
#[path = "apply_bundle.rs"]
mod apply_bundle;
#[path = "apply_e2e.rs"]
mod apply_e2e;
#[path = "apply_join.rs"]
mod apply_join;
#[path = "apply_kill.rs"]
mod apply_kill;
#[path = "apply_preflight.rs"]
mod apply_preflight;
mod apply_support;
#[path = "ha_etcd.rs"]
mod ha_etcd;
#[path = "static_binaries.rs"]
mod static_binaries;
