//! The applier's phases, as values (kubeadm's `workflow.Phase`,
//! `cmd/kubeadm/app/cmd/phases/workflow/phase.go`): [`PHASES`] names every phase a bundle's
//! plan may hold, with what it needs and the function that runs it. The runner
//! ([`run::run`]) walks the plan and looks each name up here; it never matches on strings.
//! Each phase reads the shared [`Session`] and returns an [`Outcome`] (so that a second run
//! can say that nothing changed) or a [`PhaseError`], whose variant decides the exit code.
//!
//! `install` and `reset` work on the bundle's files alone ([`ApplyContext`]) and also run
//! as commands of their own. The file phases plan first (reading the host, changing
//! nothing), refuse with [`PhaseError::Refused`] when any part of the plan is refused, and
//! only then act. How to add a phase: docs/adding-a-phase.md.

pub mod api_objects;
mod error;
pub mod etcd_join;
pub mod install;
pub mod kubelet_finalize;
pub mod kubelet_start;
pub mod mark_control_plane;
pub mod preflight;
pub mod reset;
pub mod run;
mod session;
pub mod show_join_command;
pub mod upload_certs;
pub mod wait_control_plane;

use std::fmt;
use std::fs::{self, File, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::bundle::{BundleFile, VerifiedBundle};

pub use error::{PhaseError, Refusal};
pub use session::{systemctl, systemctl_must, RunOptions, Session};

/// One phase of a full run.
pub struct Phase {
    /// kubeadm's name; a parent (`addon`) also runs its sub-phases (`addon/coredns`), which
    /// the plan names.
    pub name: &'static str,
    /// It talks to the API server with admin.conf (kubeadm's `initData.Client()`); the
    /// runner puts the `kubeadm:cluster-admins` binding before the first such phase.
    pub uses_client: bool,
    /// It prints its own outcome line (install lists every file).
    pub prints_own_line: bool,
    /// Runs the phase; the argument is the plan's name (`addon/coredns`).
    pub run: fn(&mut Session<'_>, &str) -> Result<Outcome, PhaseError>,
}

/// Every phase a plan may name, in kubeadm's init order (`cmd/kubeadm/app/cmd/init.go`),
/// with kbc's `install` (the files kubeadm's certs, kubeconfig, etcd, control-plane and
/// kubelet-start phases write) and `cluster-admins` (the binding kubeadm creates on first
/// use of its client).
pub const PHASES: &[Phase] = &[
    // kubeadm's init preflight checks
    Phase {
        name: "preflight",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| preflight::run(s),
    },
    // the bundle's files, atomically, with their modes
    Phase {
        name: "install",
        uses_client: false,
        prints_own_line: true,
        run: |s, _| {
            let outcome = install::run(s.ctx, s.out)?;
            s.install_changed = outcome == Outcome::Changed;
            Ok(outcome)
        },
    },
    // enable and (re)start the kubelet
    Phase {
        name: "kubelet-start",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| kubelet_start::run(s),
    },
    // join: every existing etcd member answers (kubeadm's hidden check-etcd)
    Phase {
        name: "check-etcd",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| etcd_join::check(s),
    },
    // join: add the stacked etcd member
    Phase {
        name: "control-plane-join/etcd",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| etcd_join::run(s),
    },
    // poll the kubelet's and the control plane's health endpoints
    Phase {
        name: "wait-control-plane",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| wait_control_plane::run(s),
    },
    // join: label and taint the node as mark-control-plane does on init
    Phase {
        name: "control-plane-join/mark-control-plane",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| mark_control_plane::run(s),
    },
    // the kubeadm:cluster-admins binding
    Phase {
        name: run::CLUSTER_ADMINS_PHASE,
        uses_client: true,
        prints_own_line: false,
        run: api_objects::run,
    },
    // the kubeadm-config and kubelet-config ConfigMaps
    Phase {
        name: "upload-config",
        uses_client: true,
        prints_own_line: false,
        run: api_objects::run,
    },
    // the encrypted kubeadm-certs Secret
    Phase {
        name: "upload-certs",
        uses_client: true,
        prints_own_line: false,
        run: |s, _| upload_certs::run(s),
    },
    // the control-plane labels and taints on the Node
    Phase {
        name: "mark-control-plane",
        uses_client: true,
        prints_own_line: false,
        run: |s, _| mark_control_plane::run(s),
    },
    // bootstrap tokens, their RBAC and cluster-info
    Phase {
        name: "bootstrap-token",
        uses_client: true,
        prints_own_line: false,
        run: api_objects::run,
    },
    // point kubelet.conf at the rotated client certificate
    Phase {
        name: "kubelet-finalize",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| kubelet_finalize::run(s),
    },
    // CoreDNS and kube-proxy
    Phase {
        name: "addon",
        uses_client: true,
        prints_own_line: false,
        run: api_objects::run,
    },
    // print the join commands
    Phase {
        name: "show-join-command",
        uses_client: false,
        prints_own_line: false,
        run: |s, _| show_join_command::run(s),
    },
];

/// The phase that runs plan name `name`: the one of that name, or its parent's.
pub fn phase(name: &str) -> Option<&'static Phase> {
    PHASES.iter().find(|p| {
        p.name == name
            || name
                .strip_prefix(p.name)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// What a phase did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Changed,
    Unchanged,
    Skipped(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Changed => f.write_str("changed"),
            Outcome::Unchanged => f.write_str("unchanged"),
            Outcome::Skipped(reason) => write!(f, "skipped: {reason}"),
        }
    }
}

/// What every phase shares: the verified bundle and the command-line switches.
#[derive(Debug)]
pub struct ApplyContext {
    /// Where the host's `/` is (`--root`); `/` on a real node.
    pub root: PathBuf,
    pub bundle: VerifiedBundle,
    /// Replace (install) or remove (reset) files that differ from the bundle, keeping a
    /// backup.
    pub force: bool,
    /// Print the actions, change nothing.
    pub dry_run: bool,
}

impl ApplyContext {
    /// The host path of a root-relative path (`etc/kubernetes/admin.conf`).
    pub fn host_path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// A bundle file that `install` leaves to a later phase: a joining node's etcd
    /// manifest (written once its member is announced), and a generic worker's
    /// bootstrap-kubelet.conf once the kubelet has bootstrapped (kubeadm deletes it then).
    /// Their root-relative paths, decided once per phase from the plan and the host.
    pub fn installed_later(&self) -> Vec<String> {
        let Ok(plan) = self.bundle.manifest.apply_plan() else {
            return Vec::new();
        };
        let Some(join) = plan.join else {
            return Vec::new();
        };
        let mut later: Vec<String> = join.etcd.map(|e| e.manifest).into_iter().collect();
        let kubelet_conf = self.host(&plan.kubelet_kubeconfig);
        if !join.bootstrap_kubeconfig.is_empty() && kubelet_conf.exists() {
            later.push(join.bootstrap_kubeconfig);
        }
        later
            .iter()
            .map(|abs| abs.trim_start_matches('/').to_string())
            .collect()
    }

    /// The host path of an absolute node path (`/etc/kubernetes/kubelet.conf`).
    pub fn host(&self, abs: &str) -> PathBuf {
        self.host_path(abs.trim_start_matches('/'))
    }

    /// The bundle's `rootfs/` files with their root-relative paths, in bundle order.
    pub fn rootfs_files(&self) -> impl Iterator<Item = (&str, &BundleFile)> {
        self.bundle
            .files
            .iter()
            .filter_map(|f| f.rootfs_path().map(|rel| (rel, f)))
    }

    /// Where `--force` keeps the previous version of a root-relative path:
    /// `<root>/etc/kubernetes/tmp/kbc-backup-<digest hex>/<rel>`.
    pub fn backup_path(&self, rel: &str) -> PathBuf {
        self.root
            .join(BACKUP_PARENT)
            .join(format!("kbc-backup-{}", self.bundle.digest_hex()))
            .join(rel)
    }
}

/// kubeadm's temporary directory, which holds the backups (created 0700 as kubeadm does).
pub const BACKUP_PARENT: &str = "etc/kubernetes/tmp";

/// How a host path compares with a bundle file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostState {
    /// Nothing there (and nothing that is not a directory on the way).
    Absent,
    /// A regular file with the bundle's content and mode.
    Same,
    /// A regular file that differs; the text says how.
    Differs(String),
    /// Something that must not be replaced: a directory, symlink, device, or a non-directory
    /// parent. The text says what.
    Blocked(String),
}

/// The first directory between `root` and `path` that is a symbolic link: `--root` is a
/// boundary, and a link under it (even a relative one) could lead a write outside.
pub fn linked_ancestor(root: &Path, path: &Path) -> io::Result<Option<PathBuf>> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(None);
    };
    let mut dir = root.to_path_buf();
    let mut parts = rel.components().peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => return Ok(Some(dir)),
            Ok(_) => {}
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.kind() == io::ErrorKind::NotADirectory =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Why `path` cannot be written without leaving the root, or `None`: a symbolic link
/// between `root` and `path`, or `path` itself a link or not a regular file. For targets
/// that are not bundle files (kubelet-finalize's kubelet.conf).
pub fn write_refusal(root: &Path, path: &Path) -> io::Result<Option<String>> {
    if let Some(link) = linked_ancestor(root, path)? {
        return Ok(Some(format!(
            "\"{}\" on the way is a symbolic link; kbc-apply writes nothing through links under --root",
            link.display()
        )));
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Ok(Some(
            "is a symbolic link; kbc-apply writes nothing through links under --root".into(),
        )),
        Ok(meta) if !meta.is_file() => Ok(Some("is not a regular file".into())),
        Ok(_) => Ok(None),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            match absent_or_blocked(root, path)? {
                HostState::Blocked(why) => Ok(Some(why)),
                _ => Ok(None),
            }
        }
        Err(e) => Err(e),
    }
}

