#![no_main]
//! cargo-fuzz target; the entry point and what it checks are in fuzz/entry.rs.

#[path = "../entry.rs"]
#[allow(dead_code)] // each target uses one of the entry points
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::pem(data));
