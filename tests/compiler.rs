//! The integration tests of the `kbc` crate, one test binary: one link instead of two dozen,
//! tests of every module run in parallel, and helpers (the test PKI, the fixtures) are
//! shared modules. Each module tests one area; README's "Testing" section says what each
//! proves.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

#[path = "support/common.rs"]
mod common;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "pki_support.rs"]
mod pki_support;

#[path = "cli_config.rs"]
mod cli_config;
#[path = "cli_outputs.rs"]
mod cli_outputs;
#[path = "compile_bundle.rs"]
mod compile_bundle;
#[path = "compile_cluster.rs"]
mod compile_cluster;
#[path = "config_fixtures.rs"]
mod config_fixtures;
#[path = "corpus.rs"]
mod corpus;
#[path = "etcd_real.rs"]
mod etcd_real;
#[path = "fixture_bundles.rs"]
mod fixture_bundles;
#[path = "hostile_input.rs"]
mod hostile_input;
#[path = "init_flags.rs"]
mod init_flags;
#[path = "kubeadm_vectors.rs"]
mod kubeadm_vectors;
#[path = "pki_bad_input.rs"]
mod pki_bad_input;
#[path = "pki_cli.rs"]
mod pki_cli;
#[path = "pki_determinism.rs"]
mod pki_determinism;
#[path = "pki_expiration.rs"]
mod pki_expiration;
#[path = "pki_openssl.rs"]
mod pki_openssl;
#[path = "pki_tls.rs"]
mod pki_tls;
#[path = "properties.rs"]
mod properties;
#[path = "render_api.rs"]
mod render_api;
#[path = "render_join.rs"]
mod render_join;
#[path = "render_kubelet.rs"]
mod render_kubelet;
#[path = "render_manifests.rs"]
mod render_manifests;
#[path = "render_patches.rs"]
mod render_patches;
#[path = "review.rs"]
mod review;
#[path = "secrets_never_printed.rs"]
mod secrets_never_printed;
