//! `kubelet-start` (`cmd/kubeadm/app/cmd/phases/init/kubelet.go`): `systemctl daemon-reload`, `systemctl enable
//! kubelet` (when not enabled), `systemctl restart kubelet`. The files kubeadm writes in
//! this phase (`/var/lib/kubelet/config.yaml`, `kubeadm-flags.env`) are bundle files that
//! `install` wrote.
//!
//! Re-run rule: when install changed nothing and the kubelet is enabled and active, nothing
//! is run and the phase is `unchanged`. The systemctl binary is `--systemctl PATH` or
//! `KBC_SYSTEMCTL`, so tests use a fake one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::Outcome;
use super::{systemctl, systemctl_must, PhaseError, Session};

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let outcome = start(s)?;
    if s.plan.join.is_none() || s.ctx.dry_run {
        return Ok(outcome);
    }
    let tail = join_tail(s)?;
    Ok(if outcome == Outcome::Changed || tail == Outcome::Changed {
        Outcome::Changed
    } else {
        outcome
    })
}

/// `systemctl daemon-reload`, `enable` (when not enabled), `restart kubelet`.
fn start(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
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

/// The rest of kubeadm join's kubelet-start (`cmd/kubeadm/app/cmd/phases/join/kubelet.go`): a generic worker waits for the
/// kubelet's TLS bootstrap to write kubelet.conf, then deletes bootstrap-kubelet.conf;
/// every joining node annotates its Node with the CRI socket, as the node itself.
fn join_tail(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let join = s.plan.join.clone().unwrap_or_default();
    let mut changed = false;
    if !join.bootstrap_kubeconfig.is_empty() {
        wait_for_kubelet_conf(s, join.tls_bootstrap_seconds)?;
        let bootstrap = s.host(&join.bootstrap_kubeconfig);
        if bootstrap.exists() {
            std::fs::remove_file(&bootstrap).map_err(|e| {
                PhaseError::HostFile(format!("cannot remove {}: {e}", bootstrap.display()))
            })?;
            s.say(format!(
                "[kubelet-start] Removed {}",
                join.bootstrap_kubeconfig
            ));
            changed = true;
        }
        if s.plan.node.name.is_empty() {
            // The kubelet registers a generic worker under the host's name.
            s.plan.node.name = host_name(s)?;
        }
    }
    let annotations = s.plan.node.annotations.clone();
    let patched = s.as_kubelet(|s| {
        super::mark_control_plane::patch_node(s, &BTreeMap::new(), &annotations, None)
    })??;
    Ok(if changed || patched == Outcome::Changed {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    })
}

/// Polls every second until kubelet.conf holds a usable client identity.
fn wait_for_kubelet_conf(s: &mut Session<'_>, seconds: u64) -> Result<(), PhaseError> {
    s.say("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap");
    let path = s.host(&s.plan.kubelet_kubeconfig);
    let limit = Duration::from_secs(seconds.max(1));
    let start = Instant::now();
    loop {
        let last = match crate::api::kubeconfig::load(&path, &s.ctx.root) {
            Ok(_) => return Ok(()),
            Err(e) => e.to_string(),
        };
        if start.elapsed() >= limit {
            return Err(PhaseError::Cluster(format!(
                "the kubelet did not perform the TLS Bootstrap within {} s: {last}",
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The host name under `--root`, as the kubelet registers it (trimmed, lower-cased).
fn host_name(s: &Session<'_>) -> Result<String, PhaseError> {
    let path = s.host("/proc/sys/kernel/hostname");
    std::fs::read_to_string(&path)
        .map(|h| h.trim().to_lowercase())
        .map_err(|e| PhaseError::HostFile(format!("cannot read {}: {e}", path.display())))
}
