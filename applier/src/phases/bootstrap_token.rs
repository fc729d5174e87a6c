//! `bootstrap-token`: the bootstrap token Secrets (with `expiration` = apply time + TTL
//! for tokens that have a TTL), the RBAC for joining nodes and `kube-public/cluster-info`,
//! as listed in the bundle's `bootstrap-token` API file (api-objects.md §7).

use super::api_objects;
use super::run::{PhaseFailure, Session};
use super::Outcome;

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseFailure> {
    api_objects::run(s, "bootstrap-token")
}
