//! The size limits of the bundle format, one definition shared by the writer (`kbc compile`
//! refuses to make a bundle the verifier would refuse) and the verifier (`kbc-apply`,
//! `kbc inspect`). Real bundles are well under a megabyte and hold a few dozen files; the
//! limits only keep hostile input from filling memory or disk.
//!
//! The input limits bound what kbc reads from the user's files (configuration, secrets,
//! patches, `--pki-dir`): each is far above any real file, and small enough that the bundle
//! made from them stays inside the bundle limits.

/// Largest `.tgz` file read as a bundle.
pub(crate) const MAX_COMPRESSED_BYTES: u64 = 64 << 20;
/// Largest decompressed (tar) size of a bundle.
pub(crate) const MAX_UNPACKED_BYTES: u64 = 256 << 20;
/// Most files a bundle may hold (the manifest not counted).
pub(crate) const MAX_ENTRIES: usize = 4096;
/// Largest manifest (`kbc-bundle.json`).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// Largest single input file kbc reads (a configuration, a secrets file, a patch, a file of
/// `--pki-dir`). A kubeadm configuration is a few kilobytes.
pub const MAX_INPUT_FILE_BYTES: u64 = 1 << 20;
/// Largest sum of all patch files of one `--patches` directory.
pub const MAX_PATCH_DIR_BYTES: u64 = 8 << 20;
