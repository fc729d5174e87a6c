//! `reset`: removes the bundle's `rootfs/` files from the host, refusing files whose
//! content or mode changed unless `--force` (which keeps a backup first). Directories under
//! `/etc/kubernetes` and `/var/lib/kubelet` that become empty are removed too; those two
//! directories themselves, and everything above them, stay.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};

pub use super::etcd_join::leave as leave_etcd;
use super::{backup, host_state, ApplyContext, HostState, Outcome, PhaseError, Refusal};

/// Directories reset may empty but never removes.
const KEPT: [&str; 2] = ["etc/kubernetes", "var/lib/kubelet"];

/// What reset will do, decided before anything changes.
struct Plan<'a> {
    /// Root-relative paths to remove, with whether the host's version differs (backed up
    /// first under `--force`).
    remove: Vec<(&'a str, bool)>,
    /// Bundle files already gone.
    absent: Vec<&'a str>,
}

/// Runs the phase, writing one line per file to `out`.
pub fn run(ctx: &ApplyContext, out: &mut dyn Write) -> Result<Outcome, PhaseError> {
    let plan = plan(ctx)?;
    let mut done = Vec::new();
    super::install::sweep(ctx, "reset", out, &mut done)?;
    for rel in &plan.absent {
        let _ = writeln!(out, "absent {}", ctx.host_path(rel).display());
    }
    for (rel, differs) in &plan.remove {
        remove_file(ctx, rel, *differs, out, &mut done)?;
    }
    remove_empty_dirs(ctx, out, &mut done)?;
    let outcome = if done.is_empty() {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    };
    let _ = writeln!(out, "reset: {outcome}");
    Ok(outcome)
}

/// Reads the host and decides; refuses (exit 1) with every file it will not touch.
fn plan(ctx: &ApplyContext) -> Result<Plan<'_>, PhaseError> {
    let mut plan = Plan {
        remove: Vec::new(),
        absent: Vec::new(),
    };
    let mut refusals = Vec::new();
    let mut differing = false;
    for (rel, file) in ctx.rootfs_files() {
        let path = ctx.host_path(rel);
        match host_state(&ctx.root, &path, file) {
            Ok(HostState::Absent) => plan.absent.push(rel),
            Ok(HostState::Same) => plan.remove.push((rel, false)),
            Ok(HostState::Differs(_))
                if super::kubelet_finalize::host_is_finalized(ctx, rel, file) =>
            {
                plan.remove.push((rel, false))
            }
            Ok(HostState::Differs(_)) if ctx.force => match super::backup_refusal(ctx, rel) {
                Ok(None) => plan.remove.push((rel, true)),
                Ok(Some(reason)) => refusals.push(Refusal { path, reason }),
                Err(e) => refusals.push(Refusal {
                    path,
                    reason: format!("its backup directory cannot be read: {e}"),
                }),
            },
            Ok(HostState::Differs(why)) => {
                differing = true;
                refusals.push(Refusal {
                    path,
                    reason: format!("{why}; it was changed after install"),
                });
            }
            Ok(HostState::Blocked(why)) => refusals.push(Refusal { path, reason: why }),
            Err(e) => refusals.push(Refusal {
                path,
                reason: format!("cannot be read: {e}"),
            }),
        }
    }
    if refusals.is_empty() {
        return Ok(plan);
    }
    Err(PhaseError::Refused {
        phase: "reset",
        refusals,
        hint: differing.then(|| {
            format!(
                "pass --force to remove changed files too; they are kept under \"{}\"",
                ctx.backup_path("").display()
            )
        }),
    })
}

/// How reset reports a failed action on `path`, with what it had done before.
fn failure(
    path: &std::path::Path,
) -> impl Fn(&'static str, &Vec<String>, io::Error) -> PhaseError + '_ {
    move |action, done, source| PhaseError::Failed {
        phase: "reset",
        action,
        path: path.to_path_buf(),
        done: done.clone(),
        source,
    }
}

/// Removes one bundle file (backing up a changed one first).
fn remove_file(
    ctx: &ApplyContext,
    rel: &str,
    differs: bool,
    out: &mut dyn Write,
    done: &mut Vec<String>,
) -> Result<(), PhaseError> {
    let path = ctx.host_path(rel);
    let fail = failure(&path);
    let mut verb = "removed".to_string();
    if differs {
        let target = backup(ctx, rel, done).map_err(|e| fail("back up", done, e))?;
        verb = format!("removed (changed; backup {})", target.display());
    }
    fs::remove_file(&path).map_err(|e| fail("remove", done, e))?;
    done.push(format!("removed {}", path.display()));
    let _ = writeln!(out, "{verb} {}", path.display());
    Ok(())
}

/// Removes the directories strictly below the kept ones that became empty, deepest first.
fn remove_empty_dirs(
    ctx: &ApplyContext,
    out: &mut dyn Write,
    done: &mut Vec<String>,
) -> Result<(), PhaseError> {
    let mut dirs = BTreeSet::new();
    for (rel, _) in ctx.rootfs_files() {
        let mut dir = rel;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if KEPT.iter().any(|k| parent.starts_with(&format!("{k}/"))) {
                dirs.insert(parent);
            }
            dir = parent;
        }
    }
    let mut dirs: Vec<&str> = dirs.into_iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for rel in dirs {
        let path = ctx.host_path(rel);
        let fail = failure(&path);
        let empty = match fs::read_dir(&path) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(fail("list", done, e)),
        };
        if empty {
            fs::remove_dir(&path).map_err(|e| fail("remove the directory", done, e))?;
            done.push(format!("removed directory {}", path.display()));
            let _ = writeln!(out, "removed directory {}", path.display());
        }
    }
    Ok(())
}
