//! The kubelet's two files from `kubeadm init`'s `kubelet-start` phase:
//! `/var/lib/kubelet/config.yaml` and `/var/lib/kubelet/kubeadm-flags.env`.
//!
//! Mirrors `WriteConfigToDisk` / `applyKubeletConfigPatches` in
//! `cmd/kubeadm/app/phases/kubelet/config.go` and `WriteKubeletDynamicEnvFile` /
//! `buildKubeletArgsCommon` / `GetNodeNameAndHostname` in
//! `cmd/kubeadm/app/phases/kubelet/flags.go` of the v1.31 line.
//!
//! **config.yaml** is [`Cluster::kubelet`] (the user's KubeletConfiguration after kubeadm's
//! overlay, `config::component::default_kubelet`) marshalled with its group version, then the
//! `kubeletconfiguration` patches applied to its JSON form and written back as YAML with sorted
//! keys. kubeadm writes the patched bytes as they are (it does not decode them into the Go type
//! again), so a patch can add any field or a `null`.
//!
//! **kubeadm-flags.env** is one line, `KUBELET_KUBEADM_ARGS="..."` with Go's `%q` quoting, of
//! kubeadm's base flags merged with `nodeRegistration.kubeletExtraArgs` by
//! [`super::args::to_command`]. kubeadm 1.31's base flags are `--container-runtime-endpoint`
//! (always), `--pod-infra-container-image` (the pause image, always), `--hostname-override`
//! (below) and, on join only, `--register-with-taints`. kubeadm 1.31 writes no `--node-ip`,
//! `--cgroup-driver`, `--network-plugin` or cloud-provider flag; those come only from
//! `kubeletExtraArgs`.
//!
//! **Host name, a deliberate choice.** kubeadm writes `--hostname-override=<node name>` only
//! when the node name differs from the host's name (`os.Hostname()`, trimmed and lower-cased),
//! the node name being the last `hostname-override` of `kubeletExtraArgs`, else
//! `nodeRegistration.name`. kbc does not know the name of the machine the bundle will be
//! installed on, so by default ([`KubeletHostInputs::default`]) it **always** writes
//! `--hostname-override=<node name>`: the kubelet then registers under the name that its
//! client certificate (`system:node:<node name>`) and the control-plane Pods use, whatever the
//! machine is called. On a machine whose host name is the node name this adds one flag that
//! kubeadm leaves out and that changes nothing for the kubelet. Give the host name in
//! [`KubeletHostInputs::host_name`] to get kubeadm's exact bytes.

use super::args::{arg, last_value, to_command};
use super::patches::{PatchError, PatchSet};
use crate::config::cluster::{image_inputs, Cluster};
use crate::config::component::{KUBELET_API_VERSION, KUBELET_KIND};
use crate::config::release;
use crate::yaml::ser::value_to_yaml;
use serde_json::Value;

/// `/var/lib/kubelet/config.yaml`, mode 0644.
pub(crate) const CONFIG_FILE: &str = "/var/lib/kubelet/config.yaml";
/// `/var/lib/kubelet/kubeadm-flags.env`, mode 0644.
pub(crate) const FLAGS_ENV_FILE: &str = "/var/lib/kubelet/kubeadm-flags.env";
/// The variable the kubelet's systemd drop-in expands (`KubeletEnvFileVariableName`).
pub(crate) const FLAGS_ENV_VARIABLE: &str = "KUBELET_KUBEADM_ARGS";

/// What kubeadm reads from the host for the kubelet's flags, given explicitly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeletHostInputs {
    /// The target machine's host name. `None` (the default): unknown, and kbc writes
    /// `--hostname-override` always (see the module documentation). `Some(name)`: kubeadm's
    /// rule, the flag only when the node name differs from `name` trimmed and lower-cased.
    pub host_name: Option<String>,
}

