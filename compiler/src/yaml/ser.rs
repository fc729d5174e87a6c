//! Writing YAML as kubeadm writes it: through JSON, so every mapping comes out with its keys
//! in alphabetical order, then as YAML that a YAML 1.1 reader (go-yaml v2, which kubectl, the
//! kubelet and the API server use) reads back as the same strings.
//!
//! Quoting follows go-yaml v2, the writer kubeadm uses: a string is quoted exactly when a
//! YAML 1.1 reader would otherwise take it for something else (`yes`, `0644`, `1_000`, `~`,
//! `12:30`, ...), so `advertiseAddress: 1.2.3.4` stays plain as in kubeadm's output while
//! `"yes"` keeps its quotes. serde-saphyr runs in YAML 1.2 mode for the syntax-level quoting
//! and kbc adds the YAML 1.1 cases through [`GoYaml`].
//!
//! The serializer options below are part of kbc's byte format: changing them changes bundles.

use super::node::{resolve_plain, Resolved};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Fixed serde-saphyr options: block style, two-space indent, sequences not indented under
/// their key (go-yaml's style), multi-line strings as literal blocks, long lines never folded.
fn options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        indent_step: 2,
        compact_list_indent: true,
        folded_wrap_chars: usize::MAX,
        prefer_block_scalars: true,
        yaml_12: true,
        no_lang_directive: true,
    }
}

/// Whether go-yaml v2 (or any YAML 1.1 reader) would read the plain scalar `s` as a
/// non-string: booleans, null, numbers (octal, underscores), sexagesimals, timestamps, merge.
pub(crate) fn needs_yaml11_quotes(s: &str) -> bool {
    if !matches!(resolve_plain(s), Resolved::Str(_)) || s == "<<" || s == "=" {
        return true;
    }
    let b = s.as_bytes();
    // Sexagesimal numbers (`12:30`) and dates (`2001-12-14`) start with digits.
    let digits_then = |sep: u8| {
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        n > 0
            && b.get(n) == Some(&sep)
            && s.bytes()
                .all(|c| c.is_ascii_digit() || c == sep || c == b'.' || c == b'_')
    };
    digits_then(b':') || (b.len() >= 8 && digits_then(b'-')) || is_timestamp(s)
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().take_while(|c| c.is_ascii_digit()).count() >= 1
        && s[5..].contains('-')
        && s[..10].bytes().all(|c| c.is_ascii_digit() || c == b'-')
}

/// Whether go-yaml's emitter may write `s` as a plain scalar in block context
/// (`yaml_emitter_analyze_scalar` in go-yaml v2's `emitterc.go`): no leading or trailing
/// space, no indicator at the start, no `: ` and no ` #` inside, printable characters only.
fn go_block_plain_allowed(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty()
        || b[0] == b' '
        || b[b.len() - 1] == b' '
        || s.starts_with("---")
        || s.starts_with("...")
    {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    let blank_after = |i: usize| matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
    for (i, &c) in b.iter().enumerate() {
        let indicator = if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => true,
                b'?' | b':' | b'-' => blank_after(i),
                _ => false,
            }
        } else {
            match c {
                b':' => blank_after(i),
                b'#' => b[i - 1] == b' ' || b[i - 1] == b'\t',
                _ => false,
            }
        };
        if indicator {
            return false;
        }
    }
    true
}

/// A JSON value that serializes with go-yaml v2's quoting.
pub(crate) struct GoYaml<'a>(pub &'a Value);

impl Serialize for GoYaml<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            // go-yaml: a string another type would claim is double-quoted; one that is only
            // syntactically unsafe as a plain scalar is single-quoted (when it has no
            // characters that need escapes); multi-line text is left to the literal style.
            Value::String(v) if v.contains('\n') => v.serialize(s),
            Value::String(v) if needs_yaml11_quotes(v) => {
                serde_saphyr::DoubleQuoted(v.as_str()).serialize(s)
            }
            Value::String(v) if !go_block_plain_allowed(v) && !v.chars().any(char::is_control) => {
                serde_saphyr::SingleQuoted(v.as_str()).serialize(s)
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&GoYaml(item))?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(k, &GoYaml(v))?;
                }
                m.end()
            }
            other => other.serialize(s),
        }
    }
}

