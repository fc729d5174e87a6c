//! `kbc-apply BUNDLE`: every phase of the bundle's plan in kubeadm's order, with
//! `--skip-phases`, one output line per phase and kubeadm's "error execution phase NAME".
//!
//! Order: `preflight`, `install` (the files kubeadm's certs, kubeconfig, etcd,
//! control-plane and kubelet-start phases write), then the rest of `apply.phases`
//! (`kubelet-start`, `wait-control-plane`, `upload-config/*`, `upload-certs`,
//! `mark-control-plane`, `bootstrap-token`, `kubelet-finalize`, `addon/*`,
//! `show-join-command`). A phase with no special meaning applies the bundle's API files of
//! that phase.

use std::io::Write;

use crate::bundle::apply::ApplyPlan;

use super::session::{RunOptions, Session};
use super::{install, kubelet_finalize, ApplyContext, Outcome, PhaseError};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[error("error execution phase {phase}{}", done_lines(.done))]
pub struct RunError {
    pub phase: String,
    /// `<phase>: <outcome>` of every phase before, for the exit-2 report.
    pub done: Vec<String>,
    /// 1: refused before anything changed; 2: failed while acting.
    pub code: u8,
    #[source]
    pub source: Box<PhaseError>,
}

fn done_lines(done: &[String]) -> String {
    if done.is_empty() {
        String::new()
    } else {
        let mut s = String::from("\n  phases done before the failure:");
        for d in done {
            s.push_str("\n    ");
            s.push_str(d);
        }
        s
    }
}

/// Whether `--skip-phases` names `phase` or one of its parents (the one rule:
/// [`kbc_bundle::phases::is_skipped`]; kbc-apply's own names `install` and
/// `cluster-admins` follow it too).
pub fn is_skipped(skip: &[String], phase: &str) -> bool {
    kbc_bundle::phases::is_skipped(skip, phase)
        || skip.iter().any(|s| {
            let s = s.trim();
            s == phase || phase.strip_prefix(s).is_some_and(|r| r.starts_with('/'))
        })
}

/// A note for every `--skip-phases` name that names no phase of this run.
pub fn skip_notes(skip: &[String], phases: &[String]) -> Vec<String> {
    let mut notes = Vec::new();
    for name in skip.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if phases.iter().any(|p| is_skipped(&[name.to_string()], p)) {
            continue;
        }
        let top = name.split('/').next().unwrap_or(name);
        // A phase whose work the compiler did: its files are in the bundle.
        let compile_time = kbc_bundle::phases::find(top)
            .is_some_and(|p| p.kind == kbc_bundle::phases::PhaseKind::CompileTime);
        if compile_time {
            notes.push(format!(
                "note: --skip-phases {name}: that phase ran when the bundle was compiled; skip it there (skipPhases) or skip install here"
            ));
        } else {
            notes.push(format!(
                "warning: --skip-phases {name}: the bundle's plan has no such phase"
            ));
        }
    }
    notes
}

pub use crate::bundle::apply::CLUSTER_ADMINS_PHASE;

fn uses_client(phase: &str) -> bool {
    super::phase(phase).is_some_and(|p| p.uses_client)
}

/// The phases of a run, in order: the plan's, with `install` after `preflight` and, when the
/// bundle has a `cluster-admins` API file, [`CLUSTER_ADMINS_PHASE`] before the first phase
/// that uses the API client and is not in `skip`.
pub fn sequence(plan: &ApplyPlan, skip: &[String]) -> Vec<String> {
    let mut phases: Vec<String> = plan
        .phases
        .iter()
        .filter(|p| p.as_str() != "install" && p.as_str() != CLUSTER_ADMINS_PHASE)
        .cloned()
        .collect();
    let at = phases
        .iter()
        .position(|p| p == "preflight")
        .map(|i| i + 1)
        .unwrap_or(0);
    phases.insert(at, "install".to_string());
    if plan
        .api_files
        .iter()
        .any(|f| f.phase == CLUSTER_ADMINS_PHASE)
    {
        if let Some(at) = phases
            .iter()
            .position(|p| uses_client(p) && !is_skipped(skip, p))
        {
            phases.insert(at, CLUSTER_ADMINS_PHASE.to_string());
        }
    }
    phases
}

/// Runs every phase; prints `<phase>: changed|unchanged|skipped: <reason>` for each.
pub fn run(ctx: &ApplyContext, opts: &RunOptions, out: &mut dyn Write) -> Result<(), RunError> {
    let refused = |source| RunError {
        phase: "verify".into(),
        done: Vec::new(),
        code: 1,
        source: Box::new(source),
    };
    let plan = ctx
        .bundle
        .manifest
        .apply_plan()
        .map_err(|e| refused(PhaseError::Bundle(e.to_string())))?;
    plan.check_paths()
        .map_err(|reason| refused(PhaseError::Bundle(reason)))?;
    let phases = sequence(&plan, &opts.skip_phases);
    if let Some(unknown) = phases.iter().find(|p| super::phase(p).is_none()) {
        return Err(refused(PhaseError::Bundle(format!(
            "the bundle's plan names phase \"{unknown}\", which this kbc-apply does not know"
        ))));
    }
    boundary(ctx, &plan, &phases, &opts.skip_phases)?;
    let gate = PhaseGate::from_env();
    let mut session = Session::new(ctx, plan, opts, out);
    for note in skip_notes(&opts.skip_phases, &phases) {
        session.say(note);
    }
    let mut done: Vec<String> = Vec::new();
    let mut changed_any = false;
    for phase in &phases {
        if is_skipped(&opts.skip_phases, phase) {
            if phase == "install" && !ctx.dry_run {
                // What a killed run left is removed even when the files are not installed.
                let mut removed = Vec::new();
                install::sweep(ctx, "install", session.out, &mut removed).map_err(|source| {
                    RunError {
                        phase: phase.clone(),
                        done: done.clone(),
                        code: 2,
                        source: Box::new(source),
                    }
                })?;
            }
            let line = format!("{phase}: {}", Outcome::Skipped("--skip-phases".into()));
            session.say(&line);
            done.push(line);
            gate.pass(session.out);
            continue;
        }
        let step = super::phase(phase).expect("every phase was looked up before the run");
        match (step.run)(&mut session, phase) {
            Ok(outcome) => {
                if outcome == Outcome::Changed {
                    changed_any = true;
                }
                let line = format!("{phase}: {outcome}");
                if !step.prints_own_line {
                    session.say(&line);
                }
                done.push(line);
                gate.pass(session.out);
            }
            Err(source) => {
                let refused = source.exit_code() == 1 && !changed_any;
                return Err(RunError {
                    phase: phase.clone(),
                    done,
                    code: if refused { 1 } else { 2 },
                    source: Box::new(source),
                });
            }
        }
    }
    Ok(())
}

