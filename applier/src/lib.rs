//! kbc-apply as a library: the bundle contract ([`bundle`], meant to move into a crate
//! shared with the compiler) and the applier's phases ([`phases`]). The binary in
//! `main.rs` is the command line around them.

pub mod bundle;
pub mod phases;