/// Why the `--force` backup of root-relative `rel` could not be made, or `None`: checked
/// while planning, so that a link or a file in the way of the backup directory refuses the
/// run before anything changed.
pub fn backup_refusal(ctx: &ApplyContext, rel: &str) -> io::Result<Option<String>> {
    let target = ctx.backup_path(rel);
    if let Some(link) = linked_ancestor(&ctx.root, &target)? {
        return Ok(Some(format!(
            "its backup cannot be kept: \"{}\" on the way is a symbolic link; kbc-apply writes nothing through links under --root",
            link.display()
        )));
    }
    Ok(match absent_or_blocked(&ctx.root, &target)? {
        HostState::Blocked(why) => Some(format!("its backup cannot be kept: {why}")),
        _ => None,
    })
}

/// Compares `path` on the host with `file`. Reads, never writes.
pub fn host_state(root: &Path, path: &Path, file: &BundleFile) -> io::Result<HostState> {
    if let Some(link) = linked_ancestor(root, path)? {
        return Ok(HostState::Blocked(format!(
            "\"{}\" on the way is a symbolic link; kbc-apply writes nothing through links under --root",
            link.display()
        )));
    }
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return absent_or_blocked(root, path),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => return absent_or_blocked(root, path),
        Err(e) => return Err(e),
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Ok(HostState::Blocked(
            "is a symbolic link; remove it or point the bundle elsewhere".to_string(),
        ));
    }
    if kind.is_dir() {
        return Ok(HostState::Blocked("is a directory".to_string()));
    }
    if !kind.is_file() {
        return Ok(HostState::Blocked("is not a regular file".to_string()));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if meta.len() != file.data.len() as u64 || fs::read(path)? != file.data {
        return Ok(HostState::Differs(format!(
            "content differs from the bundle ({} bytes on the host, {} in the bundle)",
            meta.len(),
            file.data.len()
        )));
    }
    if mode != file.mode {
        return Ok(HostState::Differs(format!(
            "mode is {mode:04o}, the bundle has {:04o}",
            file.mode
        )));
    }
    Ok(HostState::Same)
}