/// `/var/lib/kubelet/config.yaml`, with the `kubeletconfiguration` patches of `patches`.
pub fn kubelet_config_yaml(cluster: &Cluster, patches: &PatchSet) -> Result<String, PatchError> {
    // The node's own mutation (resolvConf), which the kubelet-config ConfigMap does not get.
    let mut kubelet = cluster.kubelet.clone();
    crate::config::component::mutate_kubelet(&mut kubelet, cluster.systemd_resolved);
    let mut doc = serde_json::to_value(&kubelet).expect(
        "the kubelet configuration always serializes to JSON (string keys, finite numbers)",
    );
    if let Value::Object(map) = &mut doc {
        // configBase.Marshal always encodes the group version and kind.
        map.insert("apiVersion".into(), KUBELET_API_VERSION.into());
        map.insert("kind".into(), KUBELET_KIND.into());
    }
    let doc = patches.apply_kubelet_configuration(doc, (KUBELET_API_VERSION, KUBELET_KIND))?;
    Ok(value_to_yaml(&doc))
}

/// `/var/lib/kubelet/kubeadm-flags.env` for the node; `host` holds what kubeadm would read
/// from the machine.
pub fn kubeadm_flags_env(cluster: &Cluster, host: &KubeletHostInputs) -> String {
    format!(
        "{FLAGS_ENV_VARIABLE}={}\n",
        go_quote(&kubelet_flags(cluster, host).join(" "))
    )
}

/// The kubelet flags of `kubeadm-flags.env`, each one `--name=value` element, in kubeadm's
/// order (sorted by name, then value).
pub(crate) fn kubelet_flags(cluster: &Cluster, host: &KubeletHostInputs) -> Vec<String> {
    let extra = &cluster.node_registration.kubelet_extra_args;
    let mut base = vec![
        arg("container-runtime-endpoint", cluster.cri_socket()),
        arg(
            "pod-infra-container-image",
            release::pause_image(&image_inputs(&cluster.config, &cluster.version)),
        ),
    ];
    // GetNodeNameAndHostname: host name < nodeRegistration.name < kubeletExtraArgs.
    let node_name = last_value(extra, "hostname-override").unwrap_or(cluster.node_name());
    let differs = match &host.host_name {
        None => true,
        Some(h) => node_name != h.trim().to_lowercase(),
    };
    // A generic worker has no name: the kubelet registers under the host's.
    if differs && !node_name.is_empty() {
        base.push(arg("hostname-override", node_name));
    }
    // Only a worker registers its taints by flag; control-plane nodes get them from
    // mark-control-plane (`cmd/kubeadm/app/phases/kubelet/flags.go`).
    let taints = cluster.taints();
    if cluster.role == crate::pki::NodeRole::Worker && !taints.is_empty() {
        let list: Vec<String> = taints.iter().map(taint_string).collect();
        base.push(arg("register-with-taints", list.join(",")));
    }
    to_command(&base, extra)
}

/// core/v1 `Taint.ToString()`: `key=value:Effect`, or `key:Effect` without a value.
fn taint_string(t: &crate::config::wire::v1beta4::Taint) -> String {
    if t.value.is_empty() {
        format!("{}:{}", t.key, t.effect)
    } else {
        format!("{}={}:{}", t.key, t.value, t.effect)
    }
}

/// Go's `strconv.Quote`: `"` and `\` escaped, `\a\b\f\n\r\t\v`, other control characters as
/// `\xNN` (ASCII) or `\u00NN`, and the non-printable code points kbc knows of (separators,
/// format characters, private use, non-characters) as `\uNNNN` / `\UNNNNNNNN`. Go also
/// escapes unassigned code points; kbc, without Unicode tables, writes them as they are.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint` for non-ASCII characters, without the unassigned code points.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace() // Zs/Zl/Zp and U+0085; Go prints only U+0020 of them
        || matches!(u,
            0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
            | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
            | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
            | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
        || (u & 0xFFFE) == 0xFFFE
        || (0xFDD0..=0xFDEF).contains(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a b"), r#""a b""#);
        assert_eq!(go_quote(r#"x"y\z"#), r#""x\"y\\z""#);
        assert_eq!(go_quote("\t\n\x01\x7f"), r#""\t\n\x01\x7f""#);
        assert_eq!(
            go_quote("é\u{a0}\u{200b}\u{85}"),
            r#""é\u00a0\u200b\u0085""#
        );
    }
}
