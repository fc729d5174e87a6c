//! The bundle contract (format `kbc.bundle/v1`): manifest types,
//! canonical JSON, [`verify`] and the deterministic writer [`write`]. One crate, used by the
//! compiler (which writes bundles, and whose `kbc inspect` verifies them) and the applier. It
//! depends only on serde, serde_json, sha2, tar, flate2 and thiserror, does no I/O besides
//! reading the bytes it is given, and touches nothing on the host.
//!
//! Verification is strict: anything docs/bundle-format.md does not allow is refused, with an error that
//! names the offending entry. Extension records (GNU long names, PAX headers) are refused
//! too: each tar header must be one regular file, so a path longer than ustar's name/prefix
//! fields cannot be carried.

pub mod apply;
pub mod atomic;
pub mod cli;
pub mod file;
pub mod leak;
pub mod limits;
pub mod phases;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The value of the manifest's `format` field that this module reads and writes.
pub const FORMAT: &str = "kbc.bundle/v1";
/// The path of the manifest, always the first tar entry.
pub(crate) const MANIFEST_PATH: &str = "kbc-bundle.json";
/// The prefix of entries installed on the host (`rootfs/etc/...` goes to `/etc/...`).
pub const ROOTFS_PREFIX: &str = "rootfs/";
/// Largest decompressed bundle accepted ([`limits::MAX_UNPACKED_BYTES`]).
pub(crate) const MAX_TAR_BYTES: u64 = limits::MAX_UNPACKED_BYTES;

/// The manifest `kbc-bundle.json` (docs/bundle-format.md, "The manifest").
///
/// Fields docs/bundle-format.md names are typed; anything else is kept in `extra` so that a manifest
/// read and written again keeps its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    pub kbc_version: String,
    /// The key derivation, `kbc-kdf-v1`.
    pub derivation: String,
    pub kubernetes_version: String,
    pub cluster_name: String,
    pub node_name: String,
    pub control_plane_endpoint: String,
    /// RFC 3339.
    pub issued_at: String,
    /// Hex sha256 of the normalized, defaulted configuration.
    pub config_sha256: String,
    /// One entry per tar entry after the manifest, in tar order.
    pub files: Vec<FileEntry>,
    /// What the applier needs that is not a file (phases, tokens, waits, node labels):
    /// an [`apply::ApplyPlan`], read with [`Manifest::apply_plan`].
    pub apply: serde_json::Value,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Manifest {
    /// The typed `apply` section.
    pub fn apply_plan(&self) -> Result<apply::ApplyPlan, serde_json::Error> {
        serde_json::from_value(self.apply.clone())
    }
}

/// One file of the bundle, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative path inside the bundle, e.g. `rootfs/etc/kubernetes/admin.conf`.
    pub path: String,
    /// Install mode as an octal string, e.g. `"0600"`.
    pub mode: String,
    pub size: u64,
    /// Lower-case hex sha256 of the content.
    pub sha256: String,
    /// True for private keys, kubeconfigs with keys, tokens and the certificate key.
    pub secret: bool,
}

/// A file of a verified bundle, with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    pub path: String,
    /// Permission bits (at most 0o777).
    pub mode: u32,
    pub secret: bool,
    /// Lower-case hex sha256 of `data`, as listed in the manifest.
    pub sha256: String,
    pub data: Vec<u8>,
}

impl BundleFile {
    /// The host path relative to the root (`etc/kubernetes/admin.conf`) for `rootfs/`
    /// entries; `None` for the others (`api/`, `join/`, `images.txt`).
    pub fn rootfs_path(&self) -> Option<&str> {
        self.path.strip_prefix(ROOTFS_PREFIX)
    }
}

/// A bundle whose every byte has been checked against its manifest.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub manifest: Manifest,
    /// `sha256:` + hex sha256 of the manifest bytes.
    pub digest: String,
    /// Every entry after the manifest, in tar (= manifest) order.
    pub files: Vec<BundleFile>,
}

