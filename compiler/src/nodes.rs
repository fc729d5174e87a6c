//! The bundles of a cluster file (docs/clusters.md): the init node's, exactly as
//! [`compile::compile`] makes it, and one per JoinConfiguration, all from one seed, plus
//! `cluster.json`. Pure, as `compile` is.
//!
//! A joining control-plane node gets what kubeadm's `control-plane-prepare` phases write
//! (`cmd/kubeadm/app/cmd/phases/join/controlplaneprepare.go`): the shared CAs and service-account pair (derived from the seed, so no
//! upload-certs), its own leaves with its SANs, admin, controller-manager and scheduler
//! kubeconfigs, the static Pods with its address, and an etcd manifest that lists the
//! members before it. A worker gets `ca.crt` at `caCertPath`, the kubelet files, and a
//! `kubelet.conf` signed offline (a named worker) or `bootstrap-kubelet.conf` with the
//! cluster's first bootstrap token (a generic worker, `cmd/kubeadm/app/cmd/phases/join/kubelet.go`). Deliberate differences:
//! docs/differences.md.

use std::collections::BTreeMap;

use kbc_bundle::apply::{self, ApplyPlan, EtcdJoin, EtcdMember, JoinPlan};
use kbc_bundle::{Manifest, NewFile};
use serde::Serialize;

use crate::compile::{self, CompileError, CompileOptions, Compiled};
use crate::config::cluster::Cluster;
use crate::config::features;
use crate::config::join::{etcd_peer_url, JoinNode};
use crate::paths::{self, rootfs, MANIFESTS_DIR};
use crate::pki::{self, IssueTime, NodeRole, Provided};
use crate::render::patches::PatchSet;
use crate::secrets::Secrets;

/// One node's bundle.
#[derive(Debug)]
pub(crate) struct NodeBundle {
    /// The node name, or `generic-worker-<n>`: the bundle is `<name>.tgz`.
    pub name: String,
    pub role: NodeRole,
    pub compiled: Compiled,
}

/// The patches of each joining node (`patches.directory` of its JoinConfiguration), by the
/// document's label; a node without an entry has none.
pub(crate) type NodePatches = BTreeMap<String, PatchSet>;

/// The init node's bundle, then one per joining node, in file order.
pub(crate) fn compile_cluster(
    init: &Cluster,
    joins: &[JoinNode],
    secrets: &Secrets,
    at: IssueTime,
    opts: &CompileOptions,
    patches: &NodePatches,
) -> Result<Vec<NodeBundle>, CompileError> {
    // Every node's keys in one pool: shared CA and SA keys once, both cores busy to the end.
    let cache = opts.key_cache();
    let node_clusters: Vec<(Cluster, Vec<EtcdMember>)> = joins
        .iter()
        .enumerate()
        .map(|(i, node)| node_cluster(init, &joins[..i], node))
        .collect();
    let init_secrets = secrets.pki(&opts.provided).map_err(CompileError::Pki)?;
    let node_secrets = secrets
        .pki(&Provided::default())
        .map_err(CompileError::Pki)?;
    let mut jobs = pki::key_jobs(&init.pki_input(), &init_secrets);
    for (cluster, _) in &node_clusters {
        jobs.extend(pki::key_jobs(&cluster.pki_input(), &node_secrets));
    }
    cache.fill(&secrets.seed, &jobs);
    let opts = &CompileOptions {
        keys: Some(cache),
        ..opts.clone()
    };
    let mut out = vec![NodeBundle {
        name: init.node_name().to_string(),
        role: NodeRole::Init,
        compiled: compile::compile(init, secrets, at, opts)?,
    }];
    for (node, (cluster, members)) in joins.iter().zip(&node_clusters) {
        let parts = JoinParts {
            init,
            cluster,
            node,
            members,
        };
        out.push(NodeBundle {
            name: node.bundle_name(),
            role: node.role,
            compiled: compile_join(&parts, secrets, at, opts, patches)?,
        });
    }
    Ok(out)
}

