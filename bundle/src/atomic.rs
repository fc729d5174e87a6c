//! Replacing a file atomically, so that a killed process never leaves a half-written file
//! at the final path, and never leaves a temporary copy that the next run cannot find.
//!
//! A write goes to `.<name>.kbc-tmp-<pid>-<n>` in the target's directory. The writer holds an
//! exclusive `flock` on that temporary file until it is renamed over the target; the
//! directory is fsync-ed after the rename. [`sweep`] removes every temporary file of a
//! directory whose lock nobody holds — the leftovers of a killed run, whatever their process
//! id — and leaves those of a live writer alone. Both `kbc compile` and `kbc-apply` use this
//! one definition.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The marker every temporary file name carries (after the target's name).
pub(crate) const TEMP_MARKER: &str = ".kbc-tmp-";

/// True when `file_name` is a temporary file of [`write`].
pub fn is_temp_name(file_name: &str) -> bool {
    file_name.starts_with('.') && file_name.contains(TEMP_MARKER)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent_dir(path).join(format!(".{name}{TEMP_MARKER}{}-{n}", std::process::id()))
}

/// Writes `data` to `path`: a locked temporary file in the same directory, created 0600,
/// written, set to `mode` exactly (whatever the umask), fsync-ed, renamed over `path`, then
/// the directory fsync-ed. On error the temporary file is removed.
pub fn write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    // A concurrent sweep can remove our file in the instant between its creation and its
    // lock; the rename then finds nothing, and one more attempt is enough.
    let mut attempt = 0;
    loop {
        match write_from(path, &mut &data[..], mode) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 2 => attempt += 1,
            other => return other,
        }
    }
}

/// [`write`] from a reader, streamed (a large file is never held in memory).
pub fn write_from(path: &Path, data: &mut dyn io::Read, mode: u32) -> io::Result<()> {
    let tmp = temp_path(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let result = (|| {
        file.lock()?;
        io::copy(data, &mut file)?;
        file.set_permissions(Permissions::from_mode(mode))?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(parent_dir(path))?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    // The lock goes with the descriptor, after the rename.
    drop(file);
    result
}

/// Removes the temporary files of [`write`] in `dir` that no live process holds; returns
/// what was removed. A missing directory has nothing to sweep.
pub fn sweep(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if !is_temp_name(&name.to_string_lossy()) || !entry.file_type()?.is_file() {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        // Held by a live writer: not ours to remove.
        if file.try_lock().is_err() {
            continue;
        }
        match fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if !removed.is_empty() {
        File::open(dir)?.sync_all()?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_the_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.conf");
        write(&target, b"x", 0o640).unwrap();
        write(&target, b"yz", 0o600).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"yz");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn sweep_removes_unlocked_leftovers_and_spares_live_ones() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".admin.conf.kbc-tmp-999999-0");
        fs::write(&stale, b"secret").unwrap();
        let live = dir.path().join(".ca.key.kbc-tmp-1-0");
        let held = File::create(&live).unwrap();
        held.lock().unwrap();
        let keep = dir.path().join("admin.conf");
        fs::write(&keep, b"real").unwrap();
        let removed = sweep(dir.path()).unwrap();
        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists());
        assert!(live.exists() && keep.exists());
        drop(held);
        assert_eq!(sweep(dir.path()).unwrap(), vec![live]);
        assert!(sweep(&dir.path().join("missing")).unwrap().is_empty());
    }
}
