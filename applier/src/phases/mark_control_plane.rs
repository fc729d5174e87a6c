//! `mark-control-plane` (`cmd/kubeadm/app/phases/markcontrolplane/markcontrolplane.go`): waits for the kubelet to register the Node,
//! then adds the plan's labels and taints with one strategic merge patch. The taint list
//! is kubeadm's: the configured taints in order, then every taint already on the Node that
//! is not exactly equal (key, value, effect, timeAdded) to one of them; nothing is removed.
//! No patch is sent when the Node already has everything (the re-run case).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::Outcome;
use super::{PhaseError, Session};
use crate::api::client::{FIRST_BACKOFF, MAX_BACKOFF};
use crate::api::{ApiError, ApiRequest, ObjectRef};
use crate::bundle::apply::Taint;

/// The label kubeadm waits for before it patches a Node.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let labels = s.plan.node.labels.clone();
    let taints = s.plan.node.taints.clone();
    if labels.is_empty() && taints.is_empty() {
        return Ok(Outcome::Skipped("no labels or taints to set".into()));
    }
    let name = node_name(s);
    let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
    s.say(format!(
        "[mark-control-plane] Marking the node {name} as control-plane by adding the labels: [{}]",
        keys.join(" ")
    ));
    if !taints.is_empty() {
        let t: Vec<String> = taints.iter().map(taint_text).collect();
        s.say(format!(
            "[mark-control-plane] Marking the node {name} as control-plane by adding the taints [{}]",
            t.join(" ")
        ));
    }
    patch_node(s, &labels, &BTreeMap::new(), Some(&taints))
}

fn node_name(s: &Session<'_>) -> String {
    if s.plan.node.name.is_empty() {
        s.ctx.bundle.manifest.node_name.clone()
    } else {
        s.plan.node.name.clone()
    }
}

fn taint_text(t: &Taint) -> String {
    if t.value.is_empty() {
        format!("{}:{}", t.key, t.effect)
    } else {
        format!("{}={}:{}", t.key, t.value, t.effect)
    }
}

fn taint_json(t: &Taint) -> Value {
    let mut m = Map::new();
    m.insert("effect".into(), json!(t.effect));
    m.insert("key".into(), json!(t.key));
    if !t.value.is_empty() {
        m.insert("value".into(), json!(t.value));
    }
    Value::Object(m)
}

/// (key, value, effect, timeAdded) of a taint on the Node.
fn taint_identity(v: &Value) -> (String, String, String, Option<String>) {
    let f = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    (
        f("key"),
        f("value"),
        f("effect"),
        v.get("timeAdded")
            .and_then(Value::as_str)
            .map(str::to_string),
    )
}

/// kubeadm's taint merge: the configured taints, then the Node's other taints.
pub fn merged_taints(configured: &[Taint], existing: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = configured.iter().map(taint_json).collect();
    for e in existing {
        let id = taint_identity(e);
        if !out.iter().any(|c| taint_identity(c) == id) {
            out.push(e.clone());
        }
    }
    out
}

/// Waits for the Node (GET until 200 with the hostname label), then adds `labels`,
/// `annotations` and (when given) `taints`. Used by mark-control-plane and for the CRI
/// socket annotation of upload-config/kubelet.
pub fn patch_node(
    s: &mut Session<'_>,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    taints: Option<&[Taint]>,
) -> Result<Outcome, PhaseError> {
    let oref = ObjectRef::node(&node_name(s));
    if s.ctx.dry_run {
        s.say(format!(
            "would send GET {} until the Node is registered",
            oref.path()
        ));
        let patch = ApiRequest::strategic_merge(&oref, &json!({}));
        s.say(format!(
            "would send {patch} for {oref} (labels, annotations, taints)"
        ));
        return Ok(Outcome::Skipped("dry run".into()));
    }
    let node = wait_for_node(s, &oref)?;
    let mut metadata = Map::new();
    for (field, wanted) in [("labels", labels), ("annotations", annotations)] {
        let have = node.pointer(&format!("/metadata/{field}"));
        let changes: Map<String, Value> = wanted
            .iter()
            .filter(|(k, v)| {
                have.and_then(|h| h.get(k.as_str())).and_then(Value::as_str) != Some(v.as_str())
            })
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if !changes.is_empty() {
            metadata.insert(field.into(), Value::Object(changes));
        }
    }
    let mut patch = Map::new();
    if !metadata.is_empty() {
        patch.insert("metadata".into(), Value::Object(metadata));
    }
    if let Some(taints) = taints {
        let existing = node
            .pointer("/spec/taints")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let merged = merged_taints(taints, &existing);
        if merged != existing {
            patch.insert("spec".into(), json!({ "taints": merged }));
        }
    }
    if patch.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    let req = ApiRequest::strategic_merge(&oref, &Value::Object(patch));
    // kubeadm retries Conflict as well as the transient errors the client retries.
    let start = Instant::now();
    let mut pause = FIRST_BACKOFF;
    loop {
        let res = s.send_admin(&req)?;
        if res.status == 409 && start.elapsed() + pause < s.api_timeout() {
            std::thread::sleep(pause);
            pause = (pause * 2).min(MAX_BACKOFF);
            continue;
        }
        res.success(&req)?;
        return Ok(Outcome::Changed);
    }
}

/// GET the Node until it exists and has the hostname label, within `kubernetesAPICall`.
fn wait_for_node(s: &mut Session<'_>, oref: &ObjectRef) -> Result<Value, PhaseError> {
    let req = ApiRequest::get(oref);
    let limit = s.api_timeout();
    let start = Instant::now();
    let mut pause = FIRST_BACKOFF;
    let mut said = false;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let res = s.send_admin(&req)?;
        let last = if res.status == 200 {
            let node = res.json(oref)?;
            if node
                .pointer(&format!(
                    "/metadata/labels/{}",
                    HOSTNAME_LABEL.replace('/', "~1")
                ))
                .is_some()
            {
                return Ok(node);
            }
            format!("the Node has no {HOSTNAME_LABEL} label yet")
        } else if res.status == 404 {
            "the Node is not registered yet".to_string()
        } else {
            let status = res.status;
            res.success(&req)?;
            format!("unexpected HTTP {status}")
        };
        if !said {
            s.say(format!(
                "[wait-node] waiting up to {} s for the kubelet to register Node \"{}\"",
                limit.as_secs(),
                oref.name
            ));
            said = true;
        }
        if start.elapsed() + pause > limit {
            return Err(PhaseError::Api(ApiError::GaveUp {
                method: "GET",
                object: Box::new(oref.clone()),
                path: req.path.clone(),
                attempts,
                seconds: limit.as_secs(),
                last,
            }));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}