/// The stacked etcd members of the init node and `nodes` (control-plane ones only), in
/// join order.
fn etcd_members<'a>(
    init: &Cluster,
    nodes: impl IntoIterator<Item = &'a JoinNode>,
) -> Vec<EtcdMember> {
    let member = |name: &str, ip: std::net::IpAddr| EtcdMember {
        name: name.to_string(),
        peer_url: etcd_peer_url(ip),
        client_url: paths::etcd_client_url(&ip.to_string()),
    };
    let mut members = vec![member(init.node_name(), init.advertise_address)];
    for n in nodes {
        if let Some(ip) = n.advertise_address {
            members.push(member(&n.name, ip));
        }
    }
    members
}

/// A joining node's [`Cluster`] and its etcd members (itself last).
fn node_cluster(
    init: &Cluster,
    before: &[JoinNode],
    node: &JoinNode,
) -> (Cluster, Vec<EtcdMember>) {
    let members = etcd_members(init, before.iter().chain([node]));
    let pairs: Vec<(String, String)> = members
        .iter()
        .map(|m| (m.name.clone(), m.peer_url.clone()))
        .collect();
    (node.cluster(init, &pairs), members)
}

fn compile_join(
    parts: &JoinParts<'_>,
    secrets: &Secrets,
    at: IssueTime,
    opts: &CompileOptions,
    patches: &NodePatches,
) -> Result<Compiled, CompileError> {
    let (init, cluster, node) = (parts.init, parts.cluster, parts.node);
    let pki_out = secrets
        .pki(&Provided::default())
        .and_then(|s| pki::render(&cluster.pki_input(), &s, at, &opts.key_cache()))
        .map_err(CompileError::Pki)?;
    check_discovery(node, &pki_out.discovery_token_ca_cert_hash)?;
    let ca = pki_out.get("pki/ca.crt").map_or(&[][..], |a| &a.bytes);
    let tokens = compile::resolve_tokens(init, secrets);
    let (mut files, plan) = parts.assemble(secrets, ca, &tokens, opts, patches)?;
    files.splice(0..0, pki_files(&pki_out, node));
    Ok(Compiled {
        manifest: parts.manifest(at, &plan),
        files,
        warnings: pki_out.warnings.clone(),
        pki: pki_out,
        tokens: Vec::new(),
        endpoint: compile::client_endpoint(init),
        certificate_key: compile::certificate_key(init, secrets),
    })
}

/// `discovery.bootstrapToken.caCertHashes`, when given, must hold this cluster's CA hash.
fn check_discovery(node: &JoinNode, ca_hash: &str) -> Result<(), CompileError> {
    let hashes = node
        .config
        .discovery
        .as_ref()
        .and_then(|d| d.bootstrap_token.as_ref())
        .map(|t| t.ca_cert_hashes.as_slice())
        .unwrap_or_default();
    if hashes.is_empty() || hashes.iter().any(|h| h.eq_ignore_ascii_case(ca_hash)) {
        return Ok(());
    }
    Err(CompileError::Discovery {
        node: node.label.clone(),
        detail: format!(
            "discovery.bootstrapToken.caCertHashes does not hold this cluster's CA hash {ca_hash}; remove discovery (kbc knows the CA) or add the hash"
        ),
    })
}

