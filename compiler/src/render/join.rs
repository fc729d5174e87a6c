//! Joining more nodes: `join/commands.txt` (the `kubeadm join` commands as `kubeadm init`
//! prints them) and `join/join-worker.sh` (a POSIX sh script that joins a worker without
//! kubeadm).
//!
//! Mirrors `cmd/kubeadm/app/cmd/util/join.go` (the join command template),
//! `cmd/kubeadm/app/cmd/phases/init/showjoincommand.go` (the success message around it),
//! `cmd/kubeadm/app/discovery/discovery.go` (the bootstrap kubeconfig a worker gets) and
//! `cmd/kubeadm/app/cmd/phases/join/kubelet.go` (the files `kubeadm join` writes on a worker).
//!
//! # The join commands (kubeadm v1.31)
//!
//! `joinCommandTemplate` is an `html/template`:
//!
//! ```text
//! kubeadm join {{.ControlPlaneHostPort}} --token {{.Token}} \
//! <TAB>{{range $h := .CAPubKeyPins}}--discovery-token-ca-cert-hash {{$h}} {{end}}{{if .ControlPlane}}\
//! <TAB>--control-plane {{if .CertificateKey}}--certificate-key {{.CertificateKey}}{{end}}{{end}}
//! ```
//!
//! so the worker command ends with a space after the last hash, and the control-plane
//! command's last line is `--control-plane --certificate-key <key>` (or `--control-plane `
//! without upload-certs). The continuation lines start with a TAB (the 1.31-era
//! `join_test.go` checks `" \\\n\t--discovery-token-ca-cert-hash"`; older releases used
//! four spaces). With `--skip-token-print` kubeadm passes [`VALUE_WITHHELD`] as
//! `template.HTML`, so it is printed unescaped; every other value is HTML-escaped.
//! The 1.31 upload-certs sentence reads "any number of the control-plane node running"; 1.32
//! changed it to "control-plane nodes" (kubernetes/kubernetes#128118).
//!
//! # What the worker script does, and what it leaves out
//!
//! The script does what `kubeadm join` does on a worker after discovery, with the discovery
//! result (server URL, CA) known at compile time:
//!
//! - writes `/etc/kubernetes/pki/ca.crt` (0644; kubeadm writes it only if missing, the
//!   script refuses a *different* existing one, since the node would then trust another
//!   cluster), `/etc/kubernetes/bootstrap-kubelet.conf` (0600, user `tls-bootstrap-token-user`,
//!   cluster `kubernetes`), `/var/lib/kubelet/config.yaml` and
//!   `/var/lib/kubelet/kubeadm-flags.env` (0644; `/var/lib/kubelet` created 0700);
//! - restarts the kubelet (`systemctl daemon-reload && systemctl restart kubelet`, as
//!   kubeadm's `TryStartKubelet`), waits for the TLS bootstrap to produce
//!   `/etc/kubernetes/kubelet.conf` and then deletes `bootstrap-kubelet.conf`, as kubeadm does.
//!
//! Left out: the discovery itself (cluster-info and its JWS: the CA is embedded instead), the
//! check for a Ready Node of the same name (needs an API client), stopping the kubelet before
//! the writes (each write is an atomic rename, so a running kubelet never reads half a file)
//! and the `kubeadm.alpha.kubernetes.io/cri-socket` Node annotation (used only by later
//! kubeadm commands on that node).
//!
//! Each file is written to a temporary file in the same directory and renamed into place; a
//! file whose content and mode are already right is left alone, so a second run rewrites
//! nothing. The script holds the bootstrap token: the bundle marks it secret.

use base64::Engine as _;
use serde_json::json;

/// Where the join command text goes in the bundle.
pub(crate) const COMMANDS_PATH: &str = "join/commands.txt";
/// Where the worker join script goes in the bundle (mode 0700: it holds a token).
pub(crate) const WORKER_SCRIPT_PATH: &str = "join/join-worker.sh";
/// `kubeadmapiv1.DefaultClusterName`: the cluster name of the bootstrap kubeconfig.
pub(crate) const BOOTSTRAP_CLUSTER_NAME: &str = "kubernetes";
/// `discovery/token.TokenUser`: the user of the bootstrap kubeconfig.
pub(crate) const BOOTSTRAP_USER: &str = "tls-bootstrap-token-user";

