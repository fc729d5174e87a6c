//! Reading a file with a size cap, for the bundle and for every input file of kbc: only a
//! regular file (a FIFO would block, a device never ends) of at most `limit` bytes.

use std::io::{self, Read};
use std::path::Path;

use crate::limits::MAX_COMPRESSED_BYTES;

/// The bytes of `path` (symbolic links followed), refused when it is not a regular file or
/// holds more than `limit` bytes.
pub fn read_capped(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Opened without blocking (a FIFO would block `open` itself), then checked on the open
    // descriptor, so a file swapped for a FIFO after a `stat` cannot hang the read.
    // O_NONBLOCK is 0o4000 on Linux (x86_64 and aarch64); on a regular file it changes
    // nothing.
    const O_NONBLOCK: i32 = 0o4000;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    read_to_limit(file, limit)
}

/// Everything `reader` yields (a file, standard input), refused past `limit` bytes.
pub fn read_to_limit(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {}, the limit for this file", human(limit)),
        ));
    }
    Ok(bytes)
}

/// A bundle file's bytes (at most [`MAX_COMPRESSED_BYTES`]).
pub fn read_bundle(path: &Path) -> io::Result<Vec<u8>> {
    read_capped(path, MAX_COMPRESSED_BYTES)
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_bounded_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_capped(&f, 5).unwrap(), b"12345");
        let e = read_capped(&f, 4).unwrap_err();
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");
        let e = read_capped(dir.path(), 4).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(read_capped(Path::new("/dev/zero"), 4).is_err());
    }
}