/// Plans a joining node's bundle without generating a key, for the review rendering, as
/// [`compile::plan_bundle`] does for the init node.
pub(crate) fn plan_join(
    init: &Cluster,
    before: &[JoinNode],
    node: &JoinNode,
    opts: &CompileOptions,
    patches: &NodePatches,
    secrets: Option<&Secrets>,
) -> Result<compile::Planned, CompileError> {
    let (cluster, members) = node_cluster(init, before, node);
    // The CA pairs of a secrets file are the cluster's, on every node (never the seed).
    let provided = match secrets {
        Some(s) => s
            .provided(&Provided::default())
            .map_err(CompileError::Pki)?,
        None => Provided::default(),
    };
    let plan = pki::plan::plan(&cluster.pki_input(), &provided).map_err(CompileError::Pki)?;
    let dummy = Secrets::from_seed([0; 32]);
    let ca_pem = match plan.get("pki/ca.crt").map(|f| &f.body) {
        Some(pki::plan::PlannedBody::Provided(bytes)) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        _ => compile::PLACEHOLDER_CA_PEM.to_string(),
    };
    let tokens = compile::resolve_tokens(init, &dummy);
    let parts = JoinParts {
        init,
        cluster: &cluster,
        node,
        members: &members,
    };
    // External etcd's client files come from the secrets file; the tokens never do.
    let files_from = secrets.unwrap_or(&dummy);
    let (files, apply_plan) =
        parts.assemble(files_from, ca_pem.as_bytes(), &tokens, opts, patches)?;
    let at = IssueTime::from_unix(0).map_err(|e| CompileError::Pki(e.into()))?;
    let pki = plan
        .files
        .into_iter()
        .map(|mut f| {
            f.path = rootfs(&worker_path(node, &f.kubeadm_path).unwrap_or(f.path));
            f
        })
        .collect();
    Ok(compile::Planned {
        manifest: parts.manifest(at, &apply_plan),
        files,
        pki,
        ca_pem,
        warnings: plan.warnings,
    })
}

/// What a joining node's files and plan are made from.
struct JoinParts<'a> {
    init: &'a Cluster,
    cluster: &'a Cluster,
    node: &'a JoinNode,
    members: &'a [EtcdMember],
}

impl JoinParts<'_> {
    /// Every file but the PKI's, and the apply plan.
    fn assemble(
        &self,
        secrets: &Secrets,
        ca_pem: &[u8],
        tokens: &[crate::render::api::Token],
        opts: &CompileOptions,
        patches: &NodePatches,
    ) -> Result<(Vec<NewFile>, ApplyPlan), CompileError> {
        let (init, cluster, node) = (self.init, self.cluster, self.node);
        let node_opts = CompileOptions {
            patches: patches.get(&node.label).cloned().unwrap_or_default(),
            host_name: None,
            upload_certs: false,
            provided: Provided::default(),
            ..opts.clone()
        };
        let endpoint = compile::client_endpoint(init);
        let mut files = Vec::new();
        match node.role {
            NodeRole::Worker if node.name.is_empty() => {
                files.push(bootstrap_kubeconfig(init, ca_pem, tokens, &endpoint))
            }
            NodeRole::Worker => {}
            _ => {
                let external = compile::external_etcd_files(cluster, secrets, false)?;
                files.extend(compile::external_etcd_bundle_files(&external));
                files.extend(compile::static_pod_files(cluster, &node_opts, false)?);
            }
        }
        files.extend(compile::kubelet_files(cluster, &node_opts)?);
        files.push(compile::images_file(init));
        Ok((files, join_plan(cluster, node, self.members, &endpoint)))
    }

    fn manifest(&self, at: IssueTime, plan: &ApplyPlan) -> Manifest {
        Manifest {
            node_name: self.node.bundle_name(),
            config_sha256: kbc_bundle::sha256_hex(normalized(self.init, self.node).as_bytes()),
            ..compile::manifest(self.cluster, &compile::client_endpoint(self.init), at, plan)
        }
    }
}

/// A worker's `ca.crt` goes to its `caCertPath`.
fn worker_path(node: &JoinNode, kubeadm_path: &str) -> Option<String> {
    (node.role == NodeRole::Worker && kubeadm_path == "pki/ca.crt")
        .then(|| node.config.ca_cert_path.clone())
}

