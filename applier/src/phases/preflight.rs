//! `preflight`: kubeadm's init checks under kubeadm's names, so that
//! `--ignore-preflight-errors=Name,...|all` (merged with the plan's list, compared
//! lower-cased) works. Every check reads the host through files under `--root`, so tests
//! run them on a fake tree:
//!
//! | check | reads | kind |
//! |---|---|---|
//! | `IsPrivilegedUser` | `/proc/self/status` (effective uid 0) | error |
//! | `Port-<n>` | `/proc/net/tcp`, `/proc/net/tcp6` (no socket listening on n) | error |
//! | `DirAvailable--etc-kubernetes-manifests`, `DirAvailable--var-lib-etcd` | the directory absent or empty | error |
//! | `FileAvailable--etc-kubernetes-manifests-<component>.yaml` | absent | error |
//! | `FileAvailable--etc-kubernetes-kubelet.conf`, `FileAvailable--etc-kubernetes-bootstrap-kubelet.conf`, a worker's `FileAvailable-<caCertPath>` (join only) | absent | error |
//! | `Swap` | `/proc/swaps` | warning |
//! | `FileContent--proc-sys-net-ipv4-ip_forward` | `/proc/sys/net/ipv4/ip_forward` is `1` | error |
//! | `KubeletVersion` | `<root>/usr/bin/kubelet --version` (also `/usr/local/bin`, `/bin`) | error |
//! | `CRI` | connect to the CRI socket | error |
//! | `Hostname` | `/proc/sys/kernel/hostname` vs the node name | warning |
//! | `NumCPU` | `/proc/cpuinfo`, at least 2 | error |
//! | `Mem` | `/proc/meminfo`, at least 1700 MB (not on workers) | error |
//! | `EtcdMembership` (kbc's) | a joining control-plane node: etcd's members are exactly the nodes before it | error |
//!
//! Re-run rule: files that are identical to the bundle's do not make a directory or file
//! unavailable, and when every bundle file is already in place the ports and the etcd data
//! directory are taken to be held by the bundle's own control plane, so a second run
//! passes.

use std::collections::BTreeSet;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use super::{host_state, HostState, Outcome};
use super::{PhaseError, Session};

/// Minimum memory and CPUs of a control-plane node (kubeadm's constants).
pub const MIN_MEM_MB: u64 = 1700;
pub const MIN_CPUS: usize = 2;

/// One result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub name: String,
    pub message: String,
    /// A warning never stops the run.
    pub warning: bool,
}

/// Runs every check and prints warnings; refuses (exit 1) with every non-ignored error.
pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let ignored: BTreeSet<String> = s
        .opts
        .ignore_preflight_errors
        .iter()
        .chain(&s.plan.preflight.ignore_errors)
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let findings = checks(s);
    let all = ignored.contains("all");
    let mut errors = Vec::new();
    for f in findings {
        let ignore = all || ignored.contains(&f.name.to_ascii_lowercase());
        if f.warning || ignore {
            s.say(format!("\t[WARNING {}]: {}", f.name, f.message));
        } else {
            errors.push(f);
        }
    }
    if errors.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    let mut msg = String::from("[preflight] Some fatal errors occurred:");
    for e in &errors {
        msg.push_str(&format!("\n\t[ERROR {}]: {}", e.name, e.message));
    }
    let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    msg.push_str(&format!(
        "\n  = hint: fix them, or pass --ignore-preflight-errors={} to make them warnings",
        names.join(",")
    ));
    Err(PhaseError::Precondition(msg))
}

/// kubeadm's name for a path check: `/etc/kubernetes/manifests` →
/// `-etc-kubernetes-manifests`.
pub fn dashed(path: &str) -> String {
    path.replace('/', "-")
}

fn read(root: &Path, abs: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(abs.trim_start_matches('/')))
        .map_err(|e| format!("cannot read {abs}: {e}"))
}

