//! Decoding a secrets file from kbc's positioned YAML tree, by hand.
//!
//! The file holds the seed and private keys, so no message built here may quote it: a
//! message names a position, a field of the format (never a key the user wrote, which might
//! be a misplaced line of key material), and the *kind* of a value (a mapping, a number),
//! never the value. `tests/secrets_never_printed.rs` feeds broken files holding a known seed
//! and key and checks that no run of 8 of their characters reaches stdout or stderr.

use super::{CaPair, ExternalEtcdFiles, File, SaPair, VERSION};
use crate::yaml::node::{self, Node, Pos, Resolved, Value};

/// What is wrong, and where.
pub(super) struct Problem {
    pub pos: Pos,
    pub message: String,
}

fn problem(pos: Pos, message: impl Into<String>) -> Problem {
    Problem {
        pos,
        message: message.into(),
    }
}

const TOP: &[&str] = &[
    "version",
    "seed",
    "caIssuedAt",
    "ca",
    "frontProxyCA",
    "etcdCA",
    "serviceAccount",
    "externalEtcd",
];
const CA_PAIR: &[&str] = &["certificate", "key"];
const SA_PAIR: &[&str] = &["key", "publicKey"];
const EXTERNAL_ETCD: &[&str] = &["ca", "certificate", "key"];

pub(super) fn file(text: &str) -> Result<File, Problem> {
    let root = single_document(text)?;
    let fields = fields(&root, "", TOP)?;
    // The version first, so that a future format gets the version error rather than an
    // unknown-field error.
    let version = match fields.get("version") {
        Some(n) => string(n, "version")?,
        None => String::new(),
    };
    if version != VERSION {
        let pos = fields.get("version").map_or(root.pos, |n| n.pos);
        return Err(problem(pos, unknown_version(&version)));
    }
    let seed = fields
        .get("seed")
        .ok_or_else(|| problem(root.pos, "missing field `seed`"))?;
    Ok(File {
        version,
        seed: string(seed, "seed")?,
        ca_issued_at: match fields.get("caIssuedAt") {
            Some(n) => Some(string(n, "caIssuedAt")?),
            None => None,
        },
        ca: optional(&fields, "ca", ca_pair)?,
        front_proxy_ca: optional(&fields, "frontProxyCA", ca_pair)?,
        etcd_ca: optional(&fields, "etcdCA", ca_pair)?,
        service_account: optional(&fields, "serviceAccount", sa_pair)?,
        external_etcd: optional(&fields, "externalEtcd", external_etcd)?,
    })
}

/// A version is shown only when it looks like one: a seed pasted into `version:` is not.
fn unknown_version(version: &str) -> String {
    let shown = version.len() <= 24
        && version.starts_with("kbc.secrets/")
        && version[12..].bytes().all(|b| b.is_ascii_alphanumeric());
    let what = if version.is_empty() {
        "no secrets version: the field `version` is missing".to_string()
    } else if shown {
        format!("unknown secrets version {version:?}")
    } else {
        "unknown secrets version".to_string()
    };
    format!("{what} (this kbc reads {VERSION:?})")
}

fn single_document(text: &str) -> Result<Node, Problem> {
    let start = Pos { line: 1, column: 1 };
    let chunks = node::split_documents(text).map_err(|e| {
        problem(
            Pos {
                line: e.line,
                column: 1,
            },
            "only spaces or a comment may follow `---`",
        )
    })?;
    let chunk = match chunks.as_slice() {
        [] => return Err(problem(start, "the file is empty")),
        [one] => one,
        [_, second, ..] => {
            let pos = Pos {
                line: second.first_line,
                column: 1,
            };
            return Err(problem(pos, "a secrets file holds one YAML document"));
        }
    };
    // Parser messages are fixed texts of the YAML scanner; they never carry the input.
    let (root, duplicates) = node::parse_document(chunk)
        .map_err(|e| problem(e.pos, format!("YAML syntax error: {}", e.message)))?;
    if let Some(d) = duplicates.first() {
        // Only a name of the format is shown: any other key is the user's text.
        let name = [TOP, CA_PAIR, SA_PAIR, EXTERNAL_ETCD]
            .concat()
            .into_iter()
            .find(|n| *n == d.key)
            .map(|n| format!(" `{n}`"))
            .unwrap_or_default();
        return Err(problem(
            d.again,
            format!("duplicate field{name} (first at {})", d.first),
        ));
    }
    root.ok_or_else(|| problem(start, "the file is empty"))
}