/// The PKI files of a joining node.
fn pki_files(pki_out: &pki::PkiOutput, node: &JoinNode) -> Vec<NewFile> {
    pki_out
        .artifacts
        .iter()
        .map(|a| NewFile {
            path: rootfs(&worker_path(node, &a.kubeadm_path).unwrap_or_else(|| a.path.clone())),
            mode: a.mode,
            secret: a.secret,
            data: a.bytes.clone(),
        })
        .collect()
}

/// A generic worker's `bootstrap-kubelet.conf` (`cmd/kubeadm/app/cmd/phases/join/kubelet.go`), with the cluster's first
/// bootstrap token (the init configuration always has one after defaulting).
fn bootstrap_kubeconfig(
    init: &Cluster,
    ca_pem: &[u8],
    tokens: &[crate::render::api::Token],
    endpoint: &str,
) -> NewFile {
    let token = tokens
        .first()
        .map(crate::render::api::Token::value)
        .unwrap_or_default();
    NewFile {
        path: rootfs(&paths::kubernetes_file(BOOTSTRAP_KUBECONFIG)),
        mode: 0o600,
        secret: true,
        data: pki::kubeconfig::render_bootstrap(
            &init.config.cluster_name,
            &format!("https://{endpoint}"),
            ca_pem,
            &token,
        ),
    }
}

/// kubeadm's TLS-bootstrap kubeconfig file name.
pub(crate) const BOOTSTRAP_KUBECONFIG: &str = "bootstrap-kubelet.conf";

/// What `configSha256` of a join bundle covers: the init node's normalized configuration
/// and the node's defaulted JoinConfiguration.
fn normalized(init: &Cluster, node: &JoinNode) -> String {
    crate::yaml::ser::join_documents(vec![
        compile::normalized_config(init),
        crate::yaml::ser::to_yaml(&node.config),
    ])
}

/// kubeadm's join phases for this node, after its `skipPhases` (`cmd/kubeadm/app/cmd/join.go`).
fn join_phases(cluster: &Cluster, node: &JoinNode) -> Vec<String> {
    let local_etcd = cluster.local_etcd().is_some();
    let control_plane = node.role == NodeRole::ControlPlaneJoin;
    let mut phases = vec!["preflight"];
    if control_plane && local_etcd {
        phases.push("check-etcd");
    }
    phases.push("kubelet-start");
    if control_plane {
        if local_etcd {
            phases.push("control-plane-join/etcd");
        }
        // The node's own control plane must answer before it is marked (kubeadm 1.31 waits
        // only with WaitForAllControlPlaneComponents, and after marking: docs/differences.md).
        phases.push("wait-control-plane");
        phases.push("control-plane-join/mark-control-plane");
    }
    phases
        .into_iter()
        .filter(|p| !kbc_bundle::phases::is_skipped_join(&node.config.skip_phases, p))
        .map(str::to_string)
        .collect()
}

/// The apply plan of a joining node: the init plan's shape with kubeadm's join phases, the
/// join node facts and the [`JoinPlan`].
fn join_plan(
    cluster: &Cluster,
    node: &JoinNode,
    members: &[EtcdMember],
    endpoint: &str,
) -> ApplyPlan {
    let control_plane = node.role == NodeRole::ControlPlaneJoin;
    let mut plan = compile::apply_plan(cluster, &[], &CompileOptions::default());
    plan.phases = join_phases(cluster, node);
    plan.bootstrap_tokens.clear();
    plan.api_server = format!("https://{endpoint}");
    plan.super_admin_kubeconfig = String::new();
    plan.node = apply::NodePlan {
        name: node.name.clone(),
        annotations: BTreeMap::from([(
            crate::render::api::CRI_SOCKET_ANNOTATION.to_string(),
            cluster.cri_socket().to_string(),
        )]),
        ..apply::NodePlan::default()
    };
    if control_plane {
        let patch = crate::render::api::node_patch(cluster);
        plan.node.labels = patch.labels;
        plan.node.taints = compile::plan_taints(cluster.taints());
    } else {
        plan.admin_kubeconfig = String::new();
        plan.preflight.ports = vec![paths::KUBELET_PORT];
        plan.preflight.etcd_data_dir = None;
    }
    let etcd = cluster.local_etcd().filter(|_| control_plane);
    plan.join = Some(JoinPlan {
        role: if control_plane {
            "control-plane"
        } else {
            "worker"
        }
        .into(),
        bootstrap_kubeconfig: if node.name.is_empty() {
            paths::kubernetes_file(BOOTSTRAP_KUBECONFIG)
        } else {
            String::new()
        },
        tls_bootstrap_seconds: cluster.timeouts.tls_bootstrap.whole_seconds(),
        ca_cert_path: node.config.ca_cert_path.clone(),
        etcd: etcd.map(|local| etcd_join(cluster, members, &local.data_dir)),
    });
    plan
}