/// All checks, in kubeadm's order.
pub fn checks(s: &Session<'_>) -> Vec<Finding> {
    let root = &s.ctx.root;
    let pf = &s.plan.preflight;
    let mut out = Vec::new();
    let mut push = |name: String, result: Result<(), String>, warning: bool| {
        if let Err(message) = result {
            out.push(Finding {
                name,
                message,
                warning,
            });
        }
    };
    let rerun = bundle_in_place(s);

    push("IsPrivilegedUser".into(), privileged(root), false);
    for port in &pf.ports {
        let r = if rerun {
            Ok(())
        } else {
            port_free(root, *port)
        };
        push(format!("Port-{port}"), r, false);
    }
    for (name, result) in manifests(s).into_iter().chain(join_files(s)) {
        push(name, result, false);
    }
    if let Some(etcd) = &pf.etcd_data_dir {
        push(
            format!("DirAvailable-{}", dashed(etcd)),
            dir_available(s, etcd, rerun),
            false,
        );
    }
    push("Swap".into(), swap(root), true);
    push(
        "FileContent--proc-sys-net-ipv4-ip_forward".into(),
        read(root, "/proc/sys/net/ipv4/ip_forward").and_then(|t| {
            if t.trim() == "1" {
                Ok(())
            } else {
                Err("/proc/sys/net/ipv4/ip_forward contents are not set to 1".into())
            }
        }),
        false,
    );
    push(
        "KubeletVersion".into(),
        kubelet_version(root, &pf.kubernetes_version),
        false,
    );
    push("CRI".into(), cri(root, &pf.cri_socket), false);
    let worker = s.plan.join.as_ref().is_some_and(|j| j.role == "worker");
    if !pf.node_name.is_empty() {
        push("Hostname".into(), hostname(root, &pf.node_name), true);
    }
    if !worker {
        push("NumCPU".into(), num_cpu(root), false);
        push("Mem".into(), mem(root), false);
    }
    // kbc's own check for a joining control-plane node: the etcd members are exactly the
    // nodes before it, asked before anything on the host changes.
    if let Some(result) = super::etcd_join::preflight_check(s) {
        push("EtcdMembership".into(), result, false);
    }
    out
}

/// The manifests directory must be empty and each static Pod file absent (or, on a re-run,
/// the bundle's own).
fn manifests(s: &Session<'_>) -> Vec<(String, Result<(), String>)> {
    let root = &s.ctx.root;
    let pf = &s.plan.preflight;
    let dir = if pf.manifests_dir.is_empty() {
        kbc_bundle::apply::MANIFESTS_DIR.to_string()
    } else {
        pf.manifests_dir.clone()
    };
    let mut out = vec![(
        format!("DirAvailable-{}", dashed(&dir)),
        dir_available(s, &dir, false),
    )];
    let prefix = format!("{}/", dir.trim_start_matches('/'));
    for (rel, file) in s.ctx.rootfs_files() {
        if rel.starts_with(&prefix) && !rel[prefix.len()..].contains('/') {
            let abs = format!("/{rel}");
            let r = match host_state(root, &root.join(rel), file) {
                Ok(HostState::Absent) | Ok(HostState::Same) => Ok(()),
                Ok(_) => Err(format!("{abs} already exists")),
                Err(e) => Err(format!("cannot read {abs}: {e}")),
            };
            out.push((format!("FileAvailable-{}", dashed(&abs)), r));
        }
    }
    out
}

