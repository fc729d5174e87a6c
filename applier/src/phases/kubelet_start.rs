//! `kubelet-start` (control-plane.md §10.4): `systemctl daemon-reload`, `systemctl enable
//! kubelet` (when not enabled), `systemctl restart kubelet`. The files kubeadm writes in
//! this phase (`/var/lib/kubelet/config.yaml`, `kubeadm-flags.env`) are bundle files that
//! `install` wrote.
//!
//! Re-run rule: when install changed nothing and the kubelet is enabled and active, nothing
//! is run and the phase is `unchanged`. The systemctl binary is `--systemctl PATH` or
//! `KBC_SYSTEMCTL`, so tests use a fake one.

use super::Outcome;
use super::{systemctl, systemctl_must, PhaseError, Session};

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let enabled = systemctl(s, &["is-enabled", "--quiet", "kubelet"])?;
    let active = systemctl(s, &["is-active", "--quiet", "kubelet"])?;
    if enabled && active && !s.install_changed {
        return Ok(Outcome::Unchanged);
    }
    let mut steps: Vec<&[&str]> = vec![&["daemon-reload"]];
    if !enabled {
        steps.push(&["enable", "kubelet"]);
    }
    steps.push(&["restart", "kubelet"]);
    let exe = s.opts.systemctl.display().to_string();
    for args in steps {
        if s.ctx.dry_run {
            s.say(format!("would run {exe} {}", args.join(" ")));
            continue;
        }
        s.say(format!("[kubelet-start] {exe} {}", args.join(" ")));
        systemctl_must(s, args)?;
    }
    Ok(if s.ctx.dry_run {
        Outcome::Skipped("dry run".into())
    } else {
        Outcome::Changed
    })
}
