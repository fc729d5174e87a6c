//! `kbc compile CLUSTER.yaml -o DIR` (and `--node NAME -o FILE`): every node's bundle of a
//! cluster file, written only once all of them compiled (docs/clusters.md).

use super::{write_output, CompileArgs, Done, Job, Summary};
use crate::cli::inputs::Resolved;
use crate::cli::{refuse, Exit, EXIT_REFUSED};
use crate::nodes::{self, ClusterIndex, NodeBundle, INDEX_FILE};
use kbc_bundle::cli::OutputFormat;

/// Compiles every node, then writes what `a` asks for; the summary is returned, not printed.
pub(crate) fn write(a: &CompileArgs, job: &Job) -> Result<Done, Exit> {
    let r = &job.resolved;
    if a.node.is_none() && a.output.extension().is_some_and(|e| e == "tgz") {
        errln!(
            "error: {}: this cluster file describes {} nodes, so -o names a directory\n  = hint: pass -o DIR for every bundle, or --node NAME -o FILE for one",
            a.output.display(),
            r.joins.len() + 1
        );
        return Err(Exit(EXIT_REFUSED));
    }
    let bundles = nodes::compile_cluster(
        &r.cluster,
        &r.joins,
        &job.secrets,
        job.at,
        &job.opts,
        &r.node_patches,
    )
    .map_err(|e| refuse(&e))?;
    let mut warnings = Vec::new();
    for b in &bundles {
        for w in &b.compiled.warnings {
            warnings.push(format!("warning: {}: {w}", b.name));
        }
    }
    let mut written = Vec::new();
    for b in &bundles {
        let (bytes, digest) = job.bundle_bytes(&b.compiled)?;
        written.push(Written {
            node: b,
            digest,
            bytes,
        });
    }
    let summary = match &a.node {
        Some(name) => one_node(a, r, &written, name)?,
        None => whole_cluster(a, r, &written)?,
    };
    Ok(Done { warnings, summary })
}

/// One node's bundle, written into bytes.
struct Written<'a> {
    node: &'a NodeBundle,
    digest: String,
    bytes: Vec<u8>,
}

/// `--node NAME -o FILE`: that node's bundle and its summary.
fn one_node(
    a: &CompileArgs,
    r: &Resolved,
    written: &[Written<'_>],
    name: &str,
) -> Result<String, Exit> {
    let Some(Written {
        node: b,
        digest,
        bytes,
    }) = written.iter().find(|w| w.node.name == name)
    else {
        let names: Vec<&str> = written.iter().map(|w| w.node.name.as_str()).collect();
        errln!(
            "error: --node {name:?}: the cluster file has no such node\n  = hint: its nodes are {}",
            names.join(", ")
        );
        return Err(Exit(EXIT_REFUSED));
    };
    write_output(&a.output, bytes, 0o600)?;
    let key_hex = crate::render::upload_certs::certificate_key_hex(&b.compiled.certificate_key);
    let mut summary = Summary::new(&r.cluster, &b.compiled, a, (digest, bytes.len()), &key_hex);
    summary.node = b.name.clone();
    Ok(summary.render(a.output_format))
}

/// `-o DIR`: every bundle and `cluster.json`.
fn whole_cluster(a: &CompileArgs, r: &Resolved, written: &[Written<'_>]) -> Result<String, Exit> {
    let dir = &a.output;
    if let Err(e) = crate::edge::create_output_dir(dir) {
        errln!("error: cannot create {}: {e}", dir.display());
        return Err(Exit(EXIT_REFUSED));
    }
    for Written { node: b, bytes, .. } in written {
        write_output(&dir.join(format!("{}.tgz", b.name)), bytes, 0o600)?;
    }
    let digests: Vec<(&NodeBundle, String)> =
        written.iter().map(|w| (w.node, w.digest.clone())).collect();
    let index = ClusterIndex::new(&r.cluster, &r.joins, &digests);
    let json = index.to_json();
    write_output(&dir.join(INDEX_FILE), json.as_bytes(), 0o644)?;
    Ok(match a.output_format {
        OutputFormat::Json => kbc_bundle::cli::to_json(&ClusterSummary {
            api_version: kbc_bundle::cli::OUTPUT_API_VERSION,
            kind: "ClusterSummary",
            directory: dir.display().to_string(),
            index: &index,
        }),
        OutputFormat::Text => {
            let mut text = String::new();
            for n in &index.nodes {
                text.push_str(&format!(
                    "{}  {}/{} ({})\n",
                    n.digest,
                    dir.display(),
                    n.bundle,
                    n.role
                ));
            }
            text.push_str(&format!("{}/{INDEX_FILE}\n", dir.display()));
            text
        }
    })
}

/// `kbc compile CLUSTER -o DIR --output-format json` (docs/json-output.md).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSummary<'a> {
    api_version: &'static str,
    kind: &'static str,
    directory: String,
    #[serde(flatten)]
    index: &'a ClusterIndex,
}
