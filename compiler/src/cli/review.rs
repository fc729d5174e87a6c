//! `kbc render`, `kbc inspect` and `kbc diff`: the public review rendering
//! ([`crate::review`]) of a configuration (planned without keys) or of a bundle.

use super::inputs::{ClusterInputs, Resolved};
use super::{refuse, Exit, EXIT_REFUSED};
use crate::compile;
use crate::inspect::{Inspection, Refusal};
use crate::review::{self, ReviewInput};
use clap::Args;
use kbc_bundle::cli::OutputFormat;
use std::path::PathBuf;

/// `kbc diff --exit-code` when the renderings differ.
pub(crate) const EXIT_DIFFERENT: i32 = 3;

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The kubeadm configuration file (`-` for standard input); without one, the kubeadm init
    /// flags describe the cluster.
    #[arg(id = "config_file", value_name = "CONFIG")]
    pub config: Option<String>,
    #[command(flatten)]
    pub options: ClusterInputs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The bundle (`bundle.tgz`), or a cluster's directory (`cluster.json` and its bundles,
    /// each checked against the digest cluster.json records).
    pub bundle: PathBuf,
    /// Refuse the bundle unless its digest is this `sha256:<hex>`.
    #[arg(long)]
    pub digest: Option<String>,
    /// text, or json: one `BundleInspection` document (docs/json-output.md).
    #[arg(
        long = "output",
        visible_alias = "output-format",
        value_enum,
        default_value_t
    )]
    pub output: OutputFormat,
}

pub(crate) const DIFF_AFTER_HELP: &str = "\
Each input is a bundle if it starts with the gzip magic bytes (1f 8b), else a configuration;
a configuration is planned as `kbc render` does, with the flags given here. A configuration
and a bundle can be compared. A bundle is verified; its rendering is compared without the
header `kbc inspect` adds (digest, dates, JWS).

Exit codes:
  0  done, whether or not the renderings differ (an empty output means they are equal)
  1  input refused (configuration or bundle)
  2  usage error (unknown command or flag, missing argument)
  3  with --exit-code only: the renderings differ

kbc keeps 1 for refused input (unlike diff(1)), so a CI step that should fail on any
difference passes --exit-code, or checks that the output is empty.";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side: a configuration or a bundle.
    pub a: String,
    /// The new side: a configuration or a bundle.
    pub b: String,
    /// Lines of context around each change.
    #[arg(short = 'U', long, default_value_t = 3)]
    pub context: usize,
    /// Exit 3 when the renderings differ; by default kbc exits 0 either way.
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    pub options: ClusterInputs,
}

/// The rendering of a configuration, planned without keys; of a cluster file, every node's
/// in join order under a [`node_heading`].
pub(crate) fn render_config(config: Option<&str>, o: &ClusterInputs) -> Result<String, Exit> {
    let resolved = o.resolve(config)?;
    resolved.warn();
    let Resolved {
        cluster,
        options,
        joins,
        node_patches,
        ..
    } = resolved;
    let secrets = match &o.secrets {
        Some(path) => Some(crate::edge::load_secrets(path).map_err(|e| refuse(&e))?),
        None => None,
    };
    let planned =
        compile::plan_bundle(&cluster, &options, secrets.as_ref()).map_err(|e| refuse(&e))?;
    for w in &planned.warnings {
        errln!("warning: {w}");
    }
    let init = review::render(&ReviewInput::from_plan(&planned));
    if joins.is_empty() {
        return Ok(init);
    }
    let mut out = cluster_title(joins.len() + 1);
    out.push_str(&node_heading(1, cluster.node_name(), "init"));
    out.push_str(&init);
    for (i, node) in joins.iter().enumerate() {
        let p = crate::nodes::plan_join(
            &cluster,
            &joins[..i],
            node,
            &options,
            &node_patches,
            secrets.as_ref(),
        )
        .map_err(|e| refuse(&e))?;
        let role = match node.role {
            crate::pki::NodeRole::Worker => "worker",
            _ => "control-plane",
        };
        out.push_str(&node_heading(i + 2, &node.bundle_name(), role));
        out.push_str(&review::render(&ReviewInput::from_plan(&p)));
    }
    Ok(out)
}

/// The first line of a cluster's rendering.
fn cluster_title(nodes: usize) -> String {
    format!("# kbc cluster: {nodes} nodes, in join order\n")
}

