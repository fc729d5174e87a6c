//! The compiler's file I/O at the edges: reading the user's input files with a size cap, and
//! writing output files so that a failure never leaves a partial file behind.

use std::io;
use std::path::Path;

use kbc_bundle::limits::MAX_INPUT_FILE_BYTES;

/// Writes `bytes` to `path` atomically with `mode` (see [`kbc_bundle::atomic`]), after
/// removing temporary files that a killed earlier run left in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    kbc_bundle::atomic::sweep(dir)?;
    kbc_bundle::atomic::write(path, bytes, mode)
}

/// Reads a user's input file as UTF-8 text: a regular file (a FIFO or a device would block
/// or never end) of at most [`MAX_INPUT_FILE_BYTES`].
pub fn read_input(path: &Path) -> io::Result<String> {
    utf8_text(read_input_bytes(path)?)
}

/// Standard input as UTF-8 text, at most [`MAX_INPUT_FILE_BYTES`].
pub fn read_stdin() -> io::Result<String> {
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
pub fn read_input_bytes(path: &Path) -> io::Result<Vec<u8>> {
    kbc_bundle::file::read_capped(path, MAX_INPUT_FILE_BYTES)
}