/// Serializes `value` as one YAML document (no leading `---`), keys sorted at every level.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_value(value)
        .expect("kbc's own types always serialize to JSON (string keys, finite numbers)");
    value_to_yaml(&json)
}

/// Serializes an already-built JSON value as one YAML document.
pub fn value_to_yaml(json: &serde_json::Value) -> String {
    // serde-saphyr quotes map keys by its YAML 1.2 rules only; a key that a YAML 1.1 reader
    // would misread (a label named `yes`) sends the whole document through its YAML 1.1 mode,
    // which quotes more than go-yaml does but never less.
    let result = if any_key_needs_quotes(json) {
        let mut opts = options();
        opts.yaml_12 = false;
        serde_saphyr::to_string_with_options(json, opts)
    } else {
        serde_saphyr::to_string_with_options(&GoYaml(json), options())
    };
    result.expect("a serde_json::Value always serializes to YAML")
}

fn any_key_needs_quotes(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| needs_yaml11_quotes(k) || any_key_needs_quotes(v)),
        Value::Array(items) => items.iter().any(any_key_needs_quotes),
        _ => false,
    }
}

/// Joins documents with `---` lines, as `kubeadm config print` does.
pub(crate) fn join_documents<I: IntoIterator<Item = String>>(docs: I) -> String {
    docs.into_iter().collect::<Vec<_>>().join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_lists_are_not_indented() {
        let yaml =
            value_to_yaml(&json!({"kind": "X", "apiVersion": "v1", "list": [{"b": 1, "a": 2}]}));
        assert_eq!(yaml, "apiVersion: v1\nkind: X\nlist:\n- a: 2\n  b: 1\n");
    }

    #[test]
    fn yaml11_lookalikes_are_quoted_and_read_back_as_strings() {
        let tricky = [
            "yes", "no", "on", "off", "y", "n", "Y", "N", "True", "NO", "1_000", "0755", "12:30",
            "~", "null", "",
        ];
        for s in tricky {
            let yaml = value_to_yaml(&json!({ "v": s }));
            let chunk = crate::yaml::node::Chunk {
                text: yaml.clone(),
                first_line: 1,
            };
            let node = crate::yaml::node::parse_document(&chunk)
                .unwrap()
                .0
                .unwrap();
            let v = &node.get("v").unwrap().value;
            assert_eq!(
                v.resolve(),
                Some(crate::yaml::node::Resolved::Str(s)),
                "{s:?} was written as {yaml:?}"
            );
        }
    }

    #[test]
    fn addresses_and_versions_stay_plain_like_go_yaml() {
        let yaml = value_to_yaml(
            &json!({"a": "1.2.3.4", "v": "1.31.0", "s": "10.96.0.0/12", "t": "true", "o": "on"}),
        );
        assert_eq!(
            yaml,
            "a: 1.2.3.4\no: \"on\"\ns: 10.96.0.0/12\nt: \"true\"\nv: 1.31.0\n"
        );
        // Syntax alone (not type) makes go-yaml single-quote, as kubeadm-config shows.
        let yaml = value_to_yaml(
            &json!({"e": "[fd00::10]:6443", "d": "-", "h": "a #b", "k": "a: b", "p": "a:b"}),
        );
        assert_eq!(
            yaml,
            "d: '-'\ne: '[fd00::10]:6443'\nh: 'a #b'\nk: 'a: b'\np: a:b\n"
        );
        // A key a YAML 1.1 reader would take for a boolean is quoted too.
        let yaml = value_to_yaml(&json!({"yes": "x"}));
        assert_eq!(yaml, "\"yes\": x\n");
    }

    #[test]
    fn long_lines_stay_plain_and_multiline_is_literal() {
        let long = "x ".repeat(80);
        let yaml = value_to_yaml(&json!({ "a": long.trim(), "b": "l1\nl2\n" }));
        assert!(yaml.starts_with("a: x x"), "{yaml}");
        assert!(yaml.contains("b: |\n  l1\n  l2\n"), "{yaml}");
    }
}
