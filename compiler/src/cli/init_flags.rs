//! `kubeadm init`'s own flags on `kbc compile` and `kbc render` (kubeadm's
//! `cmd/kubeadm/app/cmd/init.go` and `cmd/kubeadm/app/cmd/options/`): without a configuration
//! file they build one, as kubeadm builds its InitConfiguration and ClusterConfiguration from
//! flags and defaults; with a file only the flags kubeadm allows beside `--config` may be
//! given (`ValidateMixedArguments` in `cmd/kubeadm/app/cmd/util/cmdutil.go`). kbc's node
//! facts (`--node-name`, `--cri-socket`, `--kubernetes-version`, …) are always allowed.

use super::{Exit, EXIT_USAGE};
use crate::config::Source;
use clap::Args;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// The name of a configuration made from flags, as diagnostics show it.
pub(crate) const FLAGS_SOURCE: &str = "<kubeadm init flags>";

#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "kubeadm init flags")]
pub struct InitFlags {
    /// Path to a kubeadm configuration file (the same as the CONFIG argument).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// The IP address the API Server will advertise it's listening on
    /// (localAPIEndpoint.advertiseAddress).
    #[arg(long, value_name = "IP")]
    pub apiserver_advertise_address: Option<String>,
    /// Port for the API Server to bind to (localAPIEndpoint.bindPort; default 6443).
    #[arg(long, value_name = "PORT", allow_negative_numbers = true)]
    pub apiserver_bind_port: Option<i64>,
    /// Optional extra Subject Alternative Names (SANs) to use for the API Server serving
    /// certificate; IP addresses and DNS names (apiServer.certSANs).
    #[arg(long, value_name = "SANS", value_delimiter = ',')]
    pub apiserver_cert_extra_sans: Option<Vec<String>>,
    /// The path where to save and store the certificates (certificatesDir; default
    /// /etc/kubernetes/pki).
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<String>,
    /// Key used to encrypt the control-plane certificates in the kubeadm-certs Secret; 32
    /// bytes in hex (certificateKey).
    #[arg(long, value_name = "HEX")]
    pub certificate_key: Option<String>,
    /// A stable IP address or DNS name for the control plane (controlPlaneEndpoint).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub control_plane_endpoint: Option<String>,
    /// A set of key=value pairs that describe feature gates for various features
    /// (featureGates).
    #[arg(long, value_name = "GATES")]
    pub feature_gates: Option<String>,
    /// Choose a container registry to pull control plane images from (imageRepository;
    /// default registry.k8s.io).
    #[arg(long, value_name = "REPOSITORY")]
    pub image_repository: Option<String>,
    /// Path to a directory that contains files named "target[suffix][+patchtype].extension"
    /// (patches.directory).
    #[arg(long, value_name = "DIR")]
    pub patches: Option<PathBuf>,
    /// Specify range of IP addresses for the pod network (networking.podSubnet).
    #[arg(long, value_name = "CIDR")]
    pub pod_network_cidr: Option<String>,
    /// Use alternative range of IP address for service VIPs (networking.serviceSubnet;
    /// default 10.96.0.0/12).
    #[arg(long, value_name = "CIDR")]
    pub service_cidr: Option<String>,
    /// Use alternative domain for services, e.g. "myorg.internal" (networking.dnsDomain;
    /// default cluster.local).
    #[arg(long, value_name = "DOMAIN")]
    pub service_dns_domain: Option<String>,
    /// Don't print the key used to encrypt the control-plane certificates (join/commands.txt
    /// shows "<value withheld>").
    #[arg(long)]
    pub skip_certificate_key_print: bool,
    /// List of phases to be skipped (skipPhases).
    #[arg(long, value_name = "PHASES", value_delimiter = ',')]
    pub skip_phases: Option<Vec<String>>,
    /// Skip printing of the default bootstrap token (join/commands.txt shows
    /// "<value withheld>").
    #[arg(long)]
    pub skip_token_print: bool,
    /// The token to use for establishing bidirectional trust between nodes and control-plane
    /// nodes, [a-z0-9]{6}.[a-z0-9]{16} (bootstrapTokens[0].token).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The duration before the token is automatically deleted, e.g. 1s, 2m, 3h; '0' means it
    /// never expires (bootstrapTokens[0].ttl; default 24h0m0s).
    #[arg(long, value_name = "DURATION")]
    pub token_ttl: Option<String>,
    /// Upload control-plane certificates to the kubeadm-certs Secret.
    #[arg(long)]
    pub upload_certs: bool,
}

/// kubeadm's `isAllowedFlag`: the flags that may be given beside `--config`, plus every
/// `skip-*` flag.
const ALLOWED_WITH_CONFIG: &[&str] = &["upload-certs"];

