//! `kubelet-finalize` (`cmd/kubeadm/app/cmd/phases/init/kubeletfinalize.go`): once the kubelet has rotated its client
//! certificate into `/var/lib/kubelet/pki/kubelet-client-current.pem`, kubelet.conf's
//! current user drops its embedded `client-certificate-data`/`client-key-data` and points
//! `client-certificate` and `client-key` at that file; the file is written back 0600 and
//! the kubelet restarted. Without the file the phase is skipped, as in kubeadm.
//!
//! `install` and `reset` accept a kubelet.conf that is exactly the bundle's one finalized
//! this way ([`is_finalized_form`]), so that a re-run reports it unchanged.

use serde_json::Value;

use super::{systemctl_must, PhaseError, Session};
use super::{write_atomic, Outcome};
use crate::api::kubeconfig;

pub const CURRENT_PEM: &str = "/var/lib/kubelet/pki/kubelet-client-current.pem";

/// kubelet.conf with the current user pointed at [`CURRENT_PEM`]; `None` when it already
/// is.
pub fn finalize(config: &Value) -> Result<Option<Value>, String> {
    let (user, _) = kubeconfig::current(config)?;
    let mut out = config.clone();
    let entry = out
        .get_mut("users")
        .and_then(Value::as_array_mut)
        .and_then(|users| {
            users
                .iter_mut()
                .find(|u| u.get("name").and_then(Value::as_str) == Some(user.as_str()))
        })
        .and_then(|u| u.get_mut("user"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("no user named \"{user}\""))?;
    let before = entry.clone();
    entry.remove("client-certificate-data");
    entry.remove("client-key-data");
    entry.insert(
        "client-certificate".into(),
        Value::String(CURRENT_PEM.into()),
    );
    entry.insert("client-key".into(), Value::String(CURRENT_PEM.into()));
    if *entry == before {
        Ok(None)
    } else {
        Ok(Some(out))
    }
}

/// Whether `host` is `bundle` after [`finalize`] (compared as parsed YAML).
pub fn is_finalized_form(bundle: &[u8], host: &[u8]) -> bool {
    let parse = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|t| kubeconfig::parse(t).ok())
    };
    match (parse(bundle), parse(host)) {
        (Some(b), Some(h)) => matches!(finalize(&b), Ok(Some(f)) if f == h),
        _ => false,
    }
}

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let pem = s.host(CURRENT_PEM);
    if !pem.exists() {
        return Ok(Outcome::Skipped(format!(
            "{CURRENT_PEM} does not exist (client certificate rotation is off)"
        )));
    }
    let path = s.host(&s.plan.kubelet_kubeconfig);
    // Checked before any phase ran too (run::boundary); again here, right before writing.
    if let Some(why) = refusal(s.ctx, &path)? {
        return Err(PhaseError::Precondition(why));
    }
    let host_file =
        |e: &dyn std::fmt::Display| PhaseError::HostFile(format!("\"{}\": {e}", path.display()));
    let text = kubeconfig::read_text(&path).map_err(|e| PhaseError::HostFile(e.to_string()))?;
    let config = kubeconfig::parse(&text).map_err(|e| host_file(&e))?;
    let Some(finalized) = finalize(&config).map_err(|e| host_file(&e))? else {
        return Ok(Outcome::Unchanged);
    };
    if s.ctx.dry_run {
        s.say(format!(
            "would rewrite {} mode=0600 (client certificate and key: {CURRENT_PEM}) and restart the kubelet",
            path.display()
        ));
        return Ok(Outcome::Skipped("dry run".into()));
    }
    let yaml = serde_saphyr::to_string(&finalized)
        .map_err(|e| PhaseError::HostFile(format!("cannot write YAML: {e}")))?;
    write_atomic(&path, yaml.as_bytes(), 0o600)
        .map_err(|e| PhaseError::HostFile(format!("cannot write \"{}\": {e}", path.display())))?;
    s.say(format!(
        "[kubelet-finalize] {} now uses {CURRENT_PEM}",
        path.display()
    ));
    systemctl_must(s, &["restart", "kubelet"])?;
    Ok(Outcome::Changed)
}

/// Why kubelet.conf at host path `path` cannot be rewritten: `--root` is a boundary, and
/// nothing is written through a symbolic link under it.
pub fn refusal(
    ctx: &super::ApplyContext,
    path: &std::path::Path,
) -> Result<Option<String>, PhaseError> {
    match super::write_refusal(&ctx.root, path) {
        Ok(None) => Ok(None),
        Ok(Some(why)) => Ok(Some(format!(
            "\"{}\" cannot be rewritten: {why}",
            path.display()
        ))),
        Err(e) => Err(PhaseError::HostFile(format!(
            "cannot check \"{}\": {e}",
            path.display()
        ))),
    }
}

/// Whether root-relative `rel` is the plan's kubelet.conf and the host holds the bundle's
/// version of it finalized by this phase (install and reset treat it as unchanged).
pub fn host_is_finalized(
    ctx: &super::ApplyContext,
    rel: &str,
    file: &crate::bundle::BundleFile,
) -> bool {
    let Ok(plan) = ctx.bundle.manifest.apply_plan() else {
        return false;
    };
    if plan.kubelet_kubeconfig.trim_start_matches('/') != rel {
        return false;
    }
    finalized_on_host(&ctx.host_path(rel), &file.data)
}

/// Whether the file at host path `path` is `bundle` finalized (read with the kubeconfig
/// size cap: a huge or special file there is simply not ours).
pub fn finalized_on_host(path: &std::path::Path, bundle: &[u8]) -> bool {
    kubeconfig::read_text(path).is_ok_and(|host| is_finalized_form(bundle, host.as_bytes()))
}
