//! The compiler's I/O, in one module at the edge of the pipeline: reading the user's input
//! files with a size cap (the configuration, the secrets file, an existing certificates
//! directory, patches), writing output files so that a failure never leaves a partial file
//! behind, and what the command line takes from the environment (the issue time's
//! fallbacks `SOURCE_DATE_EPOCH` and the clock, the thread count `KBC_THREADS`). The stages
//! below parse the text and bytes they are given and never read a file, the environment or
//! the clock.

use std::io;
use std::path::Path;

use kbc_bundle::limits::MAX_INPUT_FILE_BYTES;

use crate::pki::{IssueTime, IssueTimeError};
use crate::render::patches::{PatchError, PatchSet};

/// Writes `bytes` to `path` atomically with `mode` (see [`kbc_bundle::atomic`]), after
/// removing temporary files that a killed earlier run left in the same directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    kbc_bundle::atomic::sweep(dir)?;
    kbc_bundle::atomic::write(path, bytes, mode)
}

/// Creates an output directory and its parents (a cluster's bundles).
pub(crate) fn create_output_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// A bundle file: a regular file of bounded size ([`kbc_bundle::file::read_bundle`]).
pub(crate) fn read_bundle(path: &Path) -> io::Result<Vec<u8>> {
    kbc_bundle::file::read_bundle(path)
}

/// Whether `path` starts with gzip's magic bytes: a bundle rather than a configuration.
pub(crate) fn is_gzip(path: &Path) -> bool {
    std::fs::File::open(path)
        .and_then(|mut f| {
            let mut magic = [0u8; 2];
            io::Read::read_exact(&mut f, &mut magic).map(|_| magic)
        })
        .is_ok_and(|m| m == [0x1f, 0x8b])
}

/// Reads a user's input file as UTF-8 text: a regular file (a FIFO or a device would block
/// or never end) of at most [`MAX_INPUT_FILE_BYTES`].
pub(crate) fn read_input(path: &Path) -> io::Result<String> {
    utf8_text(read_input_bytes(path)?)
}

/// Standard input as UTF-8 text, at most [`MAX_INPUT_FILE_BYTES`].
pub(crate) fn read_stdin() -> io::Result<String> {
    utf8_text(kbc_bundle::file::read_to_limit(
        io::stdin(),
        MAX_INPUT_FILE_BYTES,
    )?)
}

/// The bytes as text, or an error that says where the first invalid byte is.
fn utf8_text(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (invalid byte at line {line}, column {column})"),
        )
    })
}

/// [`read_input`] without the UTF-8 check.
pub(crate) fn read_input_bytes(path: &Path) -> io::Result<Vec<u8>> {
    kbc_bundle::file::read_capped(path, MAX_INPUT_FILE_BYTES)
}