impl VerifiedBundle {
    /// The hex part of the digest, used in backup directory names.
    pub fn digest_hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

/// Why a bundle was refused. Every variant names what is wrong and, where there is one,
/// the offending entry.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The gzip layer could not be decoded: a truncated or corrupted file.
    #[error("bundle is not a valid gzip stream (truncated or corrupt)")]
    Gzip(#[source] std::io::Error),
    /// Bytes follow the gzip stream (a second member or appended data).
    #[error("{0} unexpected bytes after the end of the gzip stream")]
    TrailingData(usize),
    /// The decompressed tar exceeds [`MAX_TAR_BYTES`].
    #[error("bundle decompresses to more than {limit} bytes")]
    TooLarge { limit: u64 },
    /// Another limit of [`limits`] is exceeded.
    #[error("bundle {what} exceeds the limit of {limit} (kbc_bundle::limits)")]
    Limit { what: &'static str, limit: u64 },
    /// The tar layer is malformed (bad checksum, truncated entry, ...).
    #[error("bundle is not a valid tar archive{}", at(.path))]
    Tar {
        path: Option<String>,
        #[source]
        source: std::io::Error,
    },
    /// The archive has no entries.
    #[error("bundle is empty; expected \"{MANIFEST_PATH}\" as its first entry")]
    Empty,
    /// The first entry is not the manifest.
    #[error("first entry is \"{path}\", expected \"{MANIFEST_PATH}\"")]
    FirstEntry { path: String },
    /// A pinned digest does not match.
    #[error("bundle digest is {actual}, expected {expected}; this is not the pinned bundle")]
    DigestMismatch { expected: String, actual: String },
    /// The manifest is not JSON.
    #[error("\"{MANIFEST_PATH}\" is not valid JSON")]
    ManifestJson(#[source] serde_json::Error),
    /// The manifest is JSON but not in canonical form.
    #[error(
        "\"{MANIFEST_PATH}\" is not canonical JSON (sorted keys, no whitespace, one trailing newline); it was edited after kbc wrote it"
    )]
    ManifestNotCanonical,
    /// `format` is missing or not [`FORMAT`].
    #[error("unsupported bundle format {}, this kbc-apply reads \"{FORMAT}\"", quoted(.found))]
    UnsupportedFormat { found: Option<String> },
    /// The manifest lacks a field or has one of the wrong type.
    #[error("\"{MANIFEST_PATH}\" does not match format \"{FORMAT}\"")]
    ManifestSchema(#[source] serde_json::Error),
    /// A tar entry is not a regular file.
    #[error("entry \"{path}\" is a {kind}; a bundle holds regular files only")]
    EntryType { path: String, kind: String },
    /// A path (in the tar or the manifest) is absolute, has `..`, or is otherwise unsafe.
    #[error("entry \"{path}\" has an unsafe path: {reason}")]
    UnsafePath { path: String, reason: &'static str },
    /// A manifest entry's `mode` is not an octal permission string.
    #[error("entry \"{path}\" has mode {mode:?}; expected an octal string such as \"0644\"")]
    BadMode { path: String, mode: String },
    /// A manifest entry's `sha256` is not 64 lower-case hex digits.
    #[error("entry \"{path}\" has sha256 {value:?}; expected 64 lower-case hex digits")]
    BadHash { path: String, value: String },
    /// Manifest entries are not in strictly increasing byte-wise order (or repeat).
    #[error("entry \"{path}\" is listed after \"{previous}\"; entries must be sorted and unique")]
    NotSorted { path: String, previous: String },
    /// One entry is used as a directory by another.
    #[error("entry \"{path}\" is below \"{file}\", which is a file")]
    PathConflict { path: String, file: String },
    /// A tar entry is not listed in the manifest.
    #[error("entry \"{path}\" is not listed in the manifest")]
    Unlisted { path: String },
    /// A listed tar entry appears at another position than the manifest says.
    #[error("entry \"{path}\" is out of order; the manifest lists \"{expected}\" here")]
    OutOfOrder { path: String, expected: String },
    /// A manifest entry has no tar entry.
    #[error("entry \"{path}\" is listed in the manifest but missing from the archive")]
    Missing { path: String },
    /// Content size differs from the manifest.
    #[error("entry \"{path}\" has {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        path: String,
        expected: u64,
        actual: u64,
    },
    /// Content hash differs from the manifest.
    #[error("entry \"{path}\" has sha256 {actual}, the manifest says {expected}")]
    HashMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    /// The tar header mode differs from the manifest mode.
    #[error(
        "entry \"{path}\" has mode {actual:04o} in the archive, the manifest says {expected:04o}"
    )]
    ModeMismatch {
        path: String,
        expected: u32,
        actual: u32,
    },
}

