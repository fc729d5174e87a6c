//! `upload-certs` (only with `--upload-certs`, `cmd/kubeadm/app/phases/copycerts/copycerts.go`): the short-lived proxy
//! token Secret (type `bootstrap.kubernetes.io/token`), then `kube-system/kubeadm-certs`
//! owned by it — the token is read back for its `uid` and the Secret gets kubeadm's
//! ownerReference `{apiVersion: v1, kind: Secret, name, uid, controller: true,
//! blockOwnerDeletion: true}` — then the Role and RoleBinding.
//!
//! The compiler writes the ownerReference with the uid placeholder
//! `kbc:uid-of:kube-system/bootstrap-token-<id>` (the uid exists only once the API server
//! has created the token); [`api_objects::apply`] reads the token back and puts its `uid`
//! there. A `kubeadm-certs` without an ownerReference gets one naming the token before it.
//!
//! Difference from kubeadm: kubeadm makes a fresh proxy token on every run; the bundle's
//! token is fixed, so a re-run finds it and keeps it (and its expiration).

use serde_json::{json, Value};

use super::api_objects::{self, merge, Loaded, UID_PLACEHOLDER};
use super::Outcome;
use super::{PhaseError, Session};
use crate::api::ObjectRef;

pub const TOKEN_TYPE: &str = "bootstrap.kubernetes.io/token";
pub const CERTS_SECRET: &str = "kubeadm-certs";

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
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
        let has_owners = o
            .object
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|refs| !refs.is_empty());
        // A compiled bundle names its owner already, its uid a placeholder that
        // `api_objects::apply` resolves; otherwise the preceding token owns it.
        if o.oref.kind == "Secret" && o.oref.name == CERTS_SECRET && !has_owners {
            let token = owner.clone().ok_or_else(|| {
                PhaseError::Bundle(format!(
                    "\"{}\": {} comes before any bootstrap token Secret to own it",
                    o.file, o.oref
                ))
            })?;
            let ns = token.namespace.as_deref().unwrap_or_default();
            let uid = format!("{UID_PLACEHOLDER}{ns}/{}", token.name);
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
