//! The API phases: every object of the bundle's `api/NN-<phase>.yaml` files of one phase,
//! in file order, by server-side apply (`PATCH ...?fieldManager=kbc&force=true`,
//! `application/apply-patch+yaml`).
//!
//! Idempotency rule (what makes a second run report `unchanged`): before applying, the
//! object is read (GET). When every field our object sets already has our value on the
//! server ([`is_subset`]) nothing is sent. Otherwise the object is applied, and the object
//! counts as changed unless the server kept its `resourceVersion` (a no-op apply). Token
//! expirations that the server already holds are kept, so a re-run never extends a token.

use std::time::Duration;

use serde_json::{json, Value};

use super::Outcome;
use super::{PhaseError, Session};
use crate::api::objects::{b64, fold_string_data, is_subset, parse_documents, rfc3339};
use crate::api::{ApiRequest, ObjectRef};

/// The kube-system namespace, home of the bootstrap token Secrets.
pub const KUBE_SYSTEM: &str = "kube-system";

/// The compiler's stand-in for an owner's `uid` (the owner's `apiVersion` and `kind` are in
/// the same reference).
pub use crate::bundle::apply::OWNER_UID_PLACEHOLDER as UID_PLACEHOLDER;

/// One object read from a bundle file.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: String,
    pub object: Value,
    pub oref: ObjectRef,
}

/// The objects of `phase` (and of its sub-phases), in file and document order.
pub fn load(s: &Session<'_>, phase: &str) -> Result<Vec<Loaded>, PhaseError> {
    let mut loaded = Vec::new();
    let files: Vec<_> = s
        .plan
        .api_files
        .iter()
        .filter(|f| {
            f.phase == phase
                || f.phase
                    .strip_prefix(phase)
                    .is_some_and(|r| r.starts_with('/'))
        })
        .collect();
    for f in files {
        let file = s
            .ctx
            .bundle
            .files
            .iter()
            .find(|b| b.path == f.path)
            .ok_or_else(|| {
                PhaseError::Bundle(format!(
                    "the plan lists \"{}\" but the bundle has no such file",
                    f.path
                ))
            })?;
        let text = std::str::from_utf8(&file.data)
            .map_err(|_| PhaseError::Bundle(format!("\"{}\" is not UTF-8", f.path)))?;
        let docs = parse_documents(text)
            .map_err(|e| PhaseError::Bundle(format!("\"{}\": {e}", f.path)))?;
        for (i, mut object) in docs.into_iter().enumerate() {
            fold_string_data(&mut object);
            let oref = ObjectRef::of(&object).map_err(|e| {
                PhaseError::Bundle(format!("\"{}\" document {}: {e}", f.path, i + 1))
            })?;
            loaded.push(Loaded {
                file: f.path.clone(),
                object,
                oref,
            });
        }
    }
    Ok(loaded)
}

/// Runs a plain API phase (`upload-config/kubeadm`, `addon/coredns`, ...).
pub fn run(s: &mut Session<'_>, phase: &str) -> Result<Outcome, PhaseError> {
    let objects = load(s, phase)?;
    let mut outcome = apply_all(s, objects)?;
    if phase == "upload-config/kubelet" && !s.plan.node.annotations.is_empty() {
        // kubeadm preserves the CRI socket on the Node here (`cmd/kubeadm/app/cmd/phases/init/uploadconfig.go`).
        let annotations = s.plan.node.annotations.clone();
        let node =
            super::mark_control_plane::patch_node(s, &Default::default(), &annotations, None)?;
        outcome = merge(outcome, node);
    }
    Ok(outcome)
}

/// Applies `objects` in order.
pub fn apply_all(s: &mut Session<'_>, objects: Vec<Loaded>) -> Result<Outcome, PhaseError> {
    if objects.is_empty() {
        return Ok(Outcome::Skipped(
            "the bundle has no API objects for this phase".into(),
        ));
    }
    let mut outcome = Outcome::Unchanged;
    for o in objects {
        let changed = apply(s, o.object, &o.oref)?;
        outcome = merge(outcome, changed);
    }
    Ok(outcome)
}

/// The combined outcome of two steps of one phase.
pub fn merge(a: Outcome, b: Outcome) -> Outcome {
    match (a, b) {
        (Outcome::Changed, _) | (_, Outcome::Changed) => Outcome::Changed,
        (Outcome::Skipped(r), Outcome::Skipped(_)) => Outcome::Skipped(r),
        (Outcome::Skipped(r), _) | (_, Outcome::Skipped(r)) if r == "dry run" => {
            Outcome::Skipped(r)
        }
        _ => Outcome::Unchanged,
    }
}

