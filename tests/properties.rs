//! Short property tests of the fuzz targets' entry points (`fuzz/entry.rs`), so that
//! `cargo test` exercises the same code paths as the fuzzers: arbitrary bytes, and
//! fixtures with random bytes changed, inserted or cut, must never panic.

#[path = "../fuzz/entry.rs"]
mod entry;

use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name);
    std::fs::read(path).unwrap()
}

/// `base` with up to 8 edits: a byte replaced, inserted or removed at a random place.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8).prop_map(
        move |edits| {
            let mut out = base.clone();
            for (at, byte, kind) in edits {
                let i = at.index(out.len() + 1);
                match kind {
                    0 if i < out.len() => out[i] = byte,
                    1 => out.insert(i, byte),
                    _ if i < out.len() => {
                        out.remove(i);
                    }
                    _ => out.push(byte),
                }
            }
            out
        },
    )
}

fn with_prefix(prefix: u8, mut rest: Vec<u8>) -> Vec<u8> {
    rest.insert(0, prefix);
    rest
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn config_never_panics(mode in 0..2u8, data in mutated(fixture("dual-stack.yaml"))) {
        entry::config(&with_prefix(mode, data));
    }

    #[test]
    fn config_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        entry::config(&data);
    }

    #[test]
    fn secrets_never_panic(data in mutated(fixture("secrets/test-secrets.yaml"))) {
        entry::secrets(&data);
    }

    #[test]
    fn bundle_verify_never_panics(data in mutated(fixture("bundles/single-node.tgz"))) {
        entry::bundle_verify(&data);
    }

    #[test]
    fn patches_never_panic(pick in 0..8u8, data in mutated(br#"[{"op": "copy", "from": "/metadata", "path": "/spec/m"}, {"op": "add", "path": "/metadata/labels/x", "value": "y"}]"#.to_vec())) {
        entry::patches(&with_prefix(pick, data));
    }

    #[test]
    fn pem_never_panics(data in mutated(fixture("secrets/test-secrets.yaml"))) {
        entry::pem(&data);
    }
}

/// Every input a fuzzer found a crash with (`tests/fuzz-regressions/<target>/`), run through
/// its entry point again: none may panic now.
#[test]
fn fuzz_regressions_no_longer_crash() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz-regressions");
    type EntryPoint = fn(&[u8]);
    let targets: [(&str, EntryPoint); 5] = [
        ("config", entry::config),
        ("secrets", entry::secrets),
        ("bundle_verify", entry::bundle_verify),
        ("patches", entry::patches),
        ("pem", entry::pem),
    ];
    let mut n = 0;
    for (name, run) in targets {
        let Ok(files) = std::fs::read_dir(dir.join(name)) else {
            continue;
        };
        for f in files {
            run(&std::fs::read(f.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(n >= 1, "no regression inputs found in {}", dir.display());
}