impl InitFlags {
    /// The kubeadm names of the flags given, in the order pflag's `Visit` reports them
    /// (sorted).
    fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let mut flag = |set: bool, name: &'static str| {
            if set {
                given.push(name);
            }
        };
        flag(
            self.apiserver_advertise_address.is_some(),
            "apiserver-advertise-address",
        );
        flag(self.apiserver_bind_port.is_some(), "apiserver-bind-port");
        flag(
            self.apiserver_cert_extra_sans.is_some(),
            "apiserver-cert-extra-sans",
        );
        flag(self.cert_dir.is_some(), "cert-dir");
        flag(self.certificate_key.is_some(), "certificate-key");
        flag(
            self.control_plane_endpoint.is_some(),
            "control-plane-endpoint",
        );
        flag(self.feature_gates.is_some(), "feature-gates");
        flag(self.image_repository.is_some(), "image-repository");
        flag(self.patches.is_some(), "patches");
        flag(self.pod_network_cidr.is_some(), "pod-network-cidr");
        flag(self.service_cidr.is_some(), "service-cidr");
        flag(self.service_dns_domain.is_some(), "service-dns-domain");
        flag(
            self.skip_certificate_key_print,
            "skip-certificate-key-print",
        );
        flag(self.skip_phases.is_some(), "skip-phases");
        flag(self.skip_token_print, "skip-token-print");
        flag(self.token.is_some(), "token");
        flag(self.token_ttl.is_some(), "token-ttl");
        flag(self.upload_certs, "upload-certs");
        given.sort_unstable();
        given
    }

    /// The configuration to read: the CONFIG argument or `--config` (one of them), or, with
    /// neither, a configuration made from these flags.
    pub fn source(&self, positional: Option<&str>) -> Result<Source, Exit> {
        let file = match (positional, self.config.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                errln!(
                    "error: the configuration is given twice ({a:?} and --config {b:?}); give one"
                );
                return Err(Exit(EXIT_USAGE));
            }
            (a, b) => a.or(b),
        };
        match file {
            Some(path) => {
                self.check_mixing()?;
                super::config::read_source(path)
            }
            None => Ok(Source {
                name: FLAGS_SOURCE.into(),
                text: self.to_config()?,
            }),
        }
    }

    /// `can not mix '--config' with arguments [...]`, kubeadm's refusal, with its text.
    fn check_mixing(&self) -> Result<(), Exit> {
        let mixed: Vec<&str> = self
            .given()
            .into_iter()
            .filter(|f| !ALLOWED_WITH_CONFIG.contains(f) && !f.starts_with("skip-"))
            .collect();
        if mixed.is_empty() {
            return Ok(());
        }
        errln!(
            "error: can not mix '--config' with arguments [{}]\n  = hint: set these in the configuration file; kbc's node facts (--node-name, --advertise-address, --cri-socket, --kubernetes-version, ...) may be given with a file",
            mixed.join(" ")
        );
        Err(Exit(EXIT_USAGE))
    }

    /// The InitConfiguration and ClusterConfiguration these flags describe, as YAML, for
    /// the same pipeline as a file (defaults, validation). Unset flags are left out, so
    /// kubeadm's defaults apply.
    fn to_config(&self) -> Result<String, Exit> {
        let mut init = Map::new();
        init.insert("apiVersion".into(), json!("kubeadm.k8s.io/v1beta4"));
        init.insert("kind".into(), json!("InitConfiguration"));
        let mut endpoint = Map::new();
        put(
            &mut endpoint,
            "advertiseAddress",
            &self.apiserver_advertise_address,
        );
        put(&mut endpoint, "bindPort", &self.apiserver_bind_port);
        put_map(&mut init, "localAPIEndpoint", endpoint);
        put(&mut init, "certificateKey", &self.certificate_key);
        if self.token.is_some() || self.token_ttl.is_some() {
            let mut token = Map::new();
            put(&mut token, "token", &self.token);
            put(&mut token, "ttl", &self.token_ttl);
            init.insert("bootstrapTokens".into(), json!([token]));
        }
        put(&mut init, "skipPhases", &self.skip_phases);
        if let Some(dir) = &self.patches {
            init.insert("patches".into(), json!({ "directory": dir }));
        }

        let mut cluster = Map::new();
        cluster.insert("apiVersion".into(), json!("kubeadm.k8s.io/v1beta4"));
        cluster.insert("kind".into(), json!("ClusterConfiguration"));
        let mut api_server = Map::new();
        put(&mut api_server, "certSANs", &self.apiserver_cert_extra_sans);
        put_map(&mut cluster, "apiServer", api_server);
        put(&mut cluster, "certificatesDir", &self.cert_dir);
        put(
            &mut cluster,
            "controlPlaneEndpoint",
            &self.control_plane_endpoint,
        );
        if let Some(gates) = &self.feature_gates {
            cluster.insert("featureGates".into(), Value::Object(feature_gates(gates)?));
        }
        put(&mut cluster, "imageRepository", &self.image_repository);
        let mut networking = Map::new();
        put(&mut networking, "podSubnet", &self.pod_network_cidr);
        put(&mut networking, "serviceSubnet", &self.service_cidr);
        put(&mut networking, "dnsDomain", &self.service_dns_domain);
        put_map(&mut cluster, "networking", networking);

        Ok(crate::yaml::ser::join_documents([
            crate::yaml::ser::value_to_yaml(&Value::Object(init)),
            crate::yaml::ser::value_to_yaml(&Value::Object(cluster)),
        ]))
    }
}

fn put<T: serde::Serialize>(map: &mut Map<String, Value>, key: &str, value: &Option<T>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

fn put_map(map: &mut Map<String, Value>, key: &str, inner: Map<String, Value>) {
    if !inner.is_empty() {
        map.insert(key.into(), Value::Object(inner));
    }
}

/// `--feature-gates a=true,b=false` as kubeadm's `features.NewFeatureGate` reads it; which
/// gates exist is checked by the configuration's validation.
fn feature_gates(text: &str) -> Result<Map<String, Value>, Exit> {
    let mut gates = Map::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            errln!("error: --feature-gates: missing bool value for {pair}");
            return Err(Exit(super::EXIT_REFUSED));
        };
        // Go's strconv.ParseBool.
        let on = match value.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
            _ => None,
        };
        let Some(on) = on else {
            errln!(
                "error: --feature-gates: invalid value of {key}: {value}, expected true or false"
            );
            return Err(Exit(super::EXIT_REFUSED));
        };
        gates.insert(key.trim().into(), Value::Bool(on));
    }
    Ok(gates)
}