/// GET of an object: `None` on 404.
pub fn get(s: &mut Session<'_>, oref: &ObjectRef) -> Result<Option<Value>, PhaseError> {
    let req = ApiRequest::get(oref);
    let res = s.send_admin(&req)?;
    if res.status == 404 {
        return Ok(None);
    }
    let res = res.success(&req)?;
    Ok(Some(res.json(oref)?))
}

/// The TTL of a bootstrap token Secret of the plan, if `oref` is one with a TTL.
fn token_ttl(s: &Session<'_>, oref: &ObjectRef) -> Option<u64> {
    if oref.kind != "Secret" || oref.namespace.as_deref() != Some(KUBE_SYSTEM) {
        return None;
    }
    s.plan
        .bootstrap_tokens
        .iter()
        .find(|t| t.secret_name == oref.name)
        .and_then(|t| t.ttl_seconds)
}

/// Sets `data.expiration`: the server's, when it has one, else apply time + TTL.
fn set_expiration(s: &Session<'_>, object: &mut Value, existing: Option<&Value>, ttl: u64) {
    let kept = existing
        .and_then(|e| e.pointer("/data/expiration"))
        .cloned();
    let value = kept.unwrap_or_else(|| {
        Value::String(b64(
            rfc3339(s.opts.now + Duration::from_secs(ttl)).as_bytes()
        ))
    });
    if let Some(obj) = object.as_object_mut() {
        let data = obj.entry("data").or_insert_with(|| json!({}));
        if let Some(d) = data.as_object_mut() {
            d.insert("expiration".into(), value);
        }
    }
}

/// Applies one object; `Changed` unless the server already had it.
pub fn apply(
    s: &mut Session<'_>,
    mut object: Value,
    oref: &ObjectRef,
) -> Result<Outcome, PhaseError> {
    let ttl = token_ttl(s, oref);
    resolve_owner_uids(s, &mut object, oref)?;
    if s.ctx.dry_run {
        if let Some(ttl) = ttl {
            set_expiration(s, &mut object, None, ttl);
        }
        let get = ApiRequest::get(oref);
        let patch = ApiRequest::apply(oref, &object);
        s.say(format!("would send {get}"));
        s.say(format!("would send {patch} for {oref}"));
        return Ok(Outcome::Skipped("dry run".into()));
    }
    let existing = get(s, oref)?;
    if let Some(ttl) = ttl {
        set_expiration(s, &mut object, existing.as_ref(), ttl);
    }
    if existing.as_ref().is_some_and(|e| is_subset(&object, e)) {
        return Ok(Outcome::Unchanged);
    }
    let req = ApiRequest::apply(oref, &object);
    let res = s.send_admin(&req)?.success(&req)?;
    let after = res.json(oref)?;
    let version = |v: &Value| v.pointer("/metadata/resourceVersion").cloned();
    let same_version = existing
        .as_ref()
        .is_some_and(|e| version(e).is_some() && version(e) == version(&after));
    Ok(if same_version {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    })
}

/// Replaces every [`UID_PLACEHOLDER`] uid in `object`'s ownerReferences with the uid of
/// the owner read from the API server (on a dry run: a note and a marker). An owner that
/// does not exist fails the phase: a wrong uid would make the garbage collector delete the
/// object at once.
fn resolve_owner_uids(
    s: &mut Session<'_>,
    object: &mut Value,
    oref: &ObjectRef,
) -> Result<(), PhaseError> {
    let Some(refs) = object
        .pointer_mut("/metadata/ownerReferences")
        .and_then(Value::as_array_mut)
    else {
        return Ok(());
    };
    for r in refs.iter_mut() {
        let Some(target) = r
            .get("uid")
            .and_then(Value::as_str)
            .and_then(|u| u.strip_prefix(UID_PLACEHOLDER))
            .map(str::to_string)
        else {
            continue;
        };
        let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (namespace, name) = match target.split_once('/') {
            Some((ns, name)) => (Some(ns.to_string()).filter(|n| !n.is_empty()), name),
            None => (None, target.as_str()),
        };
        if name != text("name") {
            return Err(PhaseError::Bundle(format!(
                "{oref}: ownerReference {} names \"{}\" but its uid placeholder is \"{UID_PLACEHOLDER}{target}\"",
                text("kind"),
                text("name")
            )));
        }
        let owner = ObjectRef {
            api_version: text("apiVersion"),
            kind: text("kind"),
            namespace,
            name: name.to_string(),
        };
        let uid = if s.ctx.dry_run {
            s.say(format!("would send GET {} for its uid", owner.path()));
            format!("<uid of {owner}>")
        } else {
            get(s, &owner)?
                .ok_or_else(|| {
                    PhaseError::Cluster(format!(
                        "{oref} is owned by {owner}, which the API server does not have"
                    ))
                })?
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| PhaseError::Cluster(format!("{owner} has no metadata.uid")))?
                .to_string()
        };
        r["uid"] = Value::String(uid);
    }
    Ok(())
}