/// What kubeadm prints instead of the token or the certificate key with `--skip-token-print` /
/// `--skip-certificate-key-print` (passed as `template.HTML`, hence not escaped).
pub(crate) const VALUE_WITHHELD: &str = "<value withheld>";

/// A template value: [`VALUE_WITHHELD`] verbatim, anything else through [`html_escape`].
fn value(s: &str) -> String {
    if s == VALUE_WITHHELD {
        s.to_string()
    } else {
        html_escape(s)
    }
}

/// Go `html/template`'s escaping of a value in text context (`htmlEscaper`). Tokens, hashes,
/// keys and `host:port` never contain these characters; kubeadm would escape them if they did.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '+' => out.push_str("&#43;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// kubeadm's `getJoinCommand`. `server` may be a URL or `host:port`: like kubeadm, every
/// `https://` is removed.
fn join_command(
    server: &str,
    token: &str,
    ca_hashes: &[&str],
    control_plane: bool,
    certificate_key: Option<&str>,
) -> String {
    let mut out = format!(
        "kubeadm join {} --token {} \\\n\t",
        html_escape(&server.replace("https://", "")),
        value(token)
    );
    for h in ca_hashes {
        out.push_str("--discovery-token-ca-cert-hash ");
        out.push_str(&html_escape(h));
        out.push(' ');
    }
    if control_plane {
        out.push_str("\\\n\t--control-plane ");
        if let Some(key) = certificate_key.filter(|k| !k.is_empty()) {
            out.push_str("--certificate-key ");
            out.push_str(&value(key));
        }
    }
    out
}

/// `kubeadm join` for a worker, exactly as `GetJoinWorkerCommand` renders it (no final
/// newline; the first line ends in ` \`, the second starts with a TAB and ends in a space).
pub fn worker_join_command(server: &str, token: &str, ca_hashes: &[&str]) -> String {
    join_command(server, token, ca_hashes, false, None)
}

/// `kubeadm join --control-plane` as `GetJoinControlPlaneCommand` renders it; with a
/// certificate key (upload-certs) the last line is `--control-plane --certificate-key <key>`.
pub fn control_plane_join_command(
    server: &str,
    token: &str,
    ca_hashes: &[&str],
    certificate_key: Option<&str>,
) -> String {
    join_command(server, token, ca_hashes, true, certificate_key)
}

/// What the join part of kubeadm's success message depends on.
#[derive(Clone, Copy)]
pub struct JoinCommandsInput<'a> {
    /// The admin kubeconfig's server, `host:port` (a `https://` prefix is removed).
    pub endpoint: &'a str,
    /// The bootstrap token `<id>.<secret>` (or a masked form such as `<value withheld>`).
    pub token: &'a str,
    /// One `sha256:<hex>` pin per CA certificate, in the CA bundle's order.
    pub ca_hashes: &'a [&'a str],
    /// The certificate key when upload-certs runs.
    pub certificate_key: Option<&'a str>,
    /// Whether `controlPlaneEndpoint` is set: kubeadm shows the control-plane command only then
    /// (a cluster without one cannot take more control-plane nodes).
    pub control_plane_endpoint: bool,
}

impl std::fmt::Debug for JoinCommandsInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinCommandsInput")
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .field("ca_hashes", &self.ca_hashes)
            .field(
                "certificate_key",
                &self.certificate_key.map(|_| "<redacted>"),
            )
            .field("control_plane_endpoint", &self.control_plane_endpoint)
            .finish()
    }
}

