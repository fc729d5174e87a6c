//! `show-join-command`: prints the bundle's `join/commands.txt` (`cmd/kubeadm/app/cmd/phases/init/showjoincommand.go`).

use super::Outcome;
use super::{PhaseError, Session};

pub const COMMANDS: &str = "join/commands.txt";

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let Some(file) = s.ctx.bundle.files.iter().find(|f| f.path == COMMANDS) else {
        return Ok(Outcome::Skipped(format!("the bundle has no {COMMANDS}")));
    };
    let text = String::from_utf8_lossy(&file.data).into_owned();
    let _ = s.out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        s.say("");
    }
    Ok(Outcome::Unchanged)
}
