//! The flags `kbc compile`, `kbc render` and `kbc diff` share, and the one step that turns
//! them into what the library takes (ripgrep's LowArgs → HiArgs): the validated
//! [`Cluster`] and the [`CompileOptions`]. Every file these commands read besides the
//! secrets is read here: the configuration, the patches and `--pki-dir`.

use std::path::PathBuf;

use clap::Args;

use super::config::load_source;
use super::init_flags::InitFlags;
use super::node::NodeArgs;
use super::{refuse, Exit};
use crate::compile::CompileOptions;
use crate::config::join::JoinNode;
use crate::config::Cluster;
use crate::nodes::NodePatches;
use crate::pki::Provided;
use crate::render::patches::PatchSet;

#[derive(Debug, Clone, Args)]
pub struct ClusterInputs {
    /// The cluster secrets file (`kbc secrets generate`). compile derives every key from its
    /// seed (without it: a one-off random seed, and the bundle is not reproducible); render
    /// and diff read only its CA pairs and external etcd files, never the seed.
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Reuse the certificates and kubeconfigs of an existing kubeadm certificates dir (render
    /// and diff show them, compile checks them).
    #[arg(long)]
    pub pki_dir: Option<PathBuf>,
    #[command(flatten)]
    pub init: InitFlags,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// What the flags resolve to.
pub struct Resolved {
    /// The init node.
    pub cluster: Cluster,
    /// The further nodes of a cluster file (docs/clusters.md), in file order.
    pub joins: Vec<JoinNode>,
    /// Each joining node's patches (`patches.directory` of its JoinConfiguration).
    pub node_patches: NodePatches,
    /// Everything but the thread count, which only compile needs.
    pub options: CompileOptions,
    /// What the command prints to standard error before its work: the configuration's
    /// warnings and the patch files kubeadm would ignore ([`Resolved::warn`]).
    pub warnings: Vec<String>,
}

impl Resolved {
    /// Prints the warnings, one per line, on standard error.
    pub fn warn(&self) {
        for w in &self.warnings {
            errln!("{w}");
        }
    }
}

impl ClusterInputs {
    /// Loads and validates the configuration (CONFIG, `--config`, or the kubeadm init flags)
    /// with the node facts, the patches and `--pki-dir`; the warnings are returned, not
    /// printed.
    pub fn resolve(&self, config: Option<&str>) -> Result<Resolved, Exit> {
        let src = self.init.source(config)?;
        let loaded = load_source(&src, &self.node, self.init.skip_phases.clone())?;
        let mut warnings: Vec<String> = loaded.warnings.warnings().map(|w| w.to_string()).collect();
        let cluster = loaded.cluster;
        let patches = self.patches(&cluster, &mut warnings)?;
        let mut node_patches = NodePatches::new();
        for node in &loaded.joins {
            let dir = node.config.patches.as_ref().map(|p| p.directory.as_str());
            if let Some(dir) = dir.filter(|d| !d.is_empty()) {
                node_patches.insert(
                    node.label.clone(),
                    load_patch_dir(std::path::Path::new(dir), &mut warnings)?,
                );
            }
        }
        let provided = match &self.pki_dir {
            Some(d) => {
                crate::edge::read_pki_dir(d, &cluster.pki_input()).map_err(|e| refuse(&e))?
            }
            None => Provided::default(),
        };
        let mut options = CompileOptions {
            provided,
            patches,
            upload_certs: self.init.upload_certs,
            skip_token_print: self.init.skip_token_print,
            skip_certificate_key_print: self.init.skip_certificate_key_print,
            ..CompileOptions::default()
        };
        self.node.apply_host(&mut options);
        Ok(Resolved {
            cluster,
            joins: loaded.joins,
            node_patches,
            options,
            warnings,
        })
    }

    /// kubeadm's patches: `--patches DIR`, else the configuration's `patches.directory`.
    fn patches(&self, cluster: &Cluster, warnings: &mut Vec<String>) -> Result<PatchSet, Exit> {
        let dir =
            (self.init.patches.clone()).or_else(|| cluster.patches_dir.as_ref().map(PathBuf::from));
        match &dir {
            Some(dir) => load_patch_dir(dir, warnings),
            None => Ok(PatchSet::default()),
        }
    }
}

/// kubeadm's patches of one directory, with a warning for each file it ignores.
fn load_patch_dir(dir: &std::path::Path, warnings: &mut Vec<String>) -> Result<PatchSet, Exit> {
    let patches = crate::edge::load_patches(dir).map_err(|e| refuse(&e))?;
    for ignored in patches.ignored() {
        warnings.push(format!(
            "warning: patches: ignoring {}: {}",
            ignored.path.display(),
            ignored.reason
        ));
    }
    Ok(patches)
}
