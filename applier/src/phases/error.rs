//! [`PhaseError`]: why a phase stopped, typed, and the exit code it means (`kbc-apply
//! --help`): 1 when the phase refused before changing anything, 2 when it failed while
//! acting. The runner decides the code from the variant alone, never by downcasting.

use std::io;
use std::path::PathBuf;

use crate::api::ApiError;

/// One file the phase will not touch, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: PathBuf,
    pub reason: String,
}

/// Why a phase stopped.
#[derive(Debug, thiserror::Error)]
pub enum PhaseError {
    /// A file phase's plan was refused before anything was changed (exit code 1).
    #[error("{phase} refused; nothing was changed:{}{}", list_refusals(.refusals), hint_line(.hint))]
    Refused {
        phase: &'static str,
        refusals: Vec<Refusal>,
        hint: Option<String>,
    },
    /// A file phase's action failed after others were done (exit code 2); `done` lists them.
    #[error("{phase} failed while acting: could not {action} \"{}\"{}", .path.display(), list_done(.done))]
    Failed {
        phase: &'static str,
        action: &'static str,
        path: PathBuf,
        done: Vec<String>,
        #[source]
        source: io::Error,
    },
    /// The host does not meet a condition checked before acting: preflight errors, a file
    /// the run must not write through (exit code 1). The text is the whole report.
    #[error("{0}")]
    Precondition(String),
    /// The bundle contradicts itself: a planned file it does not hold, an object that does
    /// not parse, a broken owner reference (exit code 2: found while acting).
    #[error("{0}")]
    Bundle(String),
    /// A request to the API server failed (exit code 2).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A host command could not be started (exit code 2).
    #[error("cannot run \"{command}\"")]
    Command { command: String, source: io::Error },
    /// A host command ran and failed (exit code 2).
    #[error("\"{command}\" failed; see its output above")]
    CommandFailed { command: String },
    /// A host file needed while acting could not be read, parsed or written (exit code 2).
    #[error("{0}")]
    HostFile(String),
    /// The cluster is not in the state the phase needs and waiting did not help: a health
    /// endpoint that never answered, an owner object the server does not have (exit code 2).
    #[error("{0}")]
    Cluster(String),
}

impl PhaseError {
    /// The process exit code for this error (see the table in `kbc-apply --help`).
    pub fn exit_code(&self) -> i32 {
        match self {
            PhaseError::Refused { .. } | PhaseError::Precondition(_) => 1,
            PhaseError::Failed { .. }
            | PhaseError::Bundle(_)
            | PhaseError::Api(_)
            | PhaseError::Command { .. }
            | PhaseError::CommandFailed { .. }
            | PhaseError::HostFile(_)
            | PhaseError::Cluster(_) => 2,
        }
    }
}

fn list_refusals(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(|r| format!("\n  \"{}\": {}", r.path.display(), r.reason))
        .collect()
}

fn hint_line(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\n  = hint: {h}"))
        .unwrap_or_default()
}

fn list_done(done: &[String]) -> String {
    if done.is_empty() {
        "\n  nothing had been changed before the failure".to_string()
    } else {
        let mut s = String::from("\n  done before the failure:");
        for d in done {
            s.push_str("\n    ");
            s.push_str(d);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::PhaseError;
    use std::error::Error;

    /// The cause is the error's `source`, printed once by the "caused by" chain, never
    /// repeated in the message itself.
    #[test]
    fn a_command_error_names_the_command_and_keeps_the_cause_as_its_source() {
        let e = PhaseError::Command {
            command: "systemctl".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(e.to_string(), "cannot run \"systemctl\"");
        assert_eq!(
            e.source().map(|s| s.to_string()),
            Some("entity not found".into())
        );
    }
}
