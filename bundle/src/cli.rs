//! The command-line conventions both binaries share: shell completions and man pages
//! generated from a binary's own clap definition (`kbc completions SHELL`, `kbc manpages
//! DIR`), and the `--output text|json` choice of the commands CI reads (docs/json-output.md).

use std::io;
use std::path::{Path, PathBuf};

pub use clap_complete::Shell;

/// `--output text|json` (alias `--output-format`). JSON documents carry `apiVersion:
/// kbc.output/v1` and a `kind`; their fields are documented in docs/json-output.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people: the plain text (never colored).
    #[default]
    Text,
    /// One JSON document, pretty-printed, ending with a newline.
    Json,
}

/// The `apiVersion` of every JSON document kbc and kbc-apply print.
pub const OUTPUT_API_VERSION: &str = "kbc.output/v1";

/// `value` as pretty JSON with a final newline (4-space indent, like kubectl's and kubeadm's
/// JSON printers).
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    // Serializing plain data structs into memory cannot fail; an empty string if it did.
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    buf.push(b'\n');
    String::from_utf8(buf).unwrap_or_default()
}

/// The completion script of `cmd` for `shell`, for the binary named as `cmd` is.
pub fn completions(mut cmd: clap::Command, shell: Shell) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    if shell == Shell::Bash && name.contains('-') {
        // clap_complete's bash script never completes past the subcommand of a hyphenated
        // binary name (clap-rs/clap#6421, open): generate it for `kbc_apply`, then register
        // it for the real name.
        let underscored = name.replace('-', "_");
        clap_complete::generate(shell, &mut cmd, &underscored, &mut script);
        let text = String::from_utf8_lossy(&script)
            .replace(&format!(" {underscored}\n"), &format!(" {name}\n"));
        return text.into_bytes();
    }
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    script
}

/// One roff page per visible command, as clap_mangen names them: `kbc.1`, `kbc-compile.1`,
/// `kbc-config-view.1`, … Pages carry no date, so they are reproducible.
pub(crate) fn man_pages(cmd: clap::Command) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    // build() gives every subcommand its display name ("kbc-config-view").
    cmd.build();
    let mut pages = Vec::new();
    collect(&cmd, &mut pages)?;
    Ok(pages)
}

fn collect(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render(&mut page)?;
    pages.push((man.get_filename(), page));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, pages)?;
    }
    Ok(())
}

/// Writes [`man_pages`] into `dir` (created if needed), each atomically with mode 0644;
/// returns the paths written.
pub fn write_man_pages(cmd: clap::Command, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, page) in man_pages(cmd)? {
        let path = dir.join(name);
        crate::atomic::write(&path, &page, 0o644)?;
        written.push(path);
    }
    Ok(written)
}