/// `--root` is a boundary: the files a run writes besides the bundle's (kubelet.conf,
/// rewritten by kubelet-finalize) are checked before any phase runs, so that a symbolic
/// link under the root refuses the run (exit 1) before anything changed. The bundle's own
/// files are checked by install's plan, which changes nothing either.
fn boundary(
    ctx: &ApplyContext,
    plan: &ApplyPlan,
    phases: &[String],
    skip: &[String],
) -> Result<(), RunError> {
    let finalizes = phases.iter().any(|p| {
        (p == "kubelet-finalize" || p.starts_with("kubelet-finalize/")) && !is_skipped(skip, p)
    });
    if ctx.dry_run || !finalizes || plan.kubelet_kubeconfig.is_empty() {
        return Ok(());
    }
    let path = ctx
        .root
        .join(plan.kubelet_kubeconfig.trim_start_matches('/'));
    let refusal = match kubelet_finalize::refusal(ctx, &path) {
        Ok(None) => return Ok(()),
        Ok(Some(why)) => PhaseError::Precondition(format!(
            "{why} (checked before any phase ran; nothing was changed)"
        )),
        Err(e) => e,
    };
    Err(RunError {
        phase: "kubelet-finalize".into(),
        done: Vec::new(),
        code: 1,
        source: Box::new(refusal),
    })
}

/// A test hook, not a feature: with `KBC_APPLY_TEST_PHASE_GATE=1` in the environment, the
/// run stops after each phase's outcome line until standard input yields a line (or ends),
/// so that `tests/apply_kill.rs` can kill it exactly between two phases. Without the
/// variable nothing waits and standard input is never read.
struct PhaseGate(bool);

impl PhaseGate {
    const VAR: &'static str = "KBC_APPLY_TEST_PHASE_GATE";

    fn from_env() -> PhaseGate {
        PhaseGate(std::env::var_os(Self::VAR).is_some_and(|v| v == "1"))
    }

    fn pass(&self, out: &mut dyn Write) {
        if self.0 {
            let _ = out.flush();
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_names_match_phases_and_parents() {
        let skip = vec!["addon".to_string(), "upload-config/kubelet".to_string()];
        assert!(is_skipped(&skip, "addon/coredns"));
        assert!(is_skipped(&skip, "upload-config/kubelet"));
        assert!(!is_skipped(&skip, "upload-config/kubeadm"));
        assert!(!is_skipped(&skip, "addons"));
        let phases: Vec<String> = ["preflight", "install", "addon/coredns"]
            .map(String::from)
            .to_vec();
        let notes = skip_notes(&["certs".into(), "bogus".into(), "addon".into()], &phases);
        assert_eq!(notes.len(), 2);
        assert!(notes[0].starts_with("note: --skip-phases certs"));
        assert!(notes[1].starts_with("warning: --skip-phases bogus"));
    }

    fn plan(phases: &[&str], api_phases: &[&str]) -> ApplyPlan {
        ApplyPlan {
            phases: phases.iter().map(|p| p.to_string()).collect(),
            api_files: api_phases
                .iter()
                .enumerate()
                .map(|(i, p)| crate::bundle::apply::ApiFileRef {
                    path: format!("api/{i}0-x.yaml"),
                    phase: p.to_string(),
                })
                .collect(),
            ..ApplyPlan::default()
        }
    }

    #[test]
    fn cluster_admins_comes_before_the_first_api_phase_that_runs() {
        let phases = [
            "preflight",
            "kubelet-start",
            "wait-control-plane",
            "upload-config/kubeadm",
            "mark-control-plane",
            "kubelet-finalize/enable-client-cert-rotation",
            "show-join-command",
        ];
        let with = plan(&phases, &["cluster-admins", "upload-config/kubeadm"]);
        let seq = sequence(&with, &[]);
        assert_eq!(
            seq[..6],
            [
                "preflight",
                "install",
                "kubelet-start",
                "wait-control-plane",
                "cluster-admins",
                "upload-config/kubeadm"
            ]
        );
        let seq = sequence(&with, &["upload-config".to_string()]);
        assert_eq!(
            seq[4..7],
            [
                "upload-config/kubeadm",
                "cluster-admins",
                "mark-control-plane"
            ]
        );
        let only_host = sequence(&plan(&phases[..3], &["cluster-admins"]), &[]);
        assert!(!only_host.contains(&"cluster-admins".to_string()));
        let without = sequence(&plan(&phases, &["upload-config/kubeadm"]), &[]);
        assert!(!without.contains(&"cluster-admins".to_string()));
    }
}
