//! kubeadm 1.31's `init` phases and its one skip rule, shared by the compiler (what the
//! bundle holds and plans) and the applier (what it runs): `skipPhases` / `--skip-phases`
//! names a phase by its full name (`addon/coredns`); skipping a phase skips every phase
//! below it (`addon` skips `addon/coredns` and `addon/kube-proxy`); a name that is no phase
//! is kubeadm's error `invalid phase name: <name>` (`computePhaseRunFlags` in
//! `cmd/kubeadm/app/cmd/phases/workflow/runner.go`). The `all` sub-phases only run their
//! siblings from the command line; skipping one skips nothing, as in kubeadm.

/// Every phase of `kubeadm init` (v1.31), by full name, in kubeadm's order
/// (`cmd/kubeadm/app/cmd/init.go` and `cmd/kubeadm/app/cmd/phases/init/`).
pub const INIT_PHASES: &[&str] = &[
    "preflight",
    "certs",
    "certs/all",
    "certs/ca",
    "certs/apiserver",
    "certs/apiserver-kubelet-client",
    "certs/front-proxy-ca",
    "certs/front-proxy-client",
    "certs/etcd-ca",
    "certs/etcd-server",
    "certs/etcd-peer",
    "certs/etcd-healthcheck-client",
    "certs/apiserver-etcd-client",
    "certs/sa",
    "kubeconfig",
    "kubeconfig/all",
    "kubeconfig/admin",
    "kubeconfig/super-admin",
    "kubeconfig/kubelet",
    "kubeconfig/controller-manager",
    "kubeconfig/scheduler",
    "etcd",
    "etcd/local",
    "control-plane",
    "control-plane/all",
    "control-plane/apiserver",
    "control-plane/controller-manager",
    "control-plane/scheduler",
    "kubelet-start",
    "wait-control-plane",
    "upload-config",
    "upload-config/all",
    "upload-config/kubeadm",
    "upload-config/kubelet",
    "upload-certs",
    "mark-control-plane",
    "bootstrap-token",
    "kubelet-finalize",
    "kubelet-finalize/all",
    KUBELET_FINALIZE,
    "addon",
    "addon/all",
    "addon/coredns",
    "addon/kube-proxy",
    "show-join-command",
];

/// The 1.31 name of kubelet-finalize's sub-phase.
pub const KUBELET_FINALIZE: &str = "kubelet-finalize/enable-client-cert-rotation";

/// Deprecated names kubeadm 1.31 still accepts, with the phase they stand for: 1.31
/// renamed `experimental-cert-rotation` and keeps the old name as a deprecated alias
/// (removed in 1.32).
pub const ALIASES: &[(&str, &str)] = &[(
    "kubelet-finalize/experimental-cert-rotation",
    KUBELET_FINALIZE,
)];

/// The phase a name stands for (an alias resolved), if it is one.
fn canonical(name: &str) -> Option<&str> {
    let name = name.trim();
    if INIT_PHASES.contains(&name) {
        return Some(name);
    }
    ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| *p)
}

/// The first name of `skip` that is no phase of `kubeadm init`.
pub fn invalid_name(skip: &[String]) -> Option<&str> {
    skip.iter()
        .map(String::as_str)
        .find(|s| canonical(s).is_none())
}

/// Whether `phase` is skipped: it, or a phase above it, is named in `skip`.
pub fn is_skipped(skip: &[String], phase: &str) -> bool {
    skip.iter().filter_map(|s| canonical(s)).any(|s| {
        phase == s
            || phase
                .strip_prefix(s)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parents_skip_their_children_and_all_skips_nothing() {
        let skip = names(&["upload-config", "addon/coredns"]);
        assert!(is_skipped(&skip, "upload-config/kubelet"));
        assert!(is_skipped(&skip, "addon/coredns"));
        assert!(!is_skipped(&skip, "addon/kube-proxy"));
        assert!(!is_skipped(&names(&["addon/all"]), "addon/coredns"));
        assert!(is_skipped(&names(&["addon"]), "addon/kube-proxy"));
        assert!(!is_skipped(&names(&["upload-config"]), "upload-certs"));
    }

    #[test]
    fn the_deprecated_name_is_an_alias_and_unknown_names_are_invalid() {
        let old = names(&["kubelet-finalize/experimental-cert-rotation"]);
        assert!(is_skipped(&old, KUBELET_FINALIZE));
        assert_eq!(invalid_name(&old), None);
        assert_eq!(invalid_name(&names(&["addon", "addons"])), Some("addons"));
        assert_eq!(invalid_name(&names(&["all"])), Some("all"));
    }
}
