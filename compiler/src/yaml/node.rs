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
pub(crate) fn resolve_plain(s: &str) -> Resolved<'_> {
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
    // from_str_radix takes a sign of its own: `0-5` and `0x-5` are strings, not -5.
    let radix = |text: &str, radix: u32| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric())
            .then(|| i128::from_str_radix(text, radix).ok())
            .flatten()
    };
    let int = if let Some(hex) = digits.strip_prefix("0x") {
        radix(hex, 16)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        radix(bin, 2)
    } else if digits.len() > 1 && digits.starts_with('0') {
        radix(&digits[1..], 8)
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
    if let Some(pos) = lone_carriage_return(chunk) {
        return Err(SyntaxError {
            pos,
            message: "a line ends with a carriage return alone: Kubernetes' YAML reader splits \
                      documents only at line feeds, so kubeadm would silently drop what \
                      follows; use LF (or CRLF) line ends"
                .into(),
        });
    }
    let mut builder = Builder::default();
    for item in Parser::new_from_str(&chunk.text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            pos: to_pos(e.marker()),
            message: e.info().to_string(),
        })?;
        builder.event(event, to_pos(&span.start))?;
    }
    Ok((builder.root, builder.duplicates))
}

/// The position of the first carriage return that is not followed by a line feed.
fn lone_carriage_return(chunk: &Chunk) -> Option<Pos> {
    let bytes = chunk.text.as_bytes();
    let at = (0..bytes.len()).find(|&i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))?;
    let before = &chunk.text[..at];
    let line = before.matches('\n').count();
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some(Pos {
        line: chunk.first_line + line,
        column,
    })
}

/// What an explicit tag on a scalar means, as go-yaml v2 decodes it: `!!str` makes any
/// scalar a string; `!!int`, `!!float`, `!!bool` and `!!null` are accepted where they agree
/// with the plain value. Every other tag (`!!binary`, `!!map` on a scalar, local `!foo`
/// tags) is refused rather than ignored.
fn scalar_tag(tag: Option<&granit_parser::Tag>, text: &str, style: Style) -> Result<Style, String> {
    let Some(tag) = tag else {
        return Ok(style);
    };
    let agrees =
        |want: fn(&Resolved<'_>) -> bool| style == Style::Plain && want(&resolve_plain(text));
    let ok = match yaml_tag(tag).as_deref() {
        Some("str") => return Ok(Style::Quoted),
        Some("int") => agrees(|r| matches!(r, Resolved::Int(_))),
        Some("float") => agrees(|r| matches!(r, Resolved::Float(_) | Resolved::Int(_))),
        Some("bool") => agrees(|r| matches!(r, Resolved::Bool(_))),
        Some("null") => agrees(|r| matches!(r, Resolved::Null)),
        _ => {
            return Err(format!(
                "the YAML tag {} is not supported here (only !!str, and !!int, !!float, \
                 !!bool, !!null where they agree with the value)",
                shown(tag)
            ))
        }
    };
    if ok {
        Ok(style)
    } else {
        Err(format!(
            "the value does not match its YAML tag {}",
            shown(tag)
        ))
    }
}

/// The name of a tag of the `tag:yaml.org,2002:` namespace (`!!x` or verbatim).
fn yaml_tag(tag: &granit_parser::Tag) -> Option<String> {
    format!("{}{}", tag.handle(), tag.suffix())
        .strip_prefix("tag:yaml.org,2002:")
        .map(str::to_string)
}

/// A tag as a message shows it: `!!int` for the YAML namespace, else as resolved.
fn shown(tag: &granit_parser::Tag) -> String {
    yaml_tag(tag).map_or_else(
        || format!("{}{}", tag.handle(), tag.suffix()),
        |name| format!("!!{name}"),
    )
}

/// A tag on a list or mapping may only say what it is.
fn collection_tag(tag: Option<&granit_parser::Tag>, kind: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if yaml_tag(t).as_deref() == Some(kind) => Ok(()),
        Some(t) => Err(format!(
            "the YAML tag {} is not supported on a {}",
            shown(t),
            if kind == "map" { "mapping" } else { "list" }
        )),
    }
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
    /// Documents started so far (a second one is an error).
    documents: usize,
}