/// For a missing path: `Absent` when every existing ancestor up to `root` is a directory.
fn absent_or_blocked(root: &Path, path: &Path) -> io::Result<HostState> {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) {
            break;
        }
        match fs::metadata(d) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => {
                return Ok(HostState::Blocked(format!(
                    "\"{}\" is in the way and is not a directory",
                    d.display()
                )))
            }
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.kind() == io::ErrorKind::NotADirectory => {}
            Err(e) => return Err(e),
        }
        dir = d.parent();
    }
    Ok(HostState::Absent)
}

/// The mode of a directory that kbc-apply creates, by root-relative path: kubeadm creates
/// `/etc/kubernetes/manifests` and `/var/lib/kubelet` 0700 (`cmd/kubeadm/app/util/staticpod/utils.go`, `cmd/kubeadm/app/phases/kubelet/config.go`),
/// its temporary directory `/etc/kubernetes/tmp` 0700, and everything else, including
/// `/etc/kubernetes` and the certificate directories, 0755 (`cmd/kubeadm/app/util/pkiutil/pki_helpers.go`). Directories that
/// exist keep their mode, as with kubeadm.
pub fn dir_mode(rel: &str) -> u32 {
    let manifests = kbc_bundle::apply::MANIFESTS_DIR.trim_start_matches('/');
    let private = [manifests, "var/lib/kubelet", BACKUP_PARENT];
    let in_backups = rel
        .strip_prefix(BACKUP_PARENT)
        .is_some_and(|r| r.starts_with('/'));
    if private.contains(&rel) || in_backups {
        0o700
    } else {
        0o755
    }
}

