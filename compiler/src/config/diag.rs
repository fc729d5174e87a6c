//! Problems found in a configuration file, and how they are printed.
//!
//! kubeadm stops at the first document that fails to decode and prints validation errors as
//! one bracketed line (`[networking.podSubnet: Invalid value: ..., ...]`). kbc reports every
//! problem of a run, each with the file position, document kind, field path, what was
//! expected and a hint, in the order they appear in the file:
//!
//! ```text
//! error: networking.podSubnet: expected a CIDR such as 10.244.0.0/16, got "10.244.0.0"
//!   --> fixtures/single-node.yaml:14:16 (ClusterConfiguration)
//!   = hint: add the prefix length
//! ```

use crate::yaml::node::Pos;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located as precisely as the input allows.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user named it (`-` reads as `<stdin>`).
    pub file: String,
    /// Where in the file; `None` when the value came from a default or a flag.
    pub pos: Option<Pos>,
    /// The document kind, e.g. `ClusterConfiguration`, when one is known.
    pub kind: Option<String>,
    /// The field path in kubeadm's notation (`networking.podSubnet`, `bootstrapTokens[0].token`).
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: String::new(),
            pos: None,
            kind: None,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    pub fn at(mut self, pos: Pos) -> Self {
        self.pos = Some(pos);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = clip(&self.message);
        if self.path.is_empty() {
            write!(f, "{label}: {message}")?;
        } else {
            write!(f, "{label}: {}: {message}", self.path)?;
        }
        let kind = self
            .kind
            .as_ref()
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        match self.pos {
            Some(pos) => write!(f, "\n  --> {}:{pos}{kind}", self.file)?,
            None if !self.file.is_empty() => write!(f, "\n  --> {}{kind}", self.file)?,
            None => {}
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Longest message shown whole: a 50 MB value quoted in a message must not become 50 MB
/// of stderr; the position still says where it is.
const MAX_MESSAGE_CHARS: usize = 2000;

fn clip(message: &str) -> std::borrow::Cow<'_, str> {
    let count = message.chars().count();
    if count <= MAX_MESSAGE_CHARS {
        return message.into();
    }
    let head: String = message.chars().take(MAX_MESSAGE_CHARS - 400).collect();
    format!("{head}… ({count} characters in all)").into()
}

/// Every problem of one run; an error report when at least one is an error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// Orders problems as they appear in the file (unlocated ones last, in the order found),
    /// errors before warnings at the same place, and drops exact repeats.
    pub fn sort(&mut self) {
        self.diagnostics
            .sort_by_key(|d| (d.pos.is_none(), d.pos, d.severity));
        self.diagnostics.dedup();
    }
}

impl fmt::Display for Report {
    /// Errors first, then warnings, then a one-line count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.errors().chain(self.warnings()) {
            writeln!(f, "{d}")?;
        }
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        if errors > 0 {
            writeln!(
                f,
                "{errors} error{}{}",
                if errors == 1 { "" } else { "s" },
                if warnings > 0 {
                    format!(
                        ", {warnings} warning{}",
                        if warnings == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}
