//! kbc: `kubeadm init` and `kubeadm join` (Kubernetes v1.31) as an offline, deterministic
//! config compiler.
//!
//! Stages, each a module: [`yaml`] reads and writes YAML as Kubernetes does; [`config`] turns
//! kubeadm's configuration file into a validated [`config::Cluster`] (and the joining nodes
//! of a cluster file); [`pki`] and [`render`] turn a `Cluster` into files and API objects;
//! [`compile`] assembles them into a bundle, `nodes` one bundle per node of a cluster.
//! `nodes`, `inspect` and `paths` serve the command line only and are private to the crate.
//!
//! The public surface is what the binary, the integration tests, the benchmarks and the fuzz
//! targets use; everything else is `pub(crate)` (the wire types of kubeadm's documents, the
//! defaulting and conversion steps, the argument builders), so a `pub` item here is one that
//! something outside the crate relies on.

pub mod cli;
pub mod compile;
pub mod config;
pub mod edge;
pub(crate) mod inspect;
pub mod netutil;
pub(crate) mod nodes;
pub(crate) mod paths;
pub mod pki;
pub mod render;
pub mod review;
pub mod secrets;
pub mod yaml;