/// Creates the missing directories of root-relative `rel_dir` one by one with
/// [`dir_mode`], recording each in `done`.
pub fn create_dirs(root: &Path, rel_dir: &str, done: &mut Vec<String>) -> io::Result<()> {
    let mut rel = String::new();
    for component in rel_dir.split('/').filter(|c| !c.is_empty()) {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str(component);
        let path = root.join(&rel);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(io::Error::other(format!(
                "\"{}\" is a symbolic link; kbc-apply writes nothing through links under --root",
                path.display()
            )))
            }
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("\"{}\" is not a directory", path.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mode = dir_mode(&rel);
        // Created with its mode, not chmod-ed afterwards only: a run killed in between must
        // not leave /etc/kubernetes/manifests 0755 (an existing directory keeps its mode).
        // The umask can only remove bits; the chmod below restores those.
        match fs::DirBuilder::new().mode(mode).create(&path) {
            Ok(()) => {}
            // Another writer made it in between (kbc-apply holds a lock per root, but the
            // directory may be made by anything else): a directory is what was wanted.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => continue,
            Err(e) => return Err(e),
        }
        // Set explicitly: create_dir's mode is subject to the umask.
        fs::set_permissions(&path, Permissions::from_mode(mode))?;
        done.push(format!("created directory {} {mode:04o}", path.display()));
    }
    Ok(())
}

/// Writes `data` to `path` atomically with `mode` ([`kbc_bundle::atomic::write`]: a
/// locked temporary file that a killed run leaves for [`sweep_temp_files`], never a partial
/// file at `path`; the directory fsync-ed after the rename).
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    kbc_bundle::atomic::write(path, data, mode)
}

/// The directories that may hold temporary files of a killed run: those of the bundle's
/// files, kubeadm's temporary directory, the backup directories below it (every level), and
/// that of the plan's kubelet.conf (rewritten by kubelet-finalize). A directory behind a
/// link under the root is never listed (nothing is written there either).
fn temp_dirs(ctx: &ApplyContext) -> io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = ctx
        .rootfs_files()
        .filter_map(|(rel, _)| ctx.host_path(rel).parent().map(Path::to_path_buf))
        .collect();
    if let Ok(plan) = ctx.bundle.manifest.apply_plan() {
        let rel = plan.kubelet_kubeconfig.trim_start_matches('/');
        if let Some((dir, _)) = rel.rsplit_once('/') {
            if kbc_bundle::check_path(rel).is_ok() {
                dirs.push(ctx.host_path(dir));
            }
        }
    }
    let backups = ctx.host_path(BACKUP_PARENT);
    dirs.push(backups.clone());
    if linked_ancestor(&ctx.root, &backups.join("x"))?.is_none() {
        let mut pending: Vec<PathBuf> = match fs::read_dir(&backups) {
            Ok(entries) => entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("kbc-backup-"))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        while let Some(dir) = pending.pop() {
            // DirEntry::file_type does not follow links: a link is never descended into.
            for entry in fs::read_dir(&dir)?.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    pending.push(entry.path());
                }
            }
            dirs.push(dir);
        }
    }
    dirs.sort();
    dirs.dedup();
    Ok(dirs)
}

