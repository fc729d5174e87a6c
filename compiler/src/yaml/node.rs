//! A YAML document as a tree that remembers where every key and value came from.
//!
//! kubeadm reads its config file with Kubernetes' YAML reader: the stream is split into
//! documents on `---` lines (`k8s.io/apimachinery/pkg/util/yaml.YAMLReader`), each document is
//! converted to JSON by go-yaml v2 (YAML 1.1 scalars: `yes`/`on`/`n` are booleans, `0644` is
//! octal) and then decoded into Go structs. [`split_documents`] mirrors the splitter line for
//! line; [`parse_document`] builds a [`Node`] with positions so that every later stage can say
//! `file:line:column`.

use granit_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;
use std::fmt;

/// A 1-based line and column in the source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How a scalar was written; quoted scalars are always strings, plain ones are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(String, Style),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One value and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// A key that appears twice in one mapping. go-yaml v2 keeps the last value; so do we.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateKey {
    pub path: String,
    pub key: String,
    pub first: Pos,
    pub again: Pos,
}

/// What a scalar means under go-yaml v2's (YAML 1.1) resolution rules.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
}

impl Node {
    /// The mapping entry for `key`, if this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The scalar's text when this node is a string-like scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.resolve(), Some(Resolved::Null))
    }

    /// Resolves a scalar like go-yaml v2 does; `None` for collections.
    pub fn resolve(&self) -> Option<Resolved<'_>> {
        let Value::Scalar(s, style) = &self.value else {
            return None;
        };
        Some(match style {
            Style::Quoted | Style::Block => Resolved::Str(s),
            Style::Plain => resolve_plain(s),
        })
    }

    /// A short human description of the value, for "got ..." in error messages.
    pub fn describe(&self) -> String {
        match self.resolve() {
            None if matches!(self.value, Value::Seq(_)) => "a list".into(),
            None => "a mapping".into(),
            Some(Resolved::Null) => "null".into(),
            Some(Resolved::Bool(_)) => format!("the boolean {}", self.as_str().unwrap_or("")),
            Some(Resolved::Int(_)) | Some(Resolved::Float(_)) => {
                format!("the number {}", self.as_str().unwrap_or(""))
            }
            Some(Resolved::Str(s)) => format!("{s:?}"),
        }
    }
}

/// YAML 1.1 plain-scalar resolution as in go-yaml v2's `resolve.go`.
pub fn resolve_plain(s: &str) -> Resolved<'_> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Resolved::Str(s);
    }
    let plain = s.replace('_', "");
    let (neg, digits) = match plain.as_bytes()[0] {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, &plain[..]),
    };
    let int = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Resolved::Int(if neg { -i } else { i });
    }
    let is_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().filter(|b| *b == b'.').count() <= 1;
    if is_float {
        if let Ok(f) = plain.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(s)
}

/// One document of a multi-document stream: its text and the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    pub text: String,
    /// 1-based line of the chunk's first line in the file.
    pub first_line: usize,
}

/// A `---` line followed by something other than a comment (the splitter refuses it).
#[derive(Clone, Debug, PartialEq)]
pub struct BadSeparator {
    pub line: usize,
}

/// Splits a stream into documents exactly as Kubernetes' `YAMLReader` does: a line starting
/// with `---` ends the current document when the document is not empty; only spaces or a
/// comment may follow the separator. A chunk that holds only comments is still a document
/// (kubeadm then fails on its missing `kind`), while a leading `---` yields nothing.
pub fn split_documents(src: &str) -> Result<Vec<Chunk>, BadSeparator> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut first_line = 1;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(BadSeparator { line: line_no });
            }
            if !current.is_empty() {
                chunks.push(Chunk {
                    text: std::mem::take(&mut current),
                    first_line,
                });
            }
            first_line = line_no + 1;
            continue;
        }
        if current.is_empty() {
            first_line = line_no;
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        chunks.push(Chunk {
            text: current,
            first_line,
        });
    }
    Ok(chunks)
}

/// A YAML syntax error with its position in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses one chunk into a tree. `Ok(None)` means the chunk holds no value (only comments or
/// blank lines). Duplicate keys are returned beside the tree, the last value kept.
pub fn parse_document(chunk: &Chunk) -> Result<(Option<Node>, Vec<DuplicateKey>), SyntaxError> {
    let offset = chunk.first_line - 1;
    let to_pos = |m: &granit_parser::Marker| Pos {
        line: m.line() + offset,
        column: m.col() + 1,
    };
    let mut builder = Builder::default();
    for item in Parser::new_from_str(&chunk.text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            pos: to_pos(e.marker()),
            message: e.info().to_string(),
        })?;
        let pos = to_pos(&span.start);
        match event {
            Event::Scalar(text, style, _, _) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                builder.value(Node {
                    value: Value::Scalar(text.into_owned(), style),
                    pos,
                });
            }
            Event::SequenceStart(..) => builder.stack.push(Open::Seq(pos, Vec::new())),
            Event::MappingStart(..) => {
                builder
                    .stack
                    .push(Open::Map(pos, Vec::new(), HashMap::new(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match builder.stack.pop() {
                    Some(Open::Seq(pos, items)) => Node {
                        value: Value::Seq(items),
                        pos,
                    },
                    Some(Open::Map(pos, entries, _, _)) => Node {
                        value: Value::Map(entries),
                        pos,
                    },
                    None => continue,
                };
                builder.value(node);
            }
            Event::Alias(_) => {
                return Err(SyntaxError {
                    pos,
                    message: "YAML aliases are not supported in kubeadm configuration".into(),
                })
            }
            _ => {}
        }
    }
    Ok((builder.root, builder.duplicates))
}