/// The entries of a mapping, each checked against the names the format allows.
fn fields<'a>(
    node: &'a Node,
    path: &str,
    allowed: &[&'static str],
) -> Result<std::collections::HashMap<&'static str, &'a Node>, Problem> {
    let Value::Map(entries) = &node.value else {
        return Err(problem(
            node.pos,
            format!("{} must be a mapping, got {}", at(path), kind(node)),
        ));
    };
    let mut out = std::collections::HashMap::new();
    for e in entries {
        let Some(name) = allowed.iter().find(|a| **a == e.key) else {
            let hint = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(&e.key))
                .map(|a| format!(" (did you mean `{a}`?)"))
                .unwrap_or_default();
            return Err(problem(
                e.key_pos,
                format!(
                    "unknown field in {}{hint}; expected one of {}",
                    at(path),
                    allowed.join(", ")
                ),
            ));
        };
        out.insert(*name, &e.value);
    }
    Ok(out)
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "the file".into()
    } else {
        format!("`{path}`")
    }
}

/// The kind of a value, never the value itself.
fn kind(node: &Node) -> &'static str {
    match (&node.value, node.resolve()) {
        (Value::Seq(_), _) => "a list",
        (Value::Map(_), _) => "a mapping",
        (_, Some(Resolved::Null)) => "null",
        (_, Some(Resolved::Bool(_))) => "a boolean",
        (_, Some(Resolved::Int(_) | Resolved::Float(_))) => "a number",
        _ => "a string",
    }
}

/// The text of a scalar. The seed is hex, so a plain scalar is taken as written whatever
/// YAML 1.1 would resolve it to (`1e10…` is a float there).
fn string(node: &Node, path: &str) -> Result<String, Problem> {
    match &node.value {
        Value::Scalar(s, _) if !node.is_null() => Ok(s.clone()),
        _ => Err(problem(
            node.pos,
            format!("`{path}` must be a string, got {}", kind(node)),
        )),
    }
}

/// An optional section: absent or null means not given.
fn optional<T>(
    fields: &std::collections::HashMap<&str, &Node>,
    name: &str,
    decode: fn(&Node, &str) -> Result<T, Problem>,
) -> Result<Option<T>, Problem> {
    match fields.get(name) {
        Some(n) if !n.is_null() => decode(n, name).map(Some),
        _ => Ok(None),
    }
}

fn required<'a>(
    fields: &std::collections::HashMap<&str, &'a Node>,
    parent: &Node,
    path: &str,
    name: &str,
) -> Result<&'a Node, Problem> {
    fields
        .get(name)
        .copied()
        .ok_or_else(|| problem(parent.pos, format!("missing field `{path}.{name}`")))
}

fn ca_pair(node: &Node, path: &str) -> Result<CaPair, Problem> {
    let f = fields(node, path, CA_PAIR)?;
    let certificate = required(&f, node, path, "certificate")?;
    let key = required(&f, node, path, "key")?;
    Ok(CaPair {
        certificate: string(certificate, &format!("{path}.certificate"))?,
        key: string(key, &format!("{path}.key"))?,
    })
}

fn sa_pair(node: &Node, path: &str) -> Result<SaPair, Problem> {
    let f = fields(node, path, SA_PAIR)?;
    let key = required(&f, node, path, "key")?;
    let public_key = match f.get("publicKey") {
        Some(n) if !n.is_null() => Some(string(n, &format!("{path}.publicKey"))?),
        _ => None,
    };
    Ok(SaPair {
        key: string(key, &format!("{path}.key"))?,
        public_key,
    })
}

fn external_etcd(node: &Node, path: &str) -> Result<ExternalEtcdFiles, Problem> {
    let f = fields(node, path, EXTERNAL_ETCD)?;
    let field = |name: &str| -> Result<String, Problem> {
        string(required(&f, node, path, name)?, &format!("{path}.{name}"))
    };
    Ok(ExternalEtcdFiles {
        ca: field("ca")?,
        certificate: field("certificate")?,
        key: field("key")?,
    })
}
