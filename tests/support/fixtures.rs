//! Loading fixtures, shared by the integration tests (included with `#[path]`, not a test of
//! its own).
#![allow(dead_code)]

use kbc::config::{self, Cluster, LoadOptions, Source};
use std::path::Path;

/// The workspace root (fixtures/ and tests/ live there).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// A file as a [`Source`] named by its path relative to the root, as a user would name it.
pub fn source(path: &Path) -> Source {
    Source {
        name: path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string(),
        text: std::fs::read_to_string(path).unwrap(),
    }
}

/// Loads a configuration that must be valid.
pub fn load(src: &Source) -> Cluster {
    config::load(src, &LoadOptions::default())
        .unwrap_or_else(|r| panic!("{} must be valid:\n{r}", src.name))
        .cluster
}

/// `fixtures/<name>`, loaded.
pub fn fixture(name: &str) -> Cluster {
    load(&source(&root().join("fixtures").join(name)))
}