/// kubeadm join's `FileAvailable` checks (`RunJoinNodeChecks`, `cmd/kubeadm/app/preflight/checks.go`): kubelet.conf and
/// bootstrap-kubelet.conf, and on a worker `caCertPath`, must be absent. Re-run rule: a file
/// identical to the bundle's passes, and so does the kubelet.conf a generic worker's kubelet
/// wrote (the node has joined).
fn join_files(s: &Session<'_>) -> Vec<(String, Result<(), String>)> {
    let Some(join) = &s.plan.join else {
        return Vec::new();
    };
    let mut paths = vec![
        s.plan.kubelet_kubeconfig.clone(),
        "/etc/kubernetes/bootstrap-kubelet.conf".to_string(),
    ];
    if join.role == "worker" {
        paths.push(join.ca_cert_path.clone());
    }
    let bootstrapped = !join.bootstrap_kubeconfig.is_empty();
    paths
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|abs| {
            let rel = abs.trim_start_matches('/');
            let path = s.ctx.root.join(rel);
            let file = s
                .ctx
                .rootfs_files()
                .find(|(r, _)| *r == rel)
                .map(|(_, f)| f);
            let result = match (file, std::fs::symlink_metadata(&path)) {
                (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                (_, Err(e)) => Err(format!("cannot read {abs}: {e}")),
                (Some(f), Ok(_)) => match host_state(&s.ctx.root, &path, f) {
                    Ok(HostState::Same) => Ok(()),
                    _ => Err(format!("{abs} already exists")),
                },
                (None, Ok(_)) if bootstrapped && abs == s.plan.kubelet_kubeconfig => Ok(()),
                (None, Ok(_)) => Err(format!("{abs} already exists")),
            };
            (format!("FileAvailable-{}", dashed(&abs)), result)
        })
        .collect()
}