enum Open {
    Seq(Pos, Vec<Node>),
    /// A mapping being built, the index of each key in it (so that a duplicate is found in
    /// constant time: a mapping of 200k keys must not take minutes), and the key waiting
    /// for its value.
    Map(
        Pos,
        Vec<Entry>,
        HashMap<String, usize>,
        Option<(String, Pos)>,
    ),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    duplicates: Vec<DuplicateKey>,
}

impl Builder {
    fn path(&self) -> String {
        let mut out = String::new();
        for open in &self.stack {
            match open {
                Open::Seq(_, items) => out.push_str(&format!("[{}]", items.len())),
                Open::Map(_, _, _, Some((k, _))) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Open::Map(..) => {}
            }
        }
        out
    }

    fn value(&mut self, node: Node) {
        let path = self.path();
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, index, pending)) => match pending.take() {
                None => {
                    let key = match &node.value {
                        Value::Scalar(s, _) => s.clone(),
                        _ => String::new(),
                    };
                    *pending = Some((key, node.pos));
                }
                Some((key, key_pos)) => {
                    if let Some(prev) = index.get(&key).map(|&i| &mut entries[i]) {
                        self.duplicates.push(DuplicateKey {
                            path: path.clone(),
                            key: key.clone(),
                            first: prev.key_pos,
                            again: key_pos,
                        });
                        prev.key_pos = key_pos;
                        prev.value = node;
                    } else {
                        index.insert(key.clone(), entries.len());
                        entries.push(Entry {
                            key,
                            key_pos,
                            value: node,
                        });
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(src: &str) -> Node {
        let chunk = &split_documents(src).unwrap()[0];
        parse_document(chunk).unwrap().0.unwrap()
    }

    #[test]
    fn splits_like_the_kubernetes_yaml_reader() {
        let chunks =
            split_documents("---\na: 1\n---\n# only a comment\n--- # c\nb: 2\n---\n").unwrap();
        let texts: Vec<_> = chunks
            .iter()
            .map(|c| (c.first_line, c.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![(2, "a: 1\n"), (4, "# only a comment\n"), (6, "b: 2\n")]
        );
        assert_eq!(
            split_documents("a: 1\n--- x\n"),
            Err(BadSeparator { line: 2 })
        );
    }

    #[test]
    fn positions_are_absolute_in_the_file() {
        let chunks = split_documents("a: 1\n---\nkind: X\nspec:\n  port: 80\n").unwrap();
        let (node, _) = parse_document(&chunks[1]).unwrap();
        let node = node.unwrap();
        let spec = &node.get("spec").unwrap().value;
        let port = spec.get("port").unwrap();
        assert_eq!(port.key_pos, Pos { line: 5, column: 3 });
        assert_eq!(port.value.pos, Pos { line: 5, column: 9 });
    }

    #[test]
    fn comment_only_chunk_has_no_value() {
        let chunk = Chunk {
            text: "# nothing\n\n".into(),
            first_line: 1,
        };
        assert_eq!(parse_document(&chunk).unwrap().0, None);
    }

    #[test]
    fn reports_every_duplicate_key_and_keeps_the_last() {
        let chunk = Chunk {
            text: "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n".into(),
            first_line: 1,
        };
        let (node, dups) = parse_document(&chunk).unwrap();
        let node = node.unwrap();
        assert_eq!(dups.len(), 2);
        assert_eq!(dups[0].path, "b.c");
        assert_eq!(dups[1].path, "a");
        assert_eq!(node.get("a").unwrap().value.as_str(), Some("3"));
    }

    /// Review A38: the duplicate check was a linear search, so 200k keys took 46 s. With
    /// the index this is a fraction of a second even in a debug build.
    #[test]
    fn a_mapping_of_300k_keys_is_read_in_linear_time() {
        let mut text: String = (0..300_000).map(|i| format!("k{i}: v\n")).collect();
        text.push_str("k7: again\n");
        let chunk = Chunk {
            text,
            first_line: 1,
        };
        let (node, dups) = parse_document(&chunk).unwrap();
        let Value::Map(entries) = node.unwrap().value else {
            panic!("not a mapping")
        };
        assert_eq!(entries.len(), 300_000);
        assert_eq!(entries[7].value.as_str(), Some("again"));
        assert_eq!(dups.len(), 1);
        assert_eq!(
            dups[0].again,
            Pos {
                line: 300_001,
                column: 1
            }
        );
    }

    #[test]
    fn resolves_scalars_like_go_yaml_v2() {
        let n = doc("a: yes\nb: 'yes'\nc: 0644\nd: 1_000\ne: 1.5\nf: ~\ng: 10.96.0.0/12\nh: off\n");
        let r = |k: &str| n.get(k).unwrap().value.resolve().unwrap();
        assert_eq!(r("a"), Resolved::Bool(true));
        assert_eq!(r("b"), Resolved::Str("yes"));
        assert_eq!(r("c"), Resolved::Int(420));
        assert_eq!(r("d"), Resolved::Int(1000));
        assert_eq!(r("e"), Resolved::Float(1.5));
        assert_eq!(r("f"), Resolved::Null);
        assert_eq!(r("g"), Resolved::Str("10.96.0.0/12"));
        assert_eq!(r("h"), Resolved::Bool(false));
    }

    #[test]
    fn syntax_errors_carry_file_positions() {
        let chunks = split_documents("a: 1\n---\nb: [1, 2\n").unwrap();
        let err = parse_document(&chunks[1]).unwrap_err();
        assert!(err.pos.line >= 3, "{err:?}");
    }
}
