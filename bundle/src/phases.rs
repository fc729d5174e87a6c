//! kubeadm 1.31's `init` phases and its one skip rule, shared by the compiler (what the
//! bundle holds and plans) and the applier (what it runs): `skipPhases` / `--skip-phases`
//! names a phase by its full name (`addon/coredns`); skipping a phase skips every phase
//! below it (`addon` skips `addon/coredns` and `addon/kube-proxy`); a name that is no phase
//! is kubeadm's error `invalid phase name: <name>` (`computePhaseRunFlags` in
//! `cmd/kubeadm/app/cmd/phases/workflow/runner.go`). The `all` sub-phases only run their
//! siblings from the command line; skipping one skips nothing, as in kubeadm.

/// What a phase of `kubeadm init` does, and so where kbc does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    /// It writes files (certificates, kubeconfigs, static Pods): done when the bundle is
    /// compiled; the bundle holds its files.
    CompileTime,
    /// It acts on the node (checks, the kubelet, waits, output): run by kbc-apply.
    Node,
    /// It creates or changes API objects: the bundle's `api/` files, applied by kbc-apply.
    Api,
    /// `x/all`: on kubeadm's command line, runs its siblings; does nothing by itself.
    All,
}

/// A phase of `kubeadm init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// The full name (`upload-config/kubelet`); the part before a `/` is its parent.
    pub name: &'static str,
    pub kind: PhaseKind,
}

impl Phase {
    /// The parent's name (`upload-config` for `upload-config/kubelet`).
    pub fn parent(&self) -> Option<&'static str> {
        self.name.rsplit_once('/').map(|(parent, _)| parent)
    }

    /// The phases directly below this one, in order.
    pub fn children(&self) -> impl Iterator<Item = &'static Phase> + '_ {
        INIT_PHASES
            .iter()
            .filter(move |p| p.parent() == Some(self.name))
    }

    /// A phase without sub-phases: the unit that actually runs.
    pub fn is_leaf(&self) -> bool {
        self.children().next().is_none()
    }
}

const fn phase(name: &'static str, kind: PhaseKind) -> Phase {
    Phase { name, kind }
}

use PhaseKind::{All, Api, CompileTime, Node};

/// Every phase of `kubeadm init` (v1.31), by full name, in kubeadm's order
/// (`cmd/kubeadm/app/cmd/init.go` and `cmd/kubeadm/app/cmd/phases/init/`).
pub(crate) const INIT_PHASES: &[Phase] = &[
    phase("preflight", Node),
    phase("certs", CompileTime),
    phase("certs/all", All),
    phase("certs/ca", CompileTime),
    phase("certs/apiserver", CompileTime),
    phase("certs/apiserver-kubelet-client", CompileTime),
    phase("certs/front-proxy-ca", CompileTime),
    phase("certs/front-proxy-client", CompileTime),
    phase("certs/etcd-ca", CompileTime),
    phase("certs/etcd-server", CompileTime),
    phase("certs/etcd-peer", CompileTime),
    phase("certs/etcd-healthcheck-client", CompileTime),
    phase("certs/apiserver-etcd-client", CompileTime),
    phase("certs/sa", CompileTime),
    phase("kubeconfig", CompileTime),
    phase("kubeconfig/all", All),
    phase("kubeconfig/admin", CompileTime),
    phase("kubeconfig/super-admin", CompileTime),
    phase("kubeconfig/kubelet", CompileTime),
    phase("kubeconfig/controller-manager", CompileTime),
    phase("kubeconfig/scheduler", CompileTime),
    phase("etcd", CompileTime),
    phase("etcd/local", CompileTime),
    phase("control-plane", CompileTime),
    phase("control-plane/all", All),
    phase("control-plane/apiserver", CompileTime),
    phase("control-plane/controller-manager", CompileTime),
    phase("control-plane/scheduler", CompileTime),
    phase("kubelet-start", Node),
    phase("wait-control-plane", Node),
    phase("upload-config", Api),
    phase("upload-config/all", All),
    phase("upload-config/kubeadm", Api),
    phase("upload-config/kubelet", Api),
    phase("upload-certs", Api),
    phase("mark-control-plane", Api),
    phase("bootstrap-token", Api),
    phase("kubelet-finalize", Node),
    phase("kubelet-finalize/all", All),
    phase(KUBELET_FINALIZE, Node),
    phase("addon", Api),
    phase("addon/all", All),
    phase("addon/coredns", Api),
    phase("addon/kube-proxy", Api),
    phase("show-join-command", Node),
];