/// Removes the temporary files that a killed run left in the directories the bundle writes
/// to (whatever process made them; a live writer's are kept), recording each in `done`.
pub fn sweep_temp_files(ctx: &ApplyContext, done: &mut Vec<String>) -> io::Result<()> {
    for dir in temp_dirs(ctx)? {
        // A directory behind a link is refused elsewhere; never sweep through one.
        if linked_ancestor(&ctx.root, &dir.join("x"))?.is_some() {
            continue;
        }
        for removed in kbc_bundle::atomic::sweep(&dir)? {
            done.push(format!(
                "removed stale temporary file {}",
                removed.display()
            ));
        }
    }
    Ok(())
}

/// Copies `source` to `target` with `mode` the way [`write_atomic`] writes: streamed (a
/// large file is never read into memory) into a locked temporary file next to `target`
/// that [`sweep_temp_files`] finds after a kill, fsync-ed, renamed, the directory
/// fsync-ed. A killed backup therefore never leaves a partial file under a backup's name.
fn copy_atomic(source: &Path, target: &Path, mode: u32) -> io::Result<()> {
    kbc_bundle::atomic::write_from(target, &mut File::open(source)?, mode)
}

/// Whether the regular files `a` and `b` hold the same bytes, compared in chunks.
fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    use std::io::Read;
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(fb.read(&mut bb[..1])? == 0);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// Keeps the current content and mode of `path` under the bundle's backup directory and
/// returns where. An existing backup is never overwritten: `.1`, `.2`, ... are tried; one
/// that already holds exactly this content and mode (a run killed after the backup) is
/// kept and used.
pub fn backup(ctx: &ApplyContext, rel: &str, done: &mut Vec<String>) -> io::Result<PathBuf> {
    let source = ctx.host_path(rel);
    let mode = fs::symlink_metadata(&source)?.permissions().mode() & 0o7777;
    let base = ctx.backup_path(rel);
    let mut target = base.clone();
    let mut n = 0;
    loop {
        match fs::symlink_metadata(&target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(e),
            Ok(meta)
                if meta.is_file()
                    && meta.permissions().mode() & 0o7777 == mode
                    && same_bytes(&source, &target)? =>
            {
                return Ok(target);
            }
            Ok(_) => {}
        }
        n += 1;
        target = PathBuf::from(format!("{}.{n}", base.display()));
    }
    let rel_dir = target
        .parent()
        .and_then(|p| p.strip_prefix(&ctx.root).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    create_dirs(&ctx.root, &rel_dir, done)?;
    copy_atomic(&source, &target, mode)?;
    done.push(format!(
        "backed up {} to {}",
        source.display(),
        target.display()
    ));
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::phase;

    /// Every phase a compiled plan can name runs as its own entry of `PHASES` (or, for the
    /// API phases, its parent's): no plan name falls through to another phase's code.
    #[test]
    fn every_planned_phase_has_its_entry() {
        let init = kbc_bundle::phases::node_phases(|_| true);
        // The phases `kbc compile` plans for a joining node (compiler/src/nodes.rs).
        let join = [
            "preflight",
            "check-etcd",
            "kubelet-start",
            "control-plane-join/etcd",
            "wait-control-plane",
            "control-plane-join/mark-control-plane",
        ];
        for name in init.into_iter().chain(join) {
            let p = phase(name).unwrap_or_else(|| panic!("{name} has no phase"));
            let own = p.name == name || name.starts_with(&format!("{}/", p.name));
            assert!(own, "{name} runs as {}", p.name);
        }
        assert_eq!(
            phase("control-plane-join/etcd").map(|p| p.name),
            Some("control-plane-join/etcd")
        );
        assert!(phase("control-plane-join/unknown").is_none());
    }
}