fn etcd_join(cluster: &Cluster, members: &[EtcdMember], data_dir: &str) -> EtcdJoin {
    let pki = |rel: &str| {
        format!(
            "{}/{rel}",
            cluster.config.certificates_dir.trim_end_matches('/')
        )
    };
    let (member, existing) = members.split_last().expect("the node is the last member");
    EtcdJoin {
        member: member.clone(),
        existing: existing.to_vec(),
        learner: cluster.feature(features::ETCD_LEARNER_MODE),
        manifest: format!("{MANIFESTS_DIR}/etcd.yaml"),
        data_dir: data_dir.to_string(),
        ca_file: pki("etcd/ca.crt"),
        cert_file: pki("etcd/healthcheck-client.crt"),
        key_file: pki("etcd/healthcheck-client.key"),
        // kubeadm 1.31 ignores timeouts.etcdAPICall and uses its constant (`EtcdAPICallTimeout`, `cmd/kubeadm/app/constants/constants.go`).
        api_call_seconds: 120,
    }
}

/// `cluster.json`, next to the bundles.
pub(crate) const INDEX_FILE: &str = "cluster.json";

/// `cluster.json`: the cluster's nodes in join order (canonical JSON).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterIndex {
    pub format: &'static str,
    pub cluster_name: String,
    pub control_plane_endpoint: String,
    pub kubernetes_version: String,
    pub nodes: Vec<NodeEntry>,
    /// The stacked etcd members in the order they join (empty with external etcd).
    pub etcd_members: Vec<EtcdMember>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeEntry {
    /// 1 for the init node, then file order.
    pub order: usize,
    pub name: String,
    /// `init`, `control-plane` or `worker`.
    pub role: &'static str,
    pub bundle: String,
    pub digest: String,
}

/// The format of `cluster.json`.
pub(crate) const CLUSTER_INDEX_FORMAT: &str = "kbc.cluster/v1";

impl ClusterIndex {
    /// From the bundles and their digests (in the same order).
    pub fn new(init: &Cluster, joins: &[JoinNode], bundles: &[(&NodeBundle, String)]) -> Self {
        let nodes = bundles
            .iter()
            .enumerate()
            .map(|(i, (b, digest))| NodeEntry {
                order: i + 1,
                name: b.name.clone(),
                role: match b.role {
                    NodeRole::Init => "init",
                    NodeRole::ControlPlaneJoin => "control-plane",
                    NodeRole::Worker => "worker",
                },
                bundle: format!("{}.tgz", b.name),
                digest: digest.clone(),
            })
            .collect();
        let etcd_members = if init.external_etcd().is_some() {
            Vec::new()
        } else {
            etcd_members(init, joins)
        };
        ClusterIndex {
            format: CLUSTER_INDEX_FORMAT,
            cluster_name: init.config.cluster_name.clone(),
            control_plane_endpoint: format!("https://{}", compile::client_endpoint(init)),
            kubernetes_version: init.version.to_string(),
            nodes,
            etcd_members,
        }
    }

    /// Canonical JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let value = serde_json::to_value(self).expect("the index serializes");
        kbc_bundle::canonical_json(&value)
    }
}