/// Every phase of `kubeadm join` (v1.31), by full name, in kubeadm's order with the
/// default feature gates (`cmd/kubeadm/app/cmd/join.go`, `cmd/kubeadm/app/cmd/phases/join/`),
/// the hidden ones included: `check-etcd`; `etcd-join` and `kubelet-wait-bootstrap` exist
/// only with ControlPlaneKubeletLocalMode, whose order kbc does not need (its named nodes
/// never TLS-bootstrap), so kbc accepts their names and runs `control-plane-join/etcd`.
pub(crate) const JOIN_PHASES: &[Phase] = &[
    phase("preflight", Node),
    phase("control-plane-prepare", CompileTime),
    phase("control-plane-prepare/all", All),
    phase("control-plane-prepare/download-certs", CompileTime),
    phase("control-plane-prepare/certs", CompileTime),
    phase("control-plane-prepare/kubeconfig", CompileTime),
    phase("control-plane-prepare/control-plane", CompileTime),
    phase("check-etcd", Node),
    phase("kubelet-start", Node),
    phase("etcd-join", Node),
    phase("kubelet-wait-bootstrap", Node),
    phase("control-plane-join", Node),
    phase("control-plane-join/all", All),
    phase("control-plane-join/etcd", Node),
    phase("control-plane-join/mark-control-plane", Api),
    phase("wait-control-plane", Node),
];

/// The first name of `skip` that is no phase of `kubeadm join`.
pub fn invalid_join_name(skip: &[String]) -> Option<&str> {
    skip.iter()
        .map(String::as_str)
        .find(|s| !JOIN_PHASES.iter().any(|p| p.name == s.trim()))
}

/// [`is_skipped`] for a phase of `kubeadm join`.
pub fn is_skipped_join(skip: &[String], phase: &str) -> bool {
    skip.iter().map(|s| s.trim()).any(|s| {
        JOIN_PHASES.iter().any(|p| p.name == s)
            && (phase == s
                || phase
                    .strip_prefix(s)
                    .is_some_and(|rest| rest.starts_with('/')))
    })
}

/// The 1.31 name of kubelet-finalize's sub-phase.
pub(crate) const KUBELET_FINALIZE: &str = "kubelet-finalize/enable-client-cert-rotation";

/// Deprecated names kubeadm 1.31 still accepts, with the phase they stand for: 1.31
/// renamed `experimental-cert-rotation` and keeps the old name as a deprecated alias
/// (removed in 1.32).
pub(crate) const ALIASES: &[(&str, &str)] = &[(
    "kubelet-finalize/experimental-cert-rotation",
    KUBELET_FINALIZE,
)];

/// The phase a name stands for (an alias resolved), if it is one.
fn canonical(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if let Some(p) = INIT_PHASES.iter().find(|p| p.name == name) {
        return Some(p.name);
    }
    ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| *p)
}

/// The first name of `skip` that is no phase of `kubeadm init`.
pub fn invalid_name(skip: &[String]) -> Option<&str> {
    skip.iter()
        .map(String::as_str)
        .find(|s| canonical(s).is_none())
}

/// The phase of that full name (aliases resolved).
pub fn find(name: &str) -> Option<&'static Phase> {
    let name = canonical(name)?;
    INIT_PHASES.iter().find(|p| p.name == name)
}

/// The phases a node runs after the files are installed, in kubeadm's order: every leaf
/// phase that acts on the node or the API; `include` drops those the configuration turns
/// off (upload-certs without `--upload-certs`, a disabled addon). `skipPhases` is applied
/// by the caller with [`is_skipped`].
pub fn node_phases(include: impl Fn(&Phase) -> bool) -> Vec<&'static str> {
    INIT_PHASES
        .iter()
        .filter(|p| p.is_leaf() && matches!(p.kind, PhaseKind::Node | PhaseKind::Api))
        .filter(|p| include(p))
        .map(|p| p.name)
        .collect()
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
    fn the_node_runs_the_leaf_node_and_api_phases_in_kubeadms_order() {
        assert_eq!(
            node_phases(|_| true),
            [
                "preflight",
                "kubelet-start",
                "wait-control-plane",
                "upload-config/kubeadm",
                "upload-config/kubelet",
                "upload-certs",
                "mark-control-plane",
                "bootstrap-token",
                KUBELET_FINALIZE,
                "addon/coredns",
                "addon/kube-proxy",
                "show-join-command",
            ]
        );
        let certs = find("certs").unwrap();
        assert_eq!(certs.kind, PhaseKind::CompileTime);
        assert!(!certs.is_leaf());
        assert_eq!(certs.children().count(), 12); // all, ca, ..., sa
        assert_eq!(find("addon/coredns").unwrap().parent(), Some("addon"));
        assert_eq!(
            find("kubelet-finalize/experimental-cert-rotation")
                .unwrap()
                .name,
            KUBELET_FINALIZE
        );
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
