//! `kbc config ...`: validate, view, print init-defaults, migrate, images list.

use super::node::NodeArgs;
use super::{Exit, EXIT_REFUSED};
use crate::config::wire::v1beta4::{BootstrapToken, ClusterConfiguration, InitConfiguration};
use crate::config::{self, cluster, component, defaults, release, Report, Source};
use crate::yaml::ser::{join_documents, to_yaml};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file; prints `ok` and any warnings, or every problem found.
    Validate(InputArgs),
    /// Print the defaulted, normalized v1beta4 documents, in a fixed order.
    View(InputArgs),
    /// Print kubeadm 1.31's default configuration.
    #[command(subcommand)]
    Print(PrintCommand),
    /// Convert a v1beta3 (or v1beta4) file to v1beta4, as `kubeadm config migrate`.
    Migrate(MigrateArgs),
    /// The images the cluster needs.
    #[command(subcommand)]
    Images(ImagesCommand),
}

#[derive(Debug, Subcommand)]
pub enum PrintCommand {
    /// The InitConfiguration and ClusterConfiguration kubeadm starts from.
    InitDefaults {
        /// Also print these component configs: KubeletConfiguration, KubeProxyConfiguration.
        #[arg(long, value_delimiter = ',')]
        component_configs: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// One image per line, in kubeadm's order.
    List {
        #[arg(long)]
        config: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// A configuration file and the values that replace kubeadm's host look-ups.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// The kubeadm configuration file (`-` for standard input).
    pub file: String,
    #[command(flatten)]
    pub node: NodeArgs,
    /// Phases to skip, set by commands that take --skip-phases (replaces skipPhases).
    #[arg(skip)]
    pub skip_phases: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[arg(long)]
    pub old_config: String,
    /// Write here (atomically) instead of standard output.
    #[arg(long)]
    pub new_config: Option<PathBuf>,
    #[command(flatten)]
    pub node: NodeArgs,
}

pub(crate) fn run(cmd: ConfigCommand) -> Result<(), Exit> {
    match cmd {
        ConfigCommand::Validate(a) => {
            let loaded = load(&a)?;
            print_warnings(&loaded.warnings);
            super::out("ok\n")?;
            Ok(())
        }
        ConfigCommand::View(a) => {
            let loaded = load(&a)?;
            print_warnings(&loaded.warnings);
            let c = &loaded.cluster;
            super::out(&config::documents(
                &c.init,
                &c.config,
                Some((&c.kubelet, &c.kube_proxy)),
            ))?;
            Ok(())
        }
        ConfigCommand::Print(PrintCommand::InitDefaults { component_configs }) => {
            super::out(&init_defaults(&component_configs)?)?;
            Ok(())
        }
        ConfigCommand::Migrate(a) => migrate(a),
        ConfigCommand::Images(ImagesCommand::List { config, node }) => images(config, &node),
    }
}

/// Reads and validates a file, printing the report and refusing on errors.
pub(crate) fn load(a: &InputArgs) -> Result<config::Loaded, Exit> {
    load_source(&read_source(&a.file)?, &a.node, a.skip_phases.clone())
}

/// Validates a configuration with the node facts, printing the report and refusing on errors.
pub(crate) fn load_source(
    src: &Source,
    node: &NodeArgs,
    skip_phases: Option<Vec<String>>,
) -> Result<config::Loaded, Exit> {
    config::load(src, &node.load_options(skip_phases)).map_err(|report| {
        super::err_out(&report.to_string());
        Exit(EXIT_REFUSED)
    })
}

pub(crate) fn read_source(path: &str) -> Result<Source, Exit> {
    crate::edge::read_source(path).map_err(|e| {
        errln!("error: cannot read {path:?}: {e}");
        Exit(EXIT_REFUSED)
    })
}

fn print_warnings(r: &Report) {
    for w in r.warnings() {
        errln!("{w}");
    }
}

/// `DefaultedStaticInitConfiguration` with kubeadm's placeholders, plus component configs.
pub fn init_defaults(component_configs: &[String]) -> Result<String, Exit> {
    const KNOWN: [&str; 2] = ["KubeletConfiguration", "KubeProxyConfiguration"];
    for c in component_configs {
        if !KNOWN.contains(&c.as_str()) {
            errln!(
                "error: unknown component config {c:?}\n  = hint: choose from {}",
                KNOWN.join(", ")
            );
            return Err(Exit(EXIT_REFUSED));
        }
    }
    let mut init = InitConfiguration {
        api_version: config::wire::v1beta4::GROUP_VERSION.into(),
        kind: "InitConfiguration".into(),
        bootstrap_tokens: vec![BootstrapToken {
            token: Some("abcdef.0123456789abcdef".into()),
            ..BootstrapToken::default()
        }],
        ..InitConfiguration::default()
    };
    init.local_api_endpoint.advertise_address = "1.2.3.4".into();
    init.node_registration.name = "node".into();
    init.node_registration.cri_socket = defaults::DEFAULT_CRI_SOCKET.into();
    defaults::default_init(&mut init);
    let mut cluster = ClusterConfiguration {
        api_version: config::wire::v1beta4::GROUP_VERSION.into(),
        kind: "ClusterConfiguration".into(),
        kubernetes_version: release::PRINT_DEFAULTS_VERSION.into(),
        ..ClusterConfiguration::default()
    };
    defaults::default_cluster(&mut cluster);
    let mut docs = vec![to_yaml(&init), to_yaml(&cluster)];
    let overlay = component::OverlayInput {
        certificates_dir: &cluster.certificates_dir,
        dns_domain: &cluster.networking.dns_domain,
        service_subnet: &cluster.networking.service_subnet,
        pod_subnet: None,
        advertise_address_is_ipv6: false,
    };
    for kind in KNOWN {
        if component_configs.iter().any(|c| c == kind) {
            docs.push(match kind {
                "KubeletConfiguration" => to_yaml(&component::default_kubelet(None, &overlay).0),
                _ => to_yaml(&component::default_kube_proxy(None, &overlay).0),
            });
        }
    }
    Ok(join_documents(docs))
}

fn migrate(a: MigrateArgs) -> Result<(), Exit> {
    let src = read_source(&a.old_config)?;
    let (cfg, _, report) = config::read_config(&src, &a.node.load_options(None));
    let Some(cfg) = cfg.filter(|_| !report.has_errors()) else {
        super::err_out(&report.to_string());
        return Err(Exit(EXIT_REFUSED));
    };
    print_warnings(&report);
    let out = config::documents(&cfg.init, &cfg.cluster, None);
    match a.new_config {
        None => super::out(&out)?,
        Some(path) => crate::edge::write_atomic(&path, out.as_bytes(), 0o644).map_err(|e| {
            errln!("error: cannot write {}: {e}", path.display());
            Exit(EXIT_REFUSED)
        })?,
    }
    Ok(())
}

fn images(config_path: Option<String>, node: &NodeArgs) -> Result<(), Exit> {
    let opts = node.load_options(None);
    // The file's documents, to locate a version problem in it.
    let mut located = None;
    let mut cfg = match &config_path {
        Some(path) => {
            let src = read_source(path)?;
            let (cfg, docs, report) = config::read_config(&src, &opts);
            match cfg.filter(|_| !report.has_errors()) {
                Some(c) => {
                    located = Some((src, docs));
                    c.cluster
                }
                None => {
                    super::err_out(&report.to_string());
                    return Err(Exit(EXIT_REFUSED));
                }
            }
        }
        None => {
            let mut c = ClusterConfiguration::default();
            defaults::default_cluster(&mut c);
            c
        }
    };
    if let Some(v) = &opts.overrides.kubernetes_version {
        cfg.kubernetes_version = v.clone();
    }
    for w in defaults::normalize_kubernetes_version(&mut cfg) {
        errln!("{w}");
    }
    let mut problems = Vec::new();
    let Some(v) = cluster::resolve_version(&cfg.kubernetes_version, &mut problems) else {
        let mut report = Report {
            diagnostics: problems,
        };
        if let Some((src, docs)) = &located {
            report = config::finish(report, docs, src);
        }
        super::err_out(&report.to_string());
        return Err(Exit(EXIT_REFUSED));
    };
    for image in release::images(&cluster::image_inputs(&cfg, &v)) {
        super::out(&format!("{image}\n"))?;
    }
    Ok(())
}
