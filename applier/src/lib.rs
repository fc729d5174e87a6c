//! kbc-apply as a library: the applier's phases ([`phases`]); the bundle contract lives in
//! the `kbc-bundle` crate shared with the compiler and is re-exported as [`bundle`]. The
//! binary in `main.rs` is the command line around them.

pub use kbc_bundle as bundle;
pub mod api;
pub mod phases;