/// The join part of `kubeadm init`'s success message, byte for byte (`initDoneTempl` from the
/// control-plane block to the end): the control-plane block when `controlPlaneEndpoint` is
/// set (the upload-certs wording when a certificate key is given), then the worker block.
pub fn render_join_commands(input: &JoinCommandsInput<'_>) -> String {
    let mut out = String::new();
    if input.control_plane_endpoint {
        let cp = control_plane_join_command(
            input.endpoint,
            input.token,
            input.ca_hashes,
            input.certificate_key,
        );
        if input.certificate_key.is_some_and(|k| !k.is_empty()) {
            out.push_str(
                "You can now join any number of the control-plane node running the following command on each as root:\n\n",
            );
            out.push_str(&format!("  {cp}\n\n"));
            out.push_str("Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n");
            out.push_str("As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n");
            out.push_str(
                "\"kubeadm init phase upload-certs --upload-certs\" to reload certs afterward.\n\n",
            );
        } else {
            out.push_str("You can now join any number of control-plane nodes by copying certificate authorities\n");
            out.push_str(
                "and service account keys on each node and then running the following as root:\n\n",
            );
            out.push_str(&format!("  {cp}\n\n"));
        }
    }
    out.push_str(
        "Then you can join any number of worker nodes by running the following on each as root:\n\n",
    );
    out.push_str(&worker_join_command(
        input.endpoint,
        input.token,
        input.ca_hashes,
    ));
    out.push('\n');
    out
}

/// `join/commands.txt`: [`render_join_commands`] for a cluster with a `controlPlaneEndpoint`
/// and one CA pin, i.e. both commands (control plane first, as kubeadm prints them). Pass
/// [`JoinCommandsInput::control_plane_endpoint`] `false` to [`render_join_commands`] for
/// kubeadm's worker-only text.
pub fn join_commands(
    endpoint: &str,
    token: &str,
    ca_hash: &str,
    certificate_key: Option<&str>,
) -> String {
    render_join_commands(&JoinCommandsInput {
        endpoint,
        token,
        ca_hashes: &[ca_hash],
        certificate_key,
        control_plane_endpoint: true,
    })
}

/// What the worker join script embeds.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinInput {
    /// The API server URL the kubelet bootstraps against: cluster-info's (= `admin.conf`'s)
    /// server, `https://<controlPlaneEndpoint>` or `https://<advertiseAddress>:<bindPort>`.
    pub server: String,
    /// The cluster CA as PEM, as cluster-info carries it (the first certificate of `ca.crt`).
    /// Written to `/etc/kubernetes/pki/ca.crt` and embedded in `bootstrap-kubelet.conf`.
    pub ca_cert_pem: String,
    /// The TLS bootstrap token `<id>.<secret>` (kubeadm: `discovery.tlsBootstrapToken`, by
    /// default the discovery token).
    pub token: String,
    /// `/var/lib/kubelet/config.yaml`: the `kubelet` key of the `kube-system/kubelet-config`
    /// ConfigMap, which `kubeadm join` downloads and writes unchanged (without patches).
    pub kubelet_config_yaml: String,
    /// `/var/lib/kubelet/kubeadm-flags.env` as `kubeadm join` builds it for a worker (its
    /// `register-with-taints` included; no `hostname-override`, since one script serves every
    /// worker and the kubelet defaults to the host name).
    pub kubeadm_flags_env: String,
}

impl std::fmt::Debug for JoinInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinInput")
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// `/etc/kubernetes/bootstrap-kubelet.conf` as `kubeadm join` writes it
/// (`kubeconfigutil.CreateWithToken(server, "kubernetes", "tls-bootstrap-token-user", ca, token)`,
/// serialised by client-go: keys sorted, `preferences: {}`, base64 on one line).
pub fn bootstrap_kubelet_conf(server: &str, ca_cert_pem: &str, token: &str) -> String {
    let context = format!("{BOOTSTRAP_USER}@{BOOTSTRAP_CLUSTER_NAME}");
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_cert_pem.as_bytes());
    crate::yaml::ser::value_to_yaml(&json!({
        "apiVersion": "v1",
        "clusters": [{
            "cluster": {"certificate-authority-data": ca, "server": server},
            "name": BOOTSTRAP_CLUSTER_NAME,
        }],
        "contexts": [{
            "context": {"cluster": BOOTSTRAP_CLUSTER_NAME, "user": BOOTSTRAP_USER},
            "name": context,
        }],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": BOOTSTRAP_USER, "user": {"token": token}}],
    }))
}

/// A shell function named `name` that prints `content` exactly. A quoted here-document when
/// the content ends in a newline and no line equals the delimiter; otherwise one single-quoted
/// `printf` argument (exact for any text).
fn content_function(name: &str, content: &str) -> String {
    let mut delim = String::from("KBC_EOF");
    while content.lines().any(|l| l == delim) {
        delim.push('_');
    }
    if content.ends_with('\n') {
        format!("{name}() {{\n\tcat <<'{delim}'\n{content}{delim}\n}}\n")
    } else {
        format!(
            "{name}() {{\n\t# shellcheck disable=SC2016 # literal text, nothing to expand\n\tprintf '%s' '{}'\n}}\n",
            content.replace('\'', r"'\''")
        )
    }
}

