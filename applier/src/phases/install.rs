//! `install`: every `rootfs/` file of the bundle written to the host atomically with its
//! mode; identical files are left alone, differing ones refused unless `--force`.

use std::io::Write;
use std::path::PathBuf;

use super::{
    backup, create_dirs, host_state, sweep_temp_files, write_atomic, ApplyContext, HostState,
    Outcome, PhaseError, Refusal,
};
use crate::bundle::BundleFile;

/// What install does with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Create,
    /// Differs; replaced after a backup (only with `--force`). The text says how it differs.
    Replace(String),
    Unchanged,
}

struct Step<'a> {
    rel: &'a str,
    file: &'a BundleFile,
    action: Action,
}

/// Runs the phase, writing one line per file to `out`.
pub fn run(ctx: &ApplyContext, out: &mut dyn Write) -> Result<Outcome, PhaseError> {
    let steps = plan(ctx)?;
    let changes = steps
        .iter()
        .filter(|s| s.action != Action::Unchanged)
        .count();
    if ctx.dry_run {
        for step in &steps {
            let verb = match &step.action {
                Action::Create => "would create".to_string(),
                Action::Replace(why) => format!(
                    "would replace ({why}; backup to {})",
                    ctx.backup_path(step.rel).display()
                ),
                Action::Unchanged => "unchanged".to_string(),
            };
            line(out, &verb, ctx, step);
        }
        let _ = writeln!(
            out,
            "install: dry run, {changes} of {} files would change, nothing was written",
            steps.len()
        );
        // Like every phase's dry run: nothing changed, so a later refusal is still exit 1.
        return Ok(Outcome::Skipped("dry run".into()));
    }

    let mut done = Vec::new();
    sweep(ctx, "install", out, &mut done)?;
    for step in &steps {
        let path = ctx.host_path(step.rel);
        let fail = |action, done: &Vec<String>, source| PhaseError::Failed {
            phase: "install",
            action,
            path: path.clone(),
            done: done.clone(),
            source,
        };
        let verb = match &step.action {
            Action::Unchanged => {
                line(out, "unchanged", ctx, step);
                continue;
            }
            Action::Create => "created".to_string(),
            Action::Replace(_) => {
                let target =
                    backup(ctx, step.rel, &mut done).map_err(|e| fail("back up", &done, e))?;
                format!("replaced (backup {})", target.display())
            }
        };
        let rel_dir = step.rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        create_dirs(&ctx.root, rel_dir, &mut done)
            .map_err(|e| fail("create the directories of", &done, e))?;
        write_atomic(&path, &step.file.data, step.file.mode)
            .map_err(|e| fail("write", &done, e))?;
        done.push(format!("{verb} {}", path.display()));
        line(out, &verb, ctx, step);
    }
    let outcome = if changes == 0 {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    };
    let _ = writeln!(out, "install: {outcome}");
    Ok(outcome)
}

/// Removes what a killed run left behind, printing a line for each file.
pub(super) fn sweep(
    ctx: &ApplyContext,
    phase: &'static str,
    out: &mut dyn Write,
    done: &mut Vec<String>,
) -> Result<(), PhaseError> {
    let before = done.len();
    sweep_temp_files(ctx, done).map_err(|source| PhaseError::Failed {
        phase,
        action: "remove stale temporary files in",
        path: ctx.root.clone(),
        done: done.clone(),
        source,
    })?;
    for line in &done[before..] {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

fn line(out: &mut dyn Write, verb: &str, ctx: &ApplyContext, step: &Step<'_>) {
    let _ = writeln!(
        out,
        "{verb} {} mode={:04o} sha256={}",
        ctx.host_path(step.rel).display(),
        step.file.mode,
        step.file.sha256
    );
}

/// Reads the host and decides every file's action; refuses before anything is written.
fn plan(ctx: &ApplyContext) -> Result<Vec<Step<'_>>, PhaseError> {
    let mut steps = Vec::new();
    let mut refusals = Vec::new();
    let mut differing = false;
    let later = ctx.installed_later();
    for (rel, file) in ctx.rootfs_files() {
        if later.iter().any(|l| l == rel) {
            continue;
        }
        let path: PathBuf = ctx.host_path(rel);
        let action = match host_state(&ctx.root, &path, file) {
            Ok(HostState::Absent) => Action::Create,
            Ok(HostState::Same) => Action::Unchanged,
            // kubelet-finalize's rewrite of the bundle's kubelet.conf is ours too.
            Ok(HostState::Differs(_))
                if super::kubelet_finalize::host_is_finalized(ctx, rel, file) =>
            {
                Action::Unchanged
            }
            Ok(HostState::Differs(why)) if ctx.force => match super::backup_refusal(ctx, rel) {
                Ok(None) => Action::Replace(why),
                Ok(Some(reason)) => {
                    refusals.push(Refusal { path, reason });
                    continue;
                }
                Err(e) => {
                    refusals.push(Refusal {
                        path,
                        reason: format!("its backup directory cannot be read: {e}"),
                    });
                    continue;
                }
            },
            Ok(HostState::Differs(why)) => {
                differing = true;
                refusals.push(Refusal { path, reason: why });
                continue;
            }
            Ok(HostState::Blocked(why)) => {
                refusals.push(Refusal { path, reason: why });
                continue;
            }
            Err(e) => {
                refusals.push(Refusal {
                    path,
                    reason: format!("cannot be read: {e}"),
                });
                continue;
            }
        };
        steps.push(Step { rel, file, action });
    }
    if refusals.is_empty() {
        return Ok(steps);
    }
    let hint = differing.then(|| {
        format!(
            "pass --force to replace differing files; their current versions are kept under \"{}\"",
            ctx.backup_path("").display()
        )
    });
    Err(PhaseError::Refused {
        phase: "install",
        refusals,
        hint,
    })
}