impl Builder {
    /// Takes one parser event at `pos`.
    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), SyntaxError> {
        let error = |message: String| SyntaxError { pos, message };
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error(
                        "a second YAML document after a `...` line: kubeadm reads only the \
                     first and silently ignores the rest; separate documents with `---`"
                            .into(),
                    ));
                }
            }
            Event::Scalar(text, style, _, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                let style = scalar_tag(tag.as_deref(), &text, style).map_err(error)?;
                self.value(Node {
                    value: Value::Scalar(text.into_owned(), style),
                    pos,
                });
            }
            Event::SequenceStart(_, _, tag) => {
                collection_tag(tag.as_deref(), "seq").map_err(error)?;
                self.stack.push(Open::Seq(pos, Vec::new()))
            }
            Event::MappingStart(_, _, tag) => {
                collection_tag(tag.as_deref(), "map").map_err(error)?;
                self.stack
                    .push(Open::Map(pos, Vec::new(), HashMap::new(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(pos, items)) => Node {
                        value: Value::Seq(items),
                        pos,
                    },
                    Some(Open::Map(pos, entries, _, _)) => Node {
                        value: Value::Map(entries),
                        pos,
                    },
                    None => return Ok(()),
                };
                self.value(node);
            }
            Event::Alias(_) => {
                return Err(SyntaxError {
                    pos,
                    message: "YAML aliases are not supported in kubeadm configuration".into(),
                })
            }
            _ => {}
        }
        Ok(())
    }

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

    fn parse(text: &str) -> Result<Node, SyntaxError> {
        let chunk = Chunk {
            text: text.into(),
            first_line: 1,
        };
        parse_document(&chunk).map(|(n, _)| n.unwrap())
    }

    /// Review A29/A31: explicit tags are applied as go-yaml applies them, or refused.
    #[test]
    fn yaml_tags_are_applied_or_refused() {
        let n =
            parse("a: !!str yes\nb: !!str 6443\nc: !!int 6443\nd: !!bool on\ne: !!map {x: 1}\n")
                .unwrap();
        let r = |k: &str| n.get(k).unwrap().value.resolve();
        assert_eq!(r("a"), Some(Resolved::Str("yes")));
        assert_eq!(r("b"), Some(Resolved::Str("6443")));
        assert_eq!(r("c"), Some(Resolved::Int(6443)));
        assert_eq!(r("d"), Some(Resolved::Bool(true)));
        for (text, message) in [
            (
                "a: !!binary aGVsbG8=\n",
                "the YAML tag !!binary is not supported",
            ),
            ("a: !!int kubernetes\n", "does not match its YAML tag !!int"),
            ("a: !!map x\n", "the YAML tag !!map is not supported"),
            (
                "a: !<tag:yaml.org,2002:int> kubernetes\n",
                "does not match its YAML tag !!int",
            ),
            ("a: !foo bar\n", "the YAML tag !foo is not supported"),
            ("a: !!seq {x: 1}\n", "not supported on a mapping"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(message), "{text}: {}", e.message);
            assert_eq!(e.pos.line, 1, "{text}");
        }
    }

    /// Review A27: what follows a `...` line is not silently dropped.
    #[test]
    fn content_after_a_document_end_is_an_error() {
        let e = parse("a: 1\n...\nevil: field\n").unwrap_err();
        assert!(e.message.contains("after a `...` line"), "{}", e.message);
        assert_eq!(e.pos.line, 3);
        assert!(parse("a: 1\n...\n# only a comment\n").is_ok());
    }

    /// Review A22: CR-only line ends would make kubeadm drop documents; CRLF is fine.
    #[test]
    fn lone_carriage_returns_are_an_error_and_crlf_is_not() {
        let e = parse("a: 1\r\nb: 2\rc: 3\n").unwrap_err();
        assert!(e.message.contains("carriage return alone"), "{}", e.message);
        assert_eq!(e.pos, Pos { line: 2, column: 5 });
        assert!(parse("a: 1\r\nb: 2\r\n").is_ok());
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
        // Review A15: a sign after the radix prefix makes a string, as in go-yaml.
        assert_eq!(resolve_plain("0-5"), Resolved::Str("0-5"));
        assert_eq!(resolve_plain("0x-5"), Resolved::Str("0x-5"));
        assert_eq!(resolve_plain("-0x1f"), Resolved::Int(-31));
    }

    #[test]
    fn syntax_errors_carry_file_positions() {
        let chunks = split_documents("a: 1\n---\nb: [1, 2\n").unwrap();
        let err = parse_document(&chunks[1]).unwrap_err();
        assert!(err.pos.line >= 3, "{err:?}");
    }
}