const SCRIPT_HEAD: &str = r#"#!/bin/sh
# Generated by kbc: joins this machine to the cluster as a worker node without kubeadm.
# It writes what `kubeadm join` (v1.31) writes on a worker, restarts the kubelet and waits
# for its TLS bootstrap (the CSR is approved through kubeadm:node-autoapprove-bootstrap).
# This file holds a bootstrap token: keep it secret.
#
# Environment:
#   KBC_ROOT=DIR                install under DIR instead of / (tests, image builds); no root
#                               check, and KBC_SKIP_SYSTEMCTL defaults to 1
#   KBC_SKIP_SYSTEMCTL=1|0      1: write the files, but neither restart the kubelet nor wait
#   KBC_TLS_BOOTSTRAP_TIMEOUT=N seconds to wait for /etc/kubernetes/kubelet.conf (default 300,
#                               kubeadm's timeouts.tlsBootstrap)
# Exit status: 0 joined, or already joined; 1 refused, nothing changed; 2 failed while acting.
set -eu
umask 077

ROOT="${KBC_ROOT:-}"
"#;

const SCRIPT_BODY: &str = r#"
refuse() {
	echo "join-worker.sh: $*" >&2
	exit 1
}

fail() {
	echo "join-worker.sh: $*" >&2
	exit 2
}

# ensure_dir MODE DIR: creates DIR (and missing parents, 0755) with MODE; an existing
# directory keeps its mode.
ensure_dir() {
	if [ ! -d "$2" ]; then
		(umask 022 && mkdir -p "$2") || fail "cannot create directory $2"
		chmod "$1" "$2" || fail "cannot set mode $1 on $2"
	fi
}

# install_file MODE DEST FUNCTION: writes what FUNCTION prints to DEST atomically (temporary
# file in the same directory, then rename) unless DEST already has that content and mode.
install_file() {
	if [ -f "$2" ] && "$3" | cmp -s - "$2" && [ -n "$(find "$2" -prune -perm "$1")" ]; then
		echo "[kbc-join] unchanged ${2#"$ROOT"}"
		return 0
	fi
	tmp="$2.kbc-tmp.$$"
	"$3" >"$tmp" || fail "cannot write $tmp"
	chmod "$1" "$tmp" || fail "cannot set mode $1 on $tmp"
	mv -f "$tmp" "$2" || fail "cannot rename $tmp to $2"
	changed=$((changed + 1))
	echo "[kbc-join] wrote ${2#"$ROOT"} (mode $1)"
}

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
	refuse "must run as root (kubeadm join does too)"
fi

KUBELET_CONF="$ROOT/etc/kubernetes/kubelet.conf"
BOOTSTRAP_CONF="$ROOT/etc/kubernetes/bootstrap-kubelet.conf"
CA_CRT="$ROOT/etc/kubernetes/pki/ca.crt"
KUBELET_CONFIG="$ROOT/var/lib/kubelet/config.yaml"
KUBELET_FLAGS="$ROOT/var/lib/kubelet/kubeadm-flags.env"

if [ -e "$KUBELET_CONF" ]; then
	echo "[kbc-join] this node has already joined a cluster: /etc/kubernetes/kubelet.conf exists; nothing to do"
	exit 0
fi

if [ -e "$CA_CRT" ] && ! kbc_ca_crt | cmp -s - "$CA_CRT"; then
	refuse "/etc/kubernetes/pki/ca.crt exists and is not this cluster's CA; remove it (or run 'kubeadm reset') if this node should join this cluster"
fi

changed=0
ensure_dir 0755 "$ROOT/etc/kubernetes"
ensure_dir 0755 "$ROOT/etc/kubernetes/pki"
ensure_dir 0700 "$ROOT/var/lib/kubelet"
install_file 0644 "$CA_CRT" kbc_ca_crt
install_file 0600 "$BOOTSTRAP_CONF" kbc_bootstrap_kubelet_conf
install_file 0644 "$KUBELET_CONFIG" kbc_kubelet_config
install_file 0644 "$KUBELET_FLAGS" kbc_kubeadm_flags
echo "[kbc-join] $changed file(s) written"