/// Writes the PKI in kubeadm's layout under `dir` (`pki/...` and the kubeconfigs), each
/// file atomically with its mode; directories are created 0755 (kubeadm's
/// `MkdirAll(dir, 0755)`). Refuses, before writing anything, when any of the files exists.
pub fn write_kubeadm_layout(output: &crate::pki::PkiOutput, dir: &Path) -> io::Result<()> {
    for a in &output.artifacts {
        let p = dir.join(&a.kubeadm_path);
        if std::fs::symlink_metadata(&p).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{}: file exists; refusing to overwrite", p.display()),
            ));
        }
    }
    for a in &output.artifacts {
        let p = dir.join(&a.kubeadm_path);
        if let Some(parent) = p.parent() {
            create_dirs(parent, 0o755)?;
        }
        kbc_bundle::atomic::write(&p, &a.bytes, a.mode)?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents, each with exactly `mode` (set after creation, so
/// the umask does not matter); existing directories keep theirs.
fn create_dirs(dir: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent, mode)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The configuration at `path`, or standard input for `-`.
pub(crate) fn read_source(path: &str) -> io::Result<crate::config::Source> {
    let (name, text) = if path == "-" {
        ("<stdin>".to_string(), read_stdin()?)
    } else {
        (path.to_string(), read_input(Path::new(path))?)
    };
    Ok(crate::config::Source { name, text })
}

/// Reads and parses a secrets file (a regular file of at most [`MAX_INPUT_FILE_BYTES`]).
pub fn load_secrets(path: &Path) -> Result<crate::secrets::Secrets, crate::secrets::SecretsError> {
    let name = path.display().to_string();
    let text = read_input(path).map_err(|source| crate::secrets::SecretsError::Io {
        path: name.clone(),
        source,
    })?;
    crate::secrets::Secrets::parse(&text, &name)
}

/// Writes a secrets file with mode 0600; refuses to replace an existing file unless `force`.
/// Atomic and never through a symbolic link: with `force` a link at `path` is replaced, its
/// target left alone.
pub fn write_secrets(
    secrets: &crate::secrets::Secrets,
    path: &Path,
    force: bool,
) -> Result<(), crate::secrets::SecretsError> {
    let name = path.display().to_string();
    // symlink_metadata: a link, dangling or not, is something that exists.
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(crate::secrets::SecretsError::Exists { path: name });
    }
    write_atomic(path, secrets.to_yaml().as_bytes(), 0o600)
        .map_err(|source| crate::secrets::SecretsError::Io { path: name, source })
}

/// Reads an existing certificates directory in kubeadm's layout (`--pki-dir`): the
/// certificates and keys `input` needs from `pki_dir`, the kubeconfigs from its parent
/// (`/etc/kubernetes/pki` → `/etc/kubernetes/*.conf`). Missing files are simply absent;
/// unreadable ones are an error naming the file.
pub fn read_pki_dir(
    pki_dir: &Path,
    input: &crate::pki::PkiInput,
) -> Result<crate::pki::Provided, crate::pki::PkiError> {
    use crate::pki::PkiError;
    if !pki_dir.is_dir() {
        return Err(PkiError::Read {
            file: pki_dir.display().to_string(),
            detail: "not a directory".into(),
        });
    }
    let conf_dir = pki_dir.parent().unwrap_or(Path::new("."));
    let wanted = crate::pki::existing::pki_file_names(input)
        .into_iter()
        .map(|n| {
            let path = pki_dir.join(&n);
            (n, path)
        })
        .chain(
            crate::pki::kubeconfig::KUBECONFIGS
                .iter()
                .map(|k| (k.file.to_string(), conf_dir.join(k.file))),
        );
    let mut files = Vec::new();
    for (name, path) in wanted {
        match read_input_bytes(&path) {
            Ok(bytes) => files.push((name, bytes, path.display().to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(PkiError::Read {
                    file: path.display().to_string(),
                    detail: e.to_string(),
                })
            }
        }
    }
    Ok(crate::pki::Provided::from_files(files))
}

/// Reads every patch in `dir` (kubeadm's `--patches`): the directory walked as Go's
/// `filepath.Walk` does (entries sorted by name, directories descended into in place), each
/// file handed to [`PatchSet::add_entry`], which decides from its name and reads it here.
pub fn load_patches(dir: &Path) -> Result<PatchSet, PatchError> {
    let meta = std::fs::symlink_metadata(dir).map_err(|source| PatchError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(PatchError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut set = PatchSet::default();
    walk_patches(dir, &mut set)?;
    Ok(set)
}

fn walk_patches(dir: &Path, set: &mut PatchSet) -> Result<(), PatchError> {
    let dir_err = |source| PatchError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(dir_err)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(dir_err)?;
    entries.sort();
    for name in entries {
        let path = dir.join(&name);
        let meta = std::fs::symlink_metadata(&path).map_err(|source| PatchError::Dir {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk_patches(&path, set)?;
        } else {
            set.add_entry(path, read_input_bytes)?;
        }
    }
    Ok(())
}

/// A user-supplied key or certificate file for `kbc secrets generate` (a bounded regular
/// file, UTF-8), named by its path in messages.
pub fn read_input_text(
    path: &Path,
) -> Result<crate::secrets::InputText, crate::secrets::InputFileError> {
    let name = path.display().to_string();
    match read_input(path) {
        Ok(text) => Ok(crate::secrets::InputText { name, text }),
        Err(e) => Err(crate::secrets::InputFileError::Read {
            file: name,
            detail: e.to_string(),
        }),
    }
}

/// The issue time: `--issued-at`, else `SOURCE_DATE_EPOCH`, else the clock.
pub(crate) fn issue_time(flag: Option<&str>) -> Result<IssueTime, IssueTimeError> {
    if let Some(s) = flag {
        return IssueTime::parse_rfc3339(s);
    }
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = v
            .trim()
            .parse()
            .map_err(|_| IssueTimeError::SourceDateEpoch(v.clone()))?;
        return IssueTime::from_unix(secs);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    IssueTime::from_unix(now)
}

/// The thread count for key generation: `KBC_THREADS` if set to a positive number, else the
/// available parallelism. The output never depends on it.
pub fn key_threads() -> usize {
    std::env::var("KBC_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}