fn quoted(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "(no \"format\" field)".to_string(),
    }
}

fn at(path: &Option<String>) -> String {
    match path {
        Some(p) => format!(" (at entry \"{p}\")"),
        None => String::new(),
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lower-case hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The bundle digest of manifest bytes: `sha256:` + hex sha256.
pub(crate) fn digest_of(manifest_bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(manifest_bytes))
}

/// Whether `s` is a well-formed digest (`sha256:` + 64 lower-case hex digits).
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(is_sha256_hex)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Canonical JSON: object keys sorted byte-wise at every level, no insignificant
/// whitespace, serde_json's escaping and number formatting, one trailing newline.
/// Sorting is done here, not left to serde_json's map type, so that a `preserve_order`
/// feature switched on elsewhere in a build cannot change the bytes.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out.push('\n');
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

impl Manifest {
    /// The manifest's bytes as they go into the bundle.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        // Serializing plain data (strings, numbers, JSON values) cannot fail.
        let value = serde_json::to_value(self).expect("manifest serializes to JSON");
        canonical_json(&value).into_bytes()
    }
}

/// Parses an octal mode string (`"0644"` or `"644"`) into permission bits; only the
/// `rwx` bits are allowed (no setuid, setgid or sticky bit in a bundle).
pub(crate) fn parse_mode(mode: &str) -> Option<u32> {
    if !(3..=4).contains(&mode.len()) || !mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(mode, 8).ok().filter(|m| *m <= 0o777)
}

/// Checks a bundle path: relative, `/`-separated, no empty, `.` or `..` component, no
/// backslash or control character.
pub fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("the path is empty");
    }
    if path.starts_with('/') {
        return Err("absolute paths are not allowed");
    }
    if path.ends_with('/') {
        return Err("the path names a directory");
    }
    if path.chars().any(|c| c == '\\' || c.is_control()) {
        return Err("backslashes and control characters are not allowed");
    }
    for component in path.split('/') {
        match component {
            "" => return Err("empty path components (\"//\") are not allowed"),
            "." => return Err("\".\" components are not allowed"),
            ".." => return Err("\"..\" components are not allowed"),
            _ => {}
        }
    }
    Ok(())
}