/// Every rootfs file of the bundle is on the host as the bundle has it.
fn bundle_in_place(s: &Session<'_>) -> bool {
    let mut any = false;
    let later = s.ctx.installed_later();
    for (rel, file) in s.ctx.rootfs_files() {
        if later.iter().any(|l| l == rel) {
            continue;
        }
        any = true;
        let path = s.ctx.root.join(rel);
        match host_state(&s.ctx.root, &path, file) {
            Ok(HostState::Same) => {}
            Ok(HostState::Differs(_)) if format!("/{rel}") == s.plan.kubelet_kubeconfig => {
                if !super::kubelet_finalize::finalized_on_host(&path, &file.data) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    any
}

fn privileged(root: &Path) -> Result<(), String> {
    let status = read(root, "/proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .ok_or("/proc/self/status has no Uid line")?;
    if euid == "0" {
        Ok(())
    } else {
        Err("user is not running as root".into())
    }
}

/// No socket in state LISTEN (0A) on `port` in `/proc/net/tcp` or `tcp6`.
fn port_free(root: &Path, port: u16) -> Result<(), String> {
    let mut read_any = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = read(root, table) else {
            continue;
        };
        read_any = true;
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (cols.get(1), cols.get(3)) else {
                continue;
            };
            let p = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if p == Some(port) && *state == "0A" {
                return Err(format!("Port {port} is in use"));
            }
        }
    }
    if read_any {
        Ok(())
    } else {
        Err("cannot read /proc/net/tcp".into())
    }
}

/// The directory is absent or holds nothing but files identical to the bundle's, and
/// temporary files that a killed kbc-apply left (install removes those before it writes).
/// Read-only: preflight changes nothing on the host.
fn dir_available(s: &Session<'_>, abs: &str, held_by_bundle: bool) -> Result<(), String> {
    if held_by_bundle {
        return Ok(());
    }
    let rel = abs.trim_start_matches('/');
    let dir = s.ctx.root.join(rel);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {abs}: {e}")),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = format!("{rel}/{name}");
        if kbc_bundle::atomic::is_temp_name(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let ours = s
            .ctx
            .rootfs_files()
            .find(|(r, _)| *r == child)
            .is_some_and(|(_, f)| {
                matches!(
                    host_state(&s.ctx.root, &entry.path(), f),
                    Ok(HostState::Same)
                )
            });
        if !ours {
            return Err(format!("{abs} is not empty"));
        }
    }
    Ok(())
}

fn swap(root: &Path) -> Result<(), String> {
    let text = read(root, "/proc/swaps")?;
    if text.lines().skip(1).any(|l| !l.trim().is_empty()) {
        Err("swap is supported for cgroup v2 only; the NodeSwap feature gate of the kubelet is beta but disabled by default".into())
    } else {
        Ok(())
    }
}

/// `v1.31.2` → (1, 31).
fn minor(version: &str) -> Option<(u64, u64)> {
    let v = version.trim().trim_start_matches('v');
    let mut it = v.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((major, minor))
}

/// kubeadm's KubeletVersionCheck: not newer than the control plane, at most one minor
/// older (1.31's minimum kubelet is 1.30).
fn kubelet_version(root: &Path, cp_version: &str) -> Result<(), String> {
    let exe = ["usr/bin/kubelet", "usr/local/bin/kubelet", "bin/kubelet"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .ok_or("kubelet not found in /usr/bin, /usr/local/bin or /bin")?;
    let output = std::process::Command::new(&exe)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run \"{} --version\": {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let found = text
        .split_whitespace()
        .find(|w| w.starts_with('v'))
        .ok_or_else(|| {
            format!(
                "couldn't get kubelet version: unexpected output {:?}",
                text.trim()
            )
        })?;
    let (Some(k), Some(cp)) = (minor(found), minor(cp_version)) else {
        return Err(format!(
            "couldn't parse kubelet version {found:?} or control plane version {cp_version:?}"
        ));
    };
    if k > cp {
        return Err(format!(
            "the kubelet version is higher than the control plane version. This is not a supported version skew and may lead to a malfunctional cluster. Kubelet version: \"{found}\" Control plane version: \"{cp_version}\""
        ));
    }
    if k.0 != cp.0 || k.1 + 1 < cp.1 {
        return Err(format!(
            "Kubelet version \"{found}\" is lower than kubeadm can support. Please upgrade kubelet"
        ));
    }
    Ok(())
}

fn cri(root: &Path, socket: &str) -> Result<(), String> {
    let Some(path) = socket.strip_prefix("unix://") else {
        return Err(format!("the CRI socket {socket:?} is not a unix:// URL"));
    };
    // --root is a boundary for what kbc-apply connects to as well.
    if kbc_bundle::check_path(path.trim_start_matches('/')).is_err() {
        return Err(format!(
            "the CRI socket {socket:?} is not a clean absolute path (no \"..\")"
        ));
    }
    let host = root.join(path.trim_start_matches('/'));
    let meta = std::fs::metadata(&host)
        .map_err(|e| format!("container runtime is not running: {path}: {e}"))?;
    if !meta.file_type().is_socket() {
        return Err(format!(
            "container runtime is not running: {path} is not a socket"
        ));
    }
    std::os::unix::net::UnixStream::connect(&host)
        .map(|_| ())
        .map_err(|e| format!("container runtime is not running: connect {path}: {e}"))
}

fn hostname(root: &Path, node_name: &str) -> Result<(), String> {
    let host = read(root, "/proc/sys/kernel/hostname")?
        .trim()
        .to_ascii_lowercase();
    if node_name.is_empty() || host == node_name {
        Ok(())
    } else {
        Err(format!(
            "the node name \"{node_name}\" differs from the hostname \"{host}\"; the kubelet registers the Node under the node name"
        ))
    }
}

fn num_cpu(root: &Path) -> Result<(), String> {
    let text = read(root, "/proc/cpuinfo")?;
    let n = text.lines().filter(|l| l.starts_with("processor")).count();
    if n >= MIN_CPUS {
        Ok(())
    } else {
        Err(format!(
            "the number of available CPUs {n} is less than the required {MIN_CPUS}"
        ))
    }
}

fn mem(root: &Path) -> Result<(), String> {
    let text = read(root, "/proc/meminfo")?;
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or("/proc/meminfo has no MemTotal")?;
    let mb = kb / 1024;
    if mb >= MIN_MEM_MB {
        Ok(())
    } else {
        Err(format!(
            "the system RAM ({mb} MB) is less than the minimum {MIN_MEM_MB} MB"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            format!(
                "FileAvailable-{}",
                dashed("/etc/kubernetes/manifests/kube-apiserver.yaml")
            ),
            "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml"
        );
        assert_eq!(minor("v1.31.2"), Some((1, 31)));
        assert_eq!(minor("1.30.0-rc.1"), Some((1, 30)));
    }
}
