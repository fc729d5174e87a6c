//! A serde `Deserializer` over [`Node`] that behaves like Kubernetes' YAML → JSON → Go path,
//! but keeps going where kubeadm would only warn: every field a struct does not declare is
//! recorded (with its position and a case-insensitive "did you mean") instead of being
//! dropped, and type errors carry the path and position of the offending value.
//!
//! Unknown fields are found through the `fields` list serde hands to `deserialize_struct`, so
//! wire types must not use `#[serde(flatten)]`.

use super::node::{Node, Pos, Resolved, Style, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::cell::RefCell;
use std::fmt;

/// A field the target type does not know.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct UnknownField {
    pub path: String,
    pub key: String,
    pub pos: Pos,
    /// The declared field that differs only in letter case, if any.
    pub did_you_mean: Option<&'static str>,
}

/// A value that could not be decoded into its field's type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Error {
    pub message: String,
    pub path: String,
    pub pos: Option<Pos>,
    pub hint: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            path: String::new(),
            pos: None,
            hint: None,
        }
    }
}

/// Decodes `node` into `T`, returning the value and every unknown field met on the way.
pub(crate) fn from_node<T: de::DeserializeOwned>(
    node: &Node,
) -> (Result<T, Error>, Vec<UnknownField>) {
    let unknown = RefCell::new(Vec::new());
    let de = NodeDe {
        node,
        path: String::new(),
        unknown: &unknown,
    };
    let result = T::deserialize(de).map_err(|mut e| {
        if e.pos.is_none() {
            e.pos = Some(node.pos);
        }
        e
    });
    (result, unknown.into_inner())
}

struct NodeDe<'a> {
    node: &'a Node,
    path: String,
    unknown: &'a RefCell<Vec<UnknownField>>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node, seg: &str) -> NodeDe<'a> {
        let path = if seg.starts_with('[') || self.path.is_empty() {
            format!("{}{seg}", self.path)
        } else {
            format!("{}.{seg}", self.path)
        };
        NodeDe {
            node,
            path,
            unknown: self.unknown,
        }
    }

    fn error(&self, expected: &str) -> Error {
        let got = self.node.describe();
        let hint = match self.node.resolve() {
            Some(Resolved::Bool(_)) | Some(Resolved::Int(_)) | Some(Resolved::Float(_))
                if expected.contains("string") =>
            {
                Some(format!(
                    "Kubernetes' YAML reader reads {} as a {}; quote it to keep a string",
                    self.node.as_str().unwrap_or(""),
                    if matches!(self.node.resolve(), Some(Resolved::Bool(_))) {
                        "boolean"
                    } else {
                        "number"
                    }
                ))
            }
            Some(Resolved::Str(s))
                if expected.contains("integer")
                    && matches!(super::node::resolve_plain(s), Resolved::Int(_)) =>
            {
                Some(
                    "remove the quotes: a quoted number is a string for Kubernetes' YAML reader"
                        .to_string(),
                )
            }
            _ => None,
        };
        Error {
            message: format!("expected {expected}, got {got}"),
            path: self.path.clone(),
            pos: Some(self.node.pos),
            hint,
        }
    }

    fn int(&self, what: &str) -> Result<i128, Error> {
        match self.node.resolve() {
            Some(Resolved::Int(i)) => Ok(i),
            _ => Err(self.error(what)),
        }
    }
}

