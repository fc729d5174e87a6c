//! `upload-certs` (only with `--upload-certs`, api-objects.md §5): the short-lived proxy
//! token Secret (type `bootstrap.kubernetes.io/token`), then `kube-system/kubeadm-certs`
//! owned by it — the token is read back for its `uid` and the Secret gets kubeadm's
//! ownerReference `{apiVersion: v1, kind: Secret, name, uid, controller: true,
//! blockOwnerDeletion: true}` — then the Role and RoleBinding.
//!
//! Difference from kubeadm: kubeadm makes a fresh proxy token on every run; the bundle's
//! token is fixed, so a re-run finds it and keeps it (and its expiration).

use serde_json::{json, Value};

use super::api_objects::{self, get, merge, Loaded};
use super::run::{PhaseFailure, Session};
use super::Outcome;
use crate::api::ObjectRef;

pub const TOKEN_TYPE: &str = "bootstrap.kubernetes.io/token";
pub const CERTS_SECRET: &str = "kubeadm-certs";

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseFailure> {
    if !s.plan.upload_certs {
        return Ok(Outcome::Skipped("--upload-certs is not set".into()));
    }
    let objects = api_objects::load(s, "upload-certs")?;
    if objects.is_empty() {
        return Ok(Outcome::Skipped(
            "the bundle has no API objects for this phase".into(),
        ));
    }
    let is_token = |o: &Loaded| {
        o.oref.kind == "Secret" && o.object.get("type").and_then(Value::as_str) == Some(TOKEN_TYPE)
    };
    let mut owner: Option<ObjectRef> = None;
    let mut outcome = Outcome::Unchanged;
    for mut o in objects {
        if o.oref.kind == "Secret" && o.oref.name == CERTS_SECRET {
            let token = owner.clone().ok_or_else(|| -> PhaseFailure {
                format!(
                    "\"{}\": {} comes before any bootstrap token Secret to own it",
                    o.file, o.oref
                )
                .into()
            })?;
            let uid = if s.ctx.dry_run {
                s.say(format!("would send GET {} for its uid", token.path()));
                "<uid of the token Secret>".to_string()
            } else {
                let secret = get(s, &token)?.ok_or_else(|| -> PhaseFailure {
                    format!("{token} was applied but the API server does not have it").into()
                })?;
                secret
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .ok_or_else(|| -> PhaseFailure {
                        format!("{token} has no metadata.uid").into()
                    })?
                    .to_string()
            };
            let reference = json!([{
                "apiVersion": "v1",
                "kind": "Secret",
                "name": token.name,
                "uid": uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }]);
            if let Some(meta) = o.object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("ownerReferences".into(), reference);
            }
        }
        if is_token(&o) {
            owner = Some(o.oref.clone());
        }
        let step = api_objects::apply(s, o.object, &o.oref)?;
        outcome = merge(outcome, step);
    }
    Ok(outcome)
}
