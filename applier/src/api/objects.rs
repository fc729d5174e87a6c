//! Helpers the API phases share: reading the bundle's `api/*.yaml` files, the comparison
//! that decides `unchanged`, Secret `stringData`, and RFC 3339 times.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value};

/// The objects of one multi-document YAML file, in order (empty documents dropped).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The idempotency rule: `ours` is already applied when every field it sets has the same
/// value in `theirs` (the server's object). Maps compare key by key (the server may add
/// fields: defaults, `status`, `metadata.uid`, ...); lists must have the same length and
/// compare element by element with the same rule; scalars must be equal.
pub fn is_subset(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, v)| {
            b.get(k).is_some_and(|w| is_subset(v, w)) || (v.is_null() && !b.contains_key(k))
        }),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| is_subset(v, w))
        }
        _ => ours == theirs,
    }
}

/// Moves a Secret's `stringData` into `data` (base64), as the API server does on write, so
/// that the object we send is the object the server stores and compares equal to it.
pub fn fold_string_data(object: &mut Value) {
    if object.get("kind").and_then(Value::as_str) != Some("Secret") {
        return;
    }
    let Some(Value::Object(map)) = object.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    let obj = object
        .as_object_mut()
        .expect("checked above: the Secret is a map");
    let data = obj
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    let data = data.as_object_mut().expect("made a map above");
    for (k, v) in map {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        data.insert(k, Value::String(b64(text.as_bytes())));
    }
}

/// Standard base64.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// `2026-11-25T15:04:05Z`: RFC 3339 in UTC, whole seconds, as kubeadm writes token
/// expirations (Go's `time.RFC3339`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .expect("a time after 1970 and before year 10000 formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_210_096)),
            "2024-02-29T12:34:56Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(4_102_444_800)),
            "2100-01-01T00:00:00Z"
        );
    }

    #[test]
    fn subset_rule() {
        let ours = json!({"a": {"b": 1}, "l": [{"x": 1}]});
        assert!(is_subset(
            &ours,
            &json!({"a": {"b": 1, "c": 2}, "l": [{"x": 1, "y": 0}], "s": 1})
        ));
        assert!(!is_subset(&ours, &json!({"a": {"b": 2}, "l": [{"x": 1}]})));
        assert!(!is_subset(
            &ours,
            &json!({"a": {"b": 1}, "l": [{"x": 1}, {"x": 2}]})
        ));
    }

    #[test]
    fn string_data_folds_into_data() {
        let mut s = json!({"kind": "Secret", "data": {"a": "eA=="}, "stringData": {"b": "y"}});
        fold_string_data(&mut s);
        assert_eq!(
            s,
            json!({"kind": "Secret", "data": {"a": "eA==", "b": "eQ=="}})
        );
    }
}