macro_rules! int_method {
    ($name:ident, $visit:ident, $ty:ty, $what:literal) => {
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            let i = self.int($what)?;
            match <$ty>::try_from(i) {
                Ok(n) => v.$visit(n),
                Err(_) => Err(self.error($what)),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Seq(_) => self.deserialize_seq(v),
            Value::Map(_) => self.deserialize_map(v),
            Value::Scalar(s, _) => match self.node.resolve() {
                Some(Resolved::Null) => v.visit_unit(),
                Some(Resolved::Bool(b)) => v.visit_bool(b),
                Some(Resolved::Int(i)) => match i64::try_from(i) {
                    Ok(n) => v.visit_i64(n),
                    Err(_) => v.visit_f64(i as f64),
                },
                Some(Resolved::Float(f)) => v.visit_f64(f),
                _ => v.visit_str(s),
            },
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.node.resolve() {
            Some(Resolved::Bool(b)) => v.visit_bool(b),
            _ => Err(self.error("a boolean (true or false)")),
        }
    }

    int_method!(deserialize_i8, visit_i8, i8, "an 8-bit integer");
    int_method!(deserialize_i16, visit_i16, i16, "a 16-bit integer");
    int_method!(deserialize_i32, visit_i32, i32, "a 32-bit integer");
    int_method!(deserialize_i64, visit_i64, i64, "a 64-bit integer");
    int_method!(deserialize_u8, visit_u8, u8, "an integer from 0 to 255");
    int_method!(
        deserialize_u16,
        visit_u16,
        u16,
        "an integer from 0 to 65535"
    );
    int_method!(
        deserialize_u32,
        visit_u32,
        u32,
        "a non-negative 32-bit integer"
    );
    int_method!(deserialize_u64, visit_u64, u64, "a non-negative integer");

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.node.resolve() {
            Some(Resolved::Int(i)) => v.visit_f64(i as f64),
            Some(Resolved::Float(f)) => v.visit_f64(f),
            _ => Err(self.error("a number")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match (&self.node.value, self.node.resolve()) {
            (Value::Scalar(s, Style::Quoted | Style::Block), _) => v.visit_str(s),
            (Value::Scalar(s, _), Some(Resolved::Str(_))) => v.visit_str(s),
            // JSON null into a Go string leaves it empty.
            (_, Some(Resolved::Null)) => v.visit_str(""),
            _ => Err(self.error("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.node.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Seq(items) => v.visit_seq(SeqAccess {
                parent: &self,
                items: items.iter().enumerate(),
            }),
            // JSON null into a Go slice leaves it nil.
            _ if self.node.is_null() => v.visit_seq(SeqAccess {
                parent: &self,
                items: [].iter().enumerate(),
            }),
            _ => Err(self.error("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Map(entries) => v.visit_map(MapAccess {
                parent: &self,
                entries: entries.iter().collect::<Vec<_>>().into_iter(),
                pending: None,
            }),
            _ if self.node.is_null() => v.visit_map(MapAccess {
                parent: &self,
                entries: Vec::new().into_iter(),
                pending: None,
            }),
            _ => Err(self.error("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        let entries = match &self.node.value {
            Value::Map(entries) => entries,
            _ if self.node.is_null() => {
                return v.visit_map(MapAccess {
                    parent: &self,
                    entries: Vec::new().into_iter(),
                    pending: None,
                })
            }
            _ => return Err(self.error("a mapping")),
        };
        let mut known = Vec::new();
        for entry in entries {
            if fields.contains(&entry.key.as_str()) {
                known.push(entry);
            } else {
                let path = if self.path.is_empty() {
                    entry.key.clone()
                } else {
                    format!("{}.{}", self.path, entry.key)
                };
                self.unknown.borrow_mut().push(UnknownField {
                    path,
                    key: entry.key.clone(),
                    pos: entry.key_pos,
                    did_you_mean: fields
                        .iter()
                        .find(|f| f.eq_ignore_ascii_case(&entry.key))
                        .copied(),
                });
            }
        }
        v.visit_map(MapAccess {
            parent: &self,
            entries: known.into_iter(),
            pending: None,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self.node.resolve() {
            Some(Resolved::Str(s)) => v.visit_enum(s.into_deserializer()),
            _ => Err(self.error("a string")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }
}

/// Gives an error without a position the position of the value being decoded.
fn locate(mut e: Error, de: &NodeDe<'_>) -> Error {
    if e.pos.is_none() {
        e.pos = Some(de.node.pos);
        e.path = de.path.clone();
    }
    e
}

struct SeqAccess<'p, 'a, I> {
    parent: &'p NodeDe<'a>,
    items: I,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> de::SeqAccess<'de> for SeqAccess<'_, 'a, I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let child = self.parent.child(node, &format!("[{i}]"));
                let at = NodeDe {
                    node,
                    path: child.path.clone(),
                    unknown: child.unknown,
                };
                seed.deserialize(child)
                    .map(Some)
                    .map_err(|e| locate(e, &at))
            }
        }
    }
}

struct MapAccess<'p, 'a, I> {
    parent: &'p NodeDe<'a>,
    entries: I,
    pending: Option<&'a super::node::Entry>,
}

impl<'de, 'a, I: Iterator<Item = &'a super::node::Entry>> de::MapAccess<'de>
    for MapAccess<'_, 'a, I>
{
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            None => Ok(None),
            Some(entry) => {
                self.pending = Some(entry);
                seed.deserialize(entry.key.as_str().into_deserializer())
                    .map(Some)
                    .map_err(|mut e: Error| {
                        e.pos = Some(entry.key_pos);
                        e
                    })
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let entry = self
            .pending
            .take()
            .expect("serde calls next_value_seed only after next_key_seed returned a key");
        let child = self.parent.child(&entry.value, &entry.key);
        let at = NodeDe {
            node: &entry.value,
            path: child.path.clone(),
            unknown: child.unknown,
        };
        seed.deserialize(child).map_err(|e| locate(e, &at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::node::{parse_document, split_documents};
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        bind_port: Option<i32>,
        name: Option<String>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Outer {
        control_plane_endpoint: Option<String>,
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
        gates: Option<BTreeMap<String, bool>>,
        taints: Option<Vec<String>>,
    }

    fn decode(src: &str) -> (Result<Outer, Error>, Vec<UnknownField>) {
        let chunk = &split_documents(src).unwrap()[0];
        let node = parse_document(chunk).unwrap().0.unwrap();
        from_node(&node)
    }

    #[test]
    fn collects_every_unknown_field_with_a_case_hint() {
        let (r, unknown) = decode(
            "ControlPlaneEndpoint: x\ninner:\n  bindport: 1\n  extra: 2\nlist:\n- nope: 1\n",
        );
        assert!(r.is_ok());
        let got: Vec<_> = unknown
            .iter()
            .map(|u| (u.path.as_str(), u.pos.line, u.did_you_mean))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ControlPlaneEndpoint", 1, Some("controlPlaneEndpoint")),
                ("inner.bindport", 3, Some("bindPort")),
                ("inner.extra", 4, None),
                ("list[0].nope", 6, None),
            ]
        );
    }

    #[test]
    fn type_errors_name_the_path_and_position() {
        let (r, _) = decode("list:\n- name: a\n- bindPort: abc\n");
        let e = r.unwrap_err();
        assert_eq!(e.path, "list[1].bindPort");
        assert_eq!(
            e.pos,
            Some(Pos {
                line: 3,
                column: 13
            })
        );
        assert_eq!(e.message, "expected a 32-bit integer, got \"abc\"");
    }

    #[test]
    fn yaml11_booleans_are_not_strings() {
        let (r, _) = decode("inner:\n  name: yes\n");
        let e = r.unwrap_err();
        assert_eq!(e.path, "inner.name");
        assert!(e.hint.unwrap().contains("quote it"));
        let (r, _) = decode("gates:\n  A: on\n  B: 'x'\n");
        assert_eq!(r.unwrap_err().path, "gates.B");
    }

    #[test]
    fn null_and_empty_lists_differ() {
        let (r, _) = decode("taints: null\n");
        assert_eq!(r.unwrap().taints, None);
        let (r, _) = decode("taints: []\n");
        assert_eq!(r.unwrap().taints, Some(vec![]));
    }
}
