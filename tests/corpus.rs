//! Real configurations from public repositories (`fixtures/corpus/`, origins and kubeadm
//! 1.31's verdict per file in its INDEX.md): in lenient mode kbc agrees with kubeadm's
//! verdict; every accepted file compiles and all its static Pods and API objects validate
//! against the Kubernetes 1.31 schemas; every refusal names the file, line and field; where
//! kbc deliberately refuses what kubeadm accepts, the error says that kubeadm would accept it.

use crate::common::{kbc, root};
use std::collections::BTreeSet;

/// The node facts kubeadm would look up on the host.
const NODE_FACTS: [&str; 4] = ["--node-name", "cp-1", "--advertise-address", "10.0.0.5"];
const SECRETS: &str = "fixtures/secrets/test-secrets.yaml";
const AT: &str = "2026-11-25T12:00:00Z";

/// One row of INDEX.md.
#[derive(Debug)]
struct Entry {
    file: String,
    repo: String,
    commit: String,
    kubeadm_accepts: bool,
    kbc_deliberately_refuses: bool,
    /// The field a refusal must name; `None` for `—`.
    field: Option<String>,
}

fn index() -> Vec<Entry> {
    let text = std::fs::read_to_string(root().join("fixtures/corpus/INDEX.md")).unwrap();
    let mut entries = Vec::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(".yaml |"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 10, "INDEX.md row: {line}");
        let verdict = cells[7];
        assert!(
            verdict.starts_with("accept") || verdict.starts_with("refuse"),
            "{line}"
        );
        assert!(
            matches!(cells[8], "agrees" | "refuses (deliberate)"),
            "{line}"
        );
        entries.push(Entry {
            file: cells[0].to_string(),
            repo: cells[1].to_string(),
            commit: cells[3].to_string(),
            kubeadm_accepts: verdict.starts_with("accept"),
            kbc_deliberately_refuses: cells[8] == "refuses (deliberate)",
            field: match cells[9] {
                "" | "—" => None,
                f => Some(f.to_string()),
            },
        });
    }
    entries
}

fn path_of(e: &Entry) -> String {
    format!("fixtures/corpus/{}", e.file)
}

#[test]
fn the_index_covers_every_file_from_enough_repositories() {
    let entries = index();
    let listed: BTreeSet<&str> = entries.iter().map(|e| e.file.as_str()).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("fixtures/corpus"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    assert_eq!(
        listed,
        on_disk.iter().map(String::as_str).collect(),
        "INDEX.md and the files differ"
    );
    assert!(entries.len() >= 25, "{} files", entries.len());
    let repos: BTreeSet<&str> = entries.iter().map(|e| e.repo.as_str()).collect();
    assert!(repos.len() >= 15, "{} repositories", repos.len());
    for e in &entries {
        assert_eq!(e.commit.len(), 40, "{}: commit", e.file);
        assert!(e.repo.contains('/'), "{}: repo", e.file);
    }
    // Both API versions and both verdicts are represented.
    let text = std::fs::read_to_string(root().join("fixtures/corpus/INDEX.md")).unwrap();
    for needle in ["| v1beta3 |", "| v1beta4 |", "| accept", "| refuse"] {
        assert!(text.contains(needle), "{needle}");
    }
}

#[test]
fn lenient_kbc_gives_kubeadms_verdict_and_refusals_are_located() {
    for e in index() {
        let path = path_of(&e);
        let mut args = vec![
            "config",
            "validate",
            "--allow-unknown-fields",
            path.as_str(),
        ];
        args.extend_from_slice(&NODE_FACTS);
        let out = kbc(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        let kbc_accepts = e.kubeadm_accepts && !e.kbc_deliberately_refuses;
        if kbc_accepts {
            assert_eq!(out.status.code(), Some(0), "{}: {err}", e.file);
            assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n", "{}", e.file);
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{}: {err}", e.file);
        // The file, line and column of the first error.
        let error_at = err
            .split("\nerror: ")
            .chain(err.strip_prefix("error: "))
            .find_map(|block| {
                block
                    .lines()
                    .find_map(|l| l.trim().strip_prefix(&format!("--> {path}:")))
            });
        let location = error_at.unwrap_or_else(|| panic!("{}: no located error in {err}", e.file));
        let line: usize = location.split(':').next().unwrap().parse().unwrap();
        assert!(line > 0, "{}: {location}", e.file);
        if let Some(field) = &e.field {
            assert!(
                err.contains(&format!("error: {field}:")),
                "{}: the error does not name {field}: {err}",
                e.file
            );
        }
        if e.kbc_deliberately_refuses {
            assert!(
                err.contains("kubeadm 1.31 would accept it"),
                "{}: a deliberate refusal must say kubeadm would accept the file: {err}",
                e.file
            );
        }
    }
}

#[test]
fn every_accepted_file_compiles_and_its_objects_validate() {
    let dir = tempfile::tempdir().unwrap();
    let accepted: Vec<Entry> = index()
        .into_iter()
        .filter(|e| e.kubeadm_accepts && !e.kbc_deliberately_refuses)
        .collect();
    assert!(accepted.len() >= 20, "{}", accepted.len());
    let bundles: Vec<(String, Vec<u8>)> = accepted
        .iter()
        .map(|e| (e.file.clone(), compile(e, dir.path())))
        .collect();
    let mut files = Vec::new();
    for (name, bundle) in &bundles {
        let verified =
            kbc_bundle::verify(bundle, None).unwrap_or_else(|err| panic!("{name}: {err}"));
        for (i, f) in verified
            .files
            .iter()
            .filter(|f| {
                f.path.starts_with("api/") || f.path.starts_with("rootfs/etc/kubernetes/manifests/")
            })
            .enumerate()
        {
            let file = dir.path().join(format!("{name}-{i}.yaml"));
            std::fs::write(&file, &f.data).unwrap();
            files.push(file.display().to_string());
        }
    }
    assert!(files.len() > 10 * accepted.len(), "{}", files.len());
    crate::common::kubernetes_validate(&files);
}

/// Compiles one corpus file (with `--upload-certs`, so its objects are validated too), in
/// this process: the bundle's bytes.
fn compile(e: &Entry, dir: &std::path::Path) -> Vec<u8> {
    let path = path_of(e);
    let out = dir.join(format!("{}.tgz", e.file));
    let mut args = vec![
        "compile",
        path.as_str(),
        "--allow-unknown-fields",
        "--secrets",
        SECRETS,
        "--issued-at",
        AT,
        "--upload-certs",
        // A file with JoinConfiguration documents is a cluster file: its first node's bundle.
        "--node",
        NODE_FACTS[1],
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&NODE_FACTS);
    crate::common::compile_bundle_in_process(&args)
}