/// The line before each node's rendering in a cluster's rendering.
pub(crate) fn node_heading(order: usize, name: &str, role: &str) -> String {
    format!("\n######## node {order}: {name} ({role})\n")
}

/// `kbc inspect DIR`: every bundle of `cluster.json`, in its order.
fn inspect_cluster(dir: &std::path::Path, format: OutputFormat) -> Result<String, Exit> {
    let index_path = dir.join(crate::nodes::INDEX_FILE);
    let text = crate::edge::read_input(&index_path).map_err(|e| {
        errln!("error: cannot read {}: {e}", index_path.display());
        Exit(EXIT_REFUSED)
    })?;
    let index: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        errln!(
            "error: {}: not a kbc cluster index: {e}",
            index_path.display()
        );
        Exit(EXIT_REFUSED)
    })?;
    let nodes = index["nodes"].as_array().cloned().unwrap_or_default();
    let mut out = cluster_title(nodes.len());
    let mut json = Vec::new();
    for n in &nodes {
        let field = |k: &str| n[k].as_str().unwrap_or_default().to_string();
        let path = dir.join(field("bundle")).display().to_string();
        let bundle = verify(&path, Some(&field("digest")), format)?;
        let inspection = Inspection::of(&bundle);
        out.push_str(&node_heading(
            n["order"].as_u64().unwrap_or(0) as usize,
            &field("name"),
            &field("role"),
        ));
        out.push_str(&inspection.to_text());
        json.push(inspection);
    }
    Ok(match format {
        OutputFormat::Text => out,
        OutputFormat::Json => kbc_bundle::cli::to_json(&json),
    })
}

fn read(path: &str) -> Result<Vec<u8>, Exit> {
    crate::edge::read_bundle(std::path::Path::new(path)).map_err(|e| {
        errln!("error: cannot read {path:?}: {e}");
        Exit(EXIT_REFUSED)
    })
}

/// Reads and verifies a bundle; a refusal is also reported on stdout, in `format`.
fn verify(
    path: &str,
    digest: Option<&str>,
    format: OutputFormat,
) -> Result<kbc_bundle::VerifiedBundle, Exit> {
    let bytes = read(path)?;
    kbc_bundle::verify(&bytes, digest).map_err(|e| {
        let report = match format {
            OutputFormat::Text => format!("# kbc inspect\nverification: refused: {e}\n"),
            OutputFormat::Json => kbc_bundle::cli::to_json(&Refusal::new(&e)),
        };
        // The refusal wins over a closed stdout: exit 1 either way.
        let _ = super::out(&report);
        refuse(&e)
    })
}

pub(crate) fn render(a: RenderArgs) -> Result<(), Exit> {
    super::out(&render_config(a.config.as_deref(), &a.options)?)?;
    Ok(())
}

pub(crate) fn inspect(a: InspectArgs) -> Result<(), Exit> {
    if a.bundle.is_dir() {
        return super::out(&inspect_cluster(&a.bundle, a.output)?);
    }
    let path = a.bundle.display().to_string();
    let bundle = verify(&path, a.digest.as_deref(), a.output)?;
    let inspection = Inspection::of(&bundle);
    super::out(&match a.output {
        OutputFormat::Text => inspection.to_text(),
        OutputFormat::Json => kbc_bundle::cli::to_json(&inspection),
    })
}

/// A bundle's or a configuration's rendering, chosen by content (gzip magic → bundle).
fn rendering(path: &str, o: &ClusterInputs) -> Result<String, Exit> {
    let is_bundle = path != "-" && crate::edge::is_gzip(std::path::Path::new(path));
    if is_bundle {
        let bundle = verify(path, None, OutputFormat::Text)?;
        Ok(review::render(&ReviewInput::from_bundle(&bundle)))
    } else {
        render_config(Some(path), o)
    }
}

pub(crate) fn diff(a: DiffArgs) -> Result<(), Exit> {
    let old = rendering(&a.a, &a.options)?;
    let new = rendering(&a.b, &a.options)?;
    if old == new {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(&old, &new);
    super::out(
        &diff
            .unified_diff()
            .context_radius(a.context)
            .header(&a.a, &a.b)
            .to_string(),
    )?;
    if a.exit_code {
        return Err(Exit(EXIT_DIFFERENT));
    }
    Ok(())
}