/// Reads and checks a whole bundle (`.tgz` bytes) against docs/bundle-format.md: the first entry is
/// a canonical manifest of format [`FORMAT`]; every other entry is a regular file with a
/// safe path, listed in the manifest in the same order with the same size, sha256 and
/// mode; nothing is missing or extra; the digest equals `expect_digest` when given.
pub fn verify(bytes: &[u8], expect_digest: Option<&str>) -> Result<VerifiedBundle, VerifyError> {
    if bytes.len() as u64 > limits::MAX_COMPRESSED_BYTES {
        return Err(VerifyError::Limit {
            what: "file size in bytes",
            limit: limits::MAX_COMPRESSED_BYTES,
        });
    }
    let tar_bytes = gunzip(bytes)?;
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    // Entries are read lazily: each one's data must be read before the next header.
    let mut entries = archive
        .entries()
        .map_err(|source| VerifyError::Tar { path: None, source })?
        .raw(true);
    // `raw(true)`: extension records (GNU long names, PAX) come out as entries of their
    // own type and are refused below instead of being applied to the next header.

    let mut first = match entries.next() {
        None => return Err(VerifyError::Empty),
        Some(entry) => entry.map_err(|source| VerifyError::Tar { path: None, source })?,
    };
    let (manifest, digest) = manifest_entry(&mut first, expect_digest)?;

    let mut files = Vec::with_capacity(manifest.files.len());
    let mut listed = manifest.files.iter();
    let all_listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for entry in entries {
        let mut entry = entry.map_err(|source| VerifyError::Tar { path: None, source })?;
        let path = entry_path(&entry)?;
        check_entry_type(&entry, &path)?;
        check_path(&path).map_err(|reason| VerifyError::UnsafePath {
            path: path.clone(),
            reason,
        })?;
        let Some(expected) = listed.next() else {
            return Err(VerifyError::Unlisted { path });
        };
        if expected.path != path {
            return Err(if all_listed.contains(path.as_str()) {
                VerifyError::OutOfOrder {
                    path,
                    expected: expected.path.clone(),
                }
            } else {
                VerifyError::Unlisted { path }
            });
        }
        files.push(listed_file(&mut entry, path, expected)?);
    }
    if let Some(missing) = listed.next() {
        return Err(VerifyError::Missing {
            path: missing.path.clone(),
        });
    }
    Ok(VerifiedBundle {
        manifest,
        digest,
        files,
    })
}

/// The first entry: it must be the manifest; returns the parsed manifest and the digest,
/// checked against `expect_digest` before the manifest is even parsed.
fn manifest_entry<R: Read>(
    first: &mut tar::Entry<'_, R>,
    expect_digest: Option<&str>,
) -> Result<(Manifest, String), VerifyError> {
    let path = entry_path(first)?;
    check_entry_type(first, &path)?;
    if path != MANIFEST_PATH {
        return Err(VerifyError::FirstEntry { path });
    }
    let manifest_bytes = read_data(first, &path)?;
    let digest = digest_of(&manifest_bytes);
    if let Some(expected) = expect_digest {
        if !expected.eq_ignore_ascii_case(&digest) {
            return Err(VerifyError::DigestMismatch {
                expected: expected.to_string(),
                actual: digest,
            });
        }
    }
    Ok((parse_manifest(&manifest_bytes)?, digest))
}

/// Reads an entry the manifest lists at this place and checks its size, hash and mode.
fn listed_file<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    path: String,
    expected: &FileEntry,
) -> Result<BundleFile, VerifyError> {
    // Manifest entries were validated by parse_manifest; the mode parses.
    let mode = parse_mode(&expected.mode).expect("mode checked in parse_manifest");
    let header_mode = entry.header().mode().map_err(|source| VerifyError::Tar {
        path: Some(path.clone()),
        source,
    })? & 0o7777;
    let data = read_data(entry, &path)?;
    if data.len() as u64 != expected.size {
        return Err(VerifyError::SizeMismatch {
            path,
            expected: expected.size,
            actual: data.len() as u64,
        });
    }
    let actual = sha256_hex(&data);
    if actual != expected.sha256 {
        return Err(VerifyError::HashMismatch {
            path,
            expected: expected.sha256.clone(),
            actual,
        });
    }
    if header_mode != mode {
        return Err(VerifyError::ModeMismatch {
            path,
            expected: mode,
            actual: header_mode,
        });
    }
    Ok(BundleFile {
        path,
        mode,
        secret: expected.secret,
        sha256: actual,
        data,
    })
}

/// A file to put into a bundle with [`write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// Bundle path, e.g. `rootfs/etc/kubernetes/pki/ca.crt`.
    pub path: String,
    /// Install mode, at most 0o777.
    pub mode: u32,
    pub secret: bool,
    pub data: Vec<u8>,
}