if [ -n "$ROOT" ]; then
	skip_systemctl="${KBC_SKIP_SYSTEMCTL:-1}"
else
	skip_systemctl="${KBC_SKIP_SYSTEMCTL:-0}"
fi
if [ "$skip_systemctl" = 1 ]; then
	echo "[kbc-join] not restarting the kubelet (KBC_SKIP_SYSTEMCTL=1, the default with KBC_ROOT)"
	exit 0
fi

echo "[kbc-join] restarting the kubelet"
systemctl daemon-reload || fail "'systemctl daemon-reload' failed"
systemctl restart kubelet || fail "'systemctl restart kubelet' failed; try 'systemctl status kubelet' and 'journalctl -xeu kubelet'"

echo "[kbc-join] waiting for the kubelet to perform the TLS bootstrap"
timeout="${KBC_TLS_BOOTSTRAP_TIMEOUT:-300}"
waited=0
until [ -s "$KUBELET_CONF" ] && [ -s "$ROOT/var/lib/kubelet/pki/kubelet-client-current.pem" ]; do
	if [ "$waited" -ge "$timeout" ]; then
		fail "no /etc/kubernetes/kubelet.conf after ${timeout}s: the kubelet did not complete its TLS bootstrap; try 'systemctl status kubelet' and 'journalctl -xeu kubelet'"
	fi
	sleep 1
	waited=$((waited + 1))
done
rm -f "$BOOTSTRAP_CONF"
echo "[kbc-join] this node has joined the cluster; run 'kubectl get nodes' on the control plane to see it"
"#;

/// `join/join-worker.sh`: the files of a worker's `kubeadm join`, embedded, and the steps
/// around them (see the module notes). Environment knobs: `KBC_ROOT=DIR` (install under DIR;
/// no root check; `KBC_SKIP_SYSTEMCTL` then defaults to 1), `KBC_SKIP_SYSTEMCTL=1|0`,
/// `KBC_TLS_BOOTSTRAP_TIMEOUT=SECONDS`.
pub fn join_worker_script(input: &JoinInput) -> String {
    let mut out = String::from(SCRIPT_HEAD);
    out.push_str(&format!(
        "\n# The cluster: {}\n",
        input.server.replace('\n', " ")
    ));
    out.push_str(&content_function("kbc_ca_crt", &input.ca_cert_pem));
    out.push('\n');
    out.push_str(&content_function(
        "kbc_bootstrap_kubelet_conf",
        &bootstrap_kubelet_conf(&input.server, &input.ca_cert_pem, &input.token),
    ));
    out.push('\n');
    out.push_str(&content_function(
        "kbc_kubelet_config",
        &input.kubelet_config_yaml,
    ));
    out.push('\n');
    out.push_str(&content_function(
        "kbc_kubeadm_flags",
        &input.kubeadm_flags_env,
    ));
    out.push_str(SCRIPT_BODY);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_html_template_does() {
        assert_eq!(html_escape("a<b>&'\"+"), "a&lt;b&gt;&amp;&#39;&#34;&#43;");
        assert_eq!(html_escape("[fd00::1]:6443"), "[fd00::1]:6443");
        assert!(worker_join_command("h:1", "a<b", &[]).contains("--token a&lt;b "));
        assert!(
            worker_join_command("h:1", VALUE_WITHHELD, &[]).contains("--token <value withheld> ")
        );
        assert!(
            control_plane_join_command("h:1", "t", &[], Some(VALUE_WITHHELD))
                .ends_with("--certificate-key <value withheld>")
        );
    }

    #[test]
    fn content_functions_print_exactly() {
        assert_eq!(
            content_function("f", "a\nKBC_EOF\n"),
            "f() {\n\tcat <<'KBC_EOF_'\na\nKBC_EOF\nKBC_EOF_\n}\n"
        );
        assert_eq!(
            content_function("f", "it's"),
            "f() {\n\t# shellcheck disable=SC2016 # literal text, nothing to expand\n\tprintf '%s' 'it'\\''s'\n}\n"
        );
    }
}
