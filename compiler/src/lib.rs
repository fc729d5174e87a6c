//! kbc: `kubeadm init` (Kubernetes v1.31) as an offline, deterministic config compiler.
//!
//! Stages, each a module: [`yaml`] reads and writes YAML as Kubernetes does; [`config`] turns
//! kubeadm's configuration file into a validated [`config::Cluster`]; [`pki`] and [`render`]
//! turn a `Cluster` into files and API objects; [`compile`] assembles them into a bundle.

pub mod cli;
pub mod compile;
pub mod config;
pub mod fsutil;
pub mod inspect;
pub mod netutil;
pub mod nodes;
pub mod paths;
pub mod pki;
pub mod render;
pub mod review;
pub mod secrets;
pub mod yaml;