/// The gzip level of written bundles; part of the format's bytes (the
/// gzip header's XFL byte and the deflate output depend on it), so never changed silently.
pub(crate) const GZIP_LEVEL: u32 = 9;

/// Why [`write`] could not make a bundle.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The files or the manifest break a rule that [`verify`] enforces.
    #[error("the bundle would not verify")]
    Invalid(#[source] VerifyError),
    /// A path does not fit a ustar header (a component over 100 bytes, or no split into
    /// prefix and name).
    #[error("entry \"{path}\" does not fit a ustar header")]
    Header {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Writes a bundle per docs/bundle-format.md: `manifest.files` is replaced by the entries of `files`
/// (sorted byte-wise by path), the canonical manifest comes first, then the files; ustar
/// headers with uid/gid 0, user and group `root`, mtime `mtime` (the issue time, seconds
/// since the epoch) and the install mode; gzip with mtime 0, no name, level
/// [`GZIP_LEVEL`]. Returns the `.tgz` bytes and the bundle digest. The result verifies:
/// the same [`limits`] are checked, the size ones before any byte is packed.
pub fn write(
    mut manifest: Manifest,
    mut files: Vec<NewFile>,
    mtime: u64,
) -> Result<(Vec<u8>, String), WriteError> {
    use std::io::Write as _;
    check_unpacked_size(&files).map_err(WriteError::Invalid)?;
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    manifest.files = files
        .iter()
        .map(|f| FileEntry {
            path: f.path.clone(),
            mode: format!("{:04o}", f.mode),
            size: f.data.len() as u64,
            sha256: sha256_hex(&f.data),
            secret: f.secret,
        })
        .collect();
    let manifest_bytes = manifest.to_canonical_bytes();
    // The same checks verify() applies to a manifest: paths, modes, order, conflicts.
    parse_manifest(&manifest_bytes).map_err(WriteError::Invalid)?;

    let mut builder = tar::Builder::new(Vec::new());
    let entries = std::iter::once((MANIFEST_PATH, 0o644, manifest_bytes.as_slice())).chain(
        files
            .iter()
            .map(|f| (f.path.as_str(), f.mode, f.data.as_slice())),
    );
    for (path, mode, data) in entries {
        let header_error = |source| WriteError::Header {
            path: path.to_string(),
            source,
        };
        let mut header = tar::Header::new_ustar();
        header.set_path(path).map_err(header_error)?;
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root").map_err(header_error)?;
        header.set_groupname("root").map_err(header_error)?;
        header.set_mtime(mtime);
        header.set_size(data.len() as u64);
        header.set_cksum();
        // Appending to a Vec cannot fail with an I/O error.
        builder.append(&header, data).expect("tar append to memory");
    }
    let tar_bytes = builder.into_inner().expect("tar finish in memory");
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
    gz.write_all(&tar_bytes).expect("gzip to memory");
    let tgz = gz.finish().expect("gzip to memory");
    if tgz.len() as u64 > limits::MAX_COMPRESSED_BYTES {
        return Err(WriteError::Invalid(VerifyError::Limit {
            what: "file size in bytes",
            limit: limits::MAX_COMPRESSED_BYTES,
        }));
    }
    Ok((tgz, digest_of(&manifest_bytes)))
}

/// The tar size of `files` (each entry a 512-byte header and its data in 512-byte blocks,
/// plus the manifest's and the end-of-archive blocks) against [`limits::MAX_UNPACKED_BYTES`],
/// before anything is packed.
fn check_unpacked_size(files: &[NewFile]) -> Result<(), VerifyError> {
    if files.len() > limits::MAX_ENTRIES {
        return Err(VerifyError::Limit {
            what: "number of files",
            limit: limits::MAX_ENTRIES as u64,
        });
    }
    let blocks = |len: u64| 512 + len.div_ceil(512) * 512;
    let data: u64 = files.iter().map(|f| blocks(f.data.len() as u64)).sum();
    let manifest_estimate = blocks(limits::MAX_MANIFEST_BYTES.min(200 * files.len() as u64));
    if data + manifest_estimate + 1024 > MAX_TAR_BYTES {
        return Err(VerifyError::TooLarge {
            limit: MAX_TAR_BYTES,
        });
    }
    Ok(())
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let mut decoder = flate2::bufread::GzDecoder::new(bytes);
    let mut tar_bytes = Vec::new();
    (&mut decoder)
        .take(MAX_TAR_BYTES + 1)
        .read_to_end(&mut tar_bytes)
        .map_err(VerifyError::Gzip)?;
    if tar_bytes.len() as u64 > MAX_TAR_BYTES {
        return Err(VerifyError::TooLarge {
            limit: MAX_TAR_BYTES,
        });
    }
    // A stream that ends early without an error (no trailer read) is still truncated.
    let rest = decoder.into_inner();
    if !rest.is_empty() {
        return Err(VerifyError::TrailingData(rest.len()));
    }
    Ok(tar_bytes)
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, VerifyError> {
    let raw = entry.path_bytes();
    String::from_utf8(raw.into_owned()).map_err(|e| VerifyError::UnsafePath {
        path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
        reason: "the path is not UTF-8",
    })
}

fn check_entry_type<R: Read>(entry: &tar::Entry<'_, R>, path: &str) -> Result<(), VerifyError> {
    use tar::EntryType;
    let kind = match entry.header().entry_type() {
        EntryType::Regular => return Ok(()),
        EntryType::Symlink => "symbolic link".to_string(),
        EntryType::Link => "hard link".to_string(),
        EntryType::Char => "character device".to_string(),
        EntryType::Block => "block device".to_string(),
        EntryType::Directory => "directory".to_string(),
        EntryType::Fifo => "fifo".to_string(),
        EntryType::GNULongName | EntryType::GNULongLink => "GNU long-name record".to_string(),
        EntryType::XHeader | EntryType::XGlobalHeader => "PAX extension record".to_string(),
        other => format!("tar entry of type {:?}", other.as_byte() as char),
    };
    Err(VerifyError::EntryType {
        path: path.to_string(),
        kind,
    })
}

fn read_data<R: Read>(entry: &mut tar::Entry<'_, R>, path: &str) -> Result<Vec<u8>, VerifyError> {
    let mut data = Vec::new();
    entry
        .read_to_end(&mut data)
        .map_err(|source| VerifyError::Tar {
            path: Some(path.to_string()),
            source,
        })?;
    Ok(data)
}

/// Parses and checks the manifest bytes: JSON, canonical, format, schema, and every file
/// entry's path, mode, hash and order.
pub(crate) fn parse_manifest(bytes: &[u8]) -> Result<Manifest, VerifyError> {
    if bytes.len() as u64 > limits::MAX_MANIFEST_BYTES {
        return Err(VerifyError::Limit {
            what: "manifest size in bytes",
            limit: limits::MAX_MANIFEST_BYTES,
        });
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(VerifyError::ManifestJson)?;
    let format = value.get("format").and_then(|f| f.as_str());
    if format != Some(FORMAT) {
        return Err(VerifyError::UnsupportedFormat {
            found: format.map(str::to_string),
        });
    }
    if canonical_json(&value).as_bytes() != bytes {
        return Err(VerifyError::ManifestNotCanonical);
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(VerifyError::ManifestSchema)?;
    if manifest.files.len() > limits::MAX_ENTRIES {
        return Err(VerifyError::Limit {
            what: "number of files",
            limit: limits::MAX_ENTRIES as u64,
        });
    }

    let mut previous: Option<&str> = None;
    let mut paths = HashSet::new();
    for file in &manifest.files {
        check_path(&file.path).map_err(|reason| VerifyError::UnsafePath {
            path: file.path.clone(),
            reason,
        })?;
        if file.path == MANIFEST_PATH {
            return Err(VerifyError::UnsafePath {
                path: file.path.clone(),
                reason: "the name is reserved for the manifest, which lists every other entry",
            });
        }
        if parse_mode(&file.mode).is_none() {
            return Err(VerifyError::BadMode {
                path: file.path.clone(),
                mode: file.mode.clone(),
            });
        }
        if !is_sha256_hex(&file.sha256) {
            return Err(VerifyError::BadHash {
                path: file.path.clone(),
                value: file.sha256.clone(),
            });
        }
        if let Some(prev) = previous {
            if prev.as_bytes() >= file.path.as_bytes() {
                return Err(VerifyError::NotSorted {
                    path: file.path.clone(),
                    previous: prev.to_string(),
                });
            }
        }
        previous = Some(&file.path);
        paths.insert(file.path.as_str());
    }
    for file in &manifest.files {
        let mut ancestor = file.path.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if paths.contains(parent) {
                return Err(VerifyError::PathConflict {
                    path: file.path.clone(),
                    file: parent.to_string(),
                });
            }
            ancestor = parent;
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn canonical_json_sorts_and_ends_with_newline() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":[1,"x"],"c":null}}"#)
            .expect("test JSON parses");
        assert_eq!(
            canonical_json(&v),
            "{\"a\":{\"c\":null,\"d\":[1,\"x\"]},\"b\":1}\n"
        );
    }

    #[test]
    fn manifest_round_trips_through_canonical_bytes() {
        let manifest = Manifest {
            format: FORMAT.to_string(),
            kbc_version: "0.1.0".to_string(),
            derivation: "kbc-kdf-v1".to_string(),
            kubernetes_version: "v1.31.0".to_string(),
            cluster_name: "kubernetes".to_string(),
            node_name: "cp-1".to_string(),
            control_plane_endpoint: "10.0.0.10:6443".to_string(),
            issued_at: "2026-01-01T00:00:00Z".to_string(),
            config_sha256: sha256_hex(b"config"),
            files: vec![FileEntry {
                path: "rootfs/etc/kubernetes/admin.conf".to_string(),
                mode: "0600".to_string(),
                size: 3,
                sha256: sha256_hex(b"abc"),
                secret: true,
            }],
            apply: serde_json::json!({"phases": ["upload-config"], "a": 1}),
            extra: BTreeMap::from([("zNew".to_string(), serde_json::json!(true))]),
        };
        let bytes = manifest.to_canonical_bytes();
        let text = String::from_utf8(bytes.clone()).expect("JSON is UTF-8");
        assert!(text.starts_with("{\"apply\":{\"a\":1,"), "{text}");
        assert!(text.ends_with(",\"zNew\":true}\n"), "{text}");
        let parsed = parse_manifest(&bytes).expect("canonical manifest parses");
        assert_eq!(parsed, manifest);
        assert_eq!(parsed.to_canonical_bytes(), bytes);
    }

    fn sample_manifest() -> Manifest {
        let bytes = br#"{"apply":{},"clusterName":"kubernetes","configSha256":"","controlPlaneEndpoint":"","derivation":"kbc-kdf-v1","files":[],"format":"kbc.bundle/v1","issuedAt":"2026-01-01T00:00:00Z","kbcVersion":"0.1.0","kubernetesVersion":"v1.31.0","nodeName":"cp-1"}
"#;
        parse_manifest(bytes).expect("sample manifest parses")
    }

    fn new_file(path: &str, mode: u32, data: &[u8]) -> NewFile {
        NewFile {
            path: path.to_string(),
            mode,
            secret: mode == 0o600,
            data: data.to_vec(),
        }
    }

    /// Review A10: the writer refuses what the verifier would refuse, before packing.
    #[test]
    fn the_writer_refuses_a_bundle_over_the_verifiers_limits() {
        // calloc'ed zeros: no page is touched unless something packs them.
        let big = NewFile {
            path: "rootfs/etc/kubernetes/big.conf".into(),
            mode: 0o600,
            secret: true,
            data: vec![0u8; MAX_TAR_BYTES as usize],
        };
        let err = write(sample_manifest(), vec![big], 0).unwrap_err();
        assert!(
            matches!(err, WriteError::Invalid(VerifyError::TooLarge { .. })),
            "{err:?}"
        );
        let many: Vec<NewFile> = (0..=limits::MAX_ENTRIES)
            .map(|i| new_file(&format!("f{i:05}"), 0o644, b""))
            .collect();
        let err = write(sample_manifest(), many, 0).unwrap_err();
        assert!(
            err.source()
                .unwrap()
                .to_string()
                .contains("number of files"),
            "{err:?}"
        );
        let manifest = vec![b' '; limits::MAX_MANIFEST_BYTES as usize + 1];
        assert!(matches!(
            parse_manifest(&manifest),
            Err(VerifyError::Limit { .. })
        ));
        let tgz = vec![0u8; limits::MAX_COMPRESSED_BYTES as usize + 1];
        assert!(matches!(verify(&tgz, None), Err(VerifyError::Limit { .. })));
    }

    #[test]
    fn written_bundles_verify_and_are_deterministic() {
        let files = vec![
            new_file("rootfs/etc/kubernetes/pki/ca.key", 0o600, b"key"),
            new_file("images.txt", 0o644, b"registry.k8s.io/pause:3.10\n"),
            new_file("rootfs/etc/kubernetes/pki/ca.crt", 0o644, b"cert"),
        ];
        let (tgz, digest) = write(sample_manifest(), files.clone(), 1_767_225_600).expect("write");
        let mut reversed = files.clone();
        reversed.reverse();
        let (again, _) = write(sample_manifest(), reversed, 1_767_225_600).expect("write");
        assert_eq!(tgz, again, "input order changed the bytes");
        assert_eq!(&tgz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);

        let verified = verify(&tgz, Some(&digest)).expect("written bundle verifies");
        let paths: Vec<&str> = verified.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "images.txt",
                "rootfs/etc/kubernetes/pki/ca.crt",
                "rootfs/etc/kubernetes/pki/ca.key"
            ]
        );
        assert_eq!(verified.files[2].mode, 0o600);
        assert!(verified.files[2].secret);
        assert_eq!(verified.files[2].data, b"key");
        assert_eq!(
            verified.files[2].rootfs_path(),
            Some("etc/kubernetes/pki/ca.key")
        );
        assert_eq!(verified.files[0].rootfs_path(), None);
    }

    #[test]
    fn write_refuses_what_verify_would_refuse() {
        for files in [
            vec![new_file("../x", 0o644, b"")],
            vec![new_file("/etc/x", 0o644, b"")],
            vec![new_file("a", 0o4755, b"")],
            vec![new_file("a", 0o644, b""), new_file("a", 0o644, b"")],
            vec![new_file("a", 0o644, b""), new_file("a/b", 0o644, b"")],
            vec![new_file(MANIFEST_PATH, 0o644, b"")],
        ] {
            let result = write(sample_manifest(), files.clone(), 0);
            assert!(
                matches!(result, Err(WriteError::Invalid(_))),
                "{files:?}: {result:?}"
            );
        }
        let long = format!("rootfs/{}", "x".repeat(101));
        let result = write(sample_manifest(), vec![new_file(&long, 0o644, b"")], 0);
        assert!(
            matches!(result, Err(WriteError::Header { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0644"), Some(0o644));
        assert_eq!(parse_mode("600"), Some(0o600));
        assert_eq!(parse_mode("4755"), None);
        assert_eq!(parse_mode("0x12"), None);
        assert_eq!(parse_mode("06444"), None);
    }

    #[test]
    fn paths() {
        assert!(check_path("rootfs/etc/kubernetes/admin.conf").is_ok());
        for bad in [
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "./a",
            "a/",
            "",
            "a\\b",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
    }
}
