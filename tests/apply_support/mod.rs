//! Test support for kbc-apply's full runs: test PKI made with rcgen (the applier never
//! depends on the compiler), sample bundles written with `kbc_bundle::write`, a fake host
//! root (proc files, a kubelet, a CRI socket, a fake systemctl) and an in-process HTTPS API
//! server ([`server`]). No real kube-apiserver can be installed on these machines, so this
//! server stands in for one.

#![allow(dead_code)]

pub mod server;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use kbc_bundle::apply::{
    ApiFileRef, ApplyPlan, NodePlan, PreflightPlan, Taint, TokenRef, WaitPlan, WaitTarget,
};
use kbc_bundle::{Manifest, NewFile};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The API server URL written into sample bundles; tests connect with `--api-server`.
pub const PLAN_API_SERVER: &str = "https://10.0.0.10:6443";
pub const NODE: &str = "cp-1";

/// A CA and what it signed, PEM.
pub struct Pki {
    pub ca_crt: String,
    pub ca_key: String,
    pub server_crt: String,
    pub server_key: String,
    pub admin_crt: String,
    pub admin_key: String,
    /// super-admin.conf's identity (`system:masters`).
    pub super_crt: String,
    pub super_key: String,
}

fn ca(cn: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().expect("generate CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::CrlSign,
    ];
    let cert = params.self_signed(&key).expect("self-sign CA");
    (params, key, cert.pem())
}

fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    cn: &str,
    org: Option<&str>,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let key = KeyPair::generate().expect("generate key");
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    if let Some(o) = org {
        params.distinguished_name.push(DnType::OrganizationName, o);
    }
    params.extended_key_usages = vec![usage];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params.signed_by(&key, issuer).expect("sign");
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    /// A cluster CA, the API server's certificate (127.0.0.1, localhost, kubernetes,
    /// 10.0.0.10) and admin.conf's client certificate.
    pub fn new(name: &str) -> Pki {
        let (params, key, ca_crt) = ca(name);
        let ca_key = key.serialize_pem();
        let issuer = Issuer::new(params, key);
        let (server_crt, server_key) = leaf(
            &issuer,
            "kube-apiserver",
            None,
            &["127.0.0.1", "localhost", "kubernetes", "10.0.0.10"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (admin_crt, admin_key) = leaf(
            &issuer,
            "kubernetes-admin",
            Some("kubeadm:cluster-admins"),
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let (super_crt, super_key) = leaf(
            &issuer,
            "kubernetes-super-admin",
            Some("system:masters"),
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            super_crt,
            super_key,
            ca_crt,
            ca_key,
            server_crt,
            server_key,
            admin_crt,
            admin_key,
        }
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// A kubeconfig as kubeadm writes it.
pub fn kubeconfig(server: &str, ca: &str, user: &str, cert: &str, key: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: {user}\n  name: {user}@kubernetes\ncurrent-context: {user}@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: {user}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(ca),
        b64(cert),
        b64(key)
    )
}

/// The API files of the sample bundle.
pub fn api_files() -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "api/01-upload-config-kubeadm.yaml",
            "upload-config/kubeadm",
            r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubeadm:cluster-admins
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: kubeadm:cluster-admins
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kubeadm-config
  namespace: kube-system
data:
  ClusterConfiguration: |
    apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    kubernetesVersion: v1.31.2
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: kubeadm:nodes-kubeadm-config
  namespace: kube-system
rules:
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [kubeadm-config]
  verbs: [get]
"#
            .to_string(),
        ),
        (
            "api/02-upload-config-kubelet.yaml",
            "upload-config/kubelet",
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: kubelet-config
  namespace: kube-system
data:
  kubelet: |
    apiVersion: kubelet.config.k8s.io/v1beta1
    kind: KubeletConfiguration
"#
            .to_string(),
        ),
        (
            "api/03-upload-certs.yaml",
            "upload-certs",
            r#"apiVersion: v1
kind: Secret
metadata:
  name: bootstrap-token-pr0xy1
  namespace: kube-system
type: bootstrap.kubernetes.io/token
stringData:
  token-id: pr0xy1
  token-secret: 0123456789abcdef
  description: Proxy for managing TTL for the kubeadm-certs secret
---
apiVersion: v1
kind: Secret
metadata:
  name: kubeadm-certs
  namespace: kube-system
data:
  ca.crt: Y2E=
  ca.key: a2V5
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: kubeadm:kubeadm-certs
  namespace: kube-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: kubeadm:kubeadm-certs
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:bootstrappers:kubeadm:default-node-token
"#
            .to_string(),
        ),
        (
            "api/04-bootstrap-token.yaml",
            "bootstrap-token",
            r#"apiVersion: v1
kind: Secret
metadata:
  name: bootstrap-token-abcdef
  namespace: kube-system
type: bootstrap.kubernetes.io/token
stringData:
  auth-extra-groups: system:bootstrappers:kubeadm:default-node-token
  token-id: abcdef
  token-secret: 0123456789abcdef
  usage-bootstrap-authentication: "true"
  usage-bootstrap-signing: "true"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeadm:get-nodes
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-info
  namespace: kube-public
data:
  kubeconfig: |
    apiVersion: v1
    kind: Config
"#
            .to_string(),
        ),
        (
            "api/05-addon-coredns.yaml",
            "addon/coredns",
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: 2
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.11.3
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  clusterIP: 10.96.0.10
  ports:
  - name: dns
    port: 53
    protocol: UDP
"#
            .to_string(),
        ),
    ]
}

/// The apply plan of the sample bundle.
pub fn sample_plan() -> ApplyPlan {
    let phases = [
        "preflight",
        "kubelet-start",
        "wait-control-plane",
        "upload-config/kubeadm",
        "upload-config/kubelet",
        "upload-certs",
        "mark-control-plane",
        "bootstrap-token",
        "kubelet-finalize",
        "addon/coredns",
        "addon/kube-proxy",
        "show-join-command",
    ];
    ApplyPlan {
        phases: phases.iter().map(|p| p.to_string()).collect(),
        api_files: api_files()
            .into_iter()
            .map(|(path, phase, _)| ApiFileRef {
                path: path.into(),
                phase: phase.into(),
            })
            .collect(),
        bootstrap_tokens: vec![
            TokenRef {
                secret_name: "bootstrap-token-pr0xy1".into(),
                ttl_seconds: Some(7200),
            },
            TokenRef {
                secret_name: "bootstrap-token-abcdef".into(),
                ttl_seconds: Some(86400),
            },
        ],
        upload_certs: true,
        wait: WaitPlan {
            components: vec![WaitTarget {
                name: "kube-apiserver".into(),
                url: format!("{PLAN_API_SERVER}/livez"),
            }],
            kubelet_health_check_seconds: 240,
            control_plane_component_health_check_seconds: 20,
            kubernetes_api_call_seconds: 20,
        },
        node: NodePlan {
            name: NODE.into(),
            labels: BTreeMap::from([
                (
                    "node-role.kubernetes.io/control-plane".into(),
                    String::new(),
                ),
                (
                    "node.kubernetes.io/exclude-from-external-load-balancers".into(),
                    String::new(),
                ),
            ]),
            annotations: BTreeMap::from([(
                "kubeadm.alpha.kubernetes.io/cri-socket".into(),
                "unix:///var/run/containerd/containerd.sock".into(),
            )]),
            taints: vec![Taint {
                key: "node-role.kubernetes.io/control-plane".into(),
                value: String::new(),
                effect: "NoSchedule".into(),
            }],
        },
        preflight: PreflightPlan {
            kubernetes_version: "v1.31.2".into(),
            node_name: NODE.into(),
            cri_socket: "unix:///var/run/containerd/containerd.sock".into(),
            ports: vec![6443, 10259, 10257, 10250, 2379, 2380],
            manifests_dir: "/etc/kubernetes/manifests".into(),
            etcd_data_dir: Some("/var/lib/etcd".into()),
            ignore_errors: Vec::new(),
        },
        api_server: PLAN_API_SERVER.into(),
        admin_kubeconfig: "/etc/kubernetes/admin.conf".into(),
        super_admin_kubeconfig: "/etc/kubernetes/super-admin.conf".into(),
        kubelet_kubeconfig: "/etc/kubernetes/kubelet.conf".into(),
        join: None,
    }
}

/// A plain-HTTP kubelet health endpoint on 127.0.0.1: 500 for the first `fail_first`
/// requests, then 200. Returns the port.
pub fn kubelet_healthz(fail_first: usize) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind healthz");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut seen = 0;
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            seen += 1;
            let answer: &[u8] = if seen <= fail_first {
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            };
            let _ = stream.write_all(answer);
        }
    });
    port
}

/// One always-healthy kubelet endpoint shared by the sample bundles.
pub fn shared_kubelet_port() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| kubelet_healthz(0))
}

/// A sample bundle: `pki` for the files, `client` for admin.conf's identity (another
/// CA's to test the TLS refusal), `plan` as given.
pub fn bundle(pki: &Pki, client: &Pki, plan: &ApplyPlan) -> Vec<u8> {
    bundle_with_kubelet(pki, client, plan, shared_kubelet_port())
}

/// [`bundle`] whose KubeletConfiguration puts the kubelet's health endpoint on
/// 127.0.0.1:`kubelet_port`.
pub fn bundle_with_kubelet(
    pki: &Pki,
    client: &Pki,
    plan: &ApplyPlan,
    kubelet_port: u16,
) -> Vec<u8> {
    let admin = kubeconfig(
        PLAN_API_SERVER,
        &pki.ca_crt,
        "kubernetes-admin",
        &client.admin_crt,
        &client.admin_key,
    );
    let super_admin = kubeconfig(
        PLAN_API_SERVER,
        &pki.ca_crt,
        "kubernetes-super-admin",
        &client.super_crt,
        &client.super_key,
    );
    let kubelet = kubeconfig(
        PLAN_API_SERVER,
        &pki.ca_crt,
        "system:node:cp-1",
        &pki.admin_crt,
        &pki.admin_key,
    );
    let mut files = vec![
        file("rootfs/etc/kubernetes/pki/ca.crt", 0o644, false, &pki.ca_crt),
        file("rootfs/etc/kubernetes/pki/ca.key", 0o600, true, &pki.ca_key),
        file("rootfs/etc/kubernetes/pki/apiserver.crt", 0o644, false, &pki.server_crt),
        file("rootfs/etc/kubernetes/pki/apiserver.key", 0o600, true, &pki.server_key),
        file("rootfs/etc/kubernetes/admin.conf", 0o600, true, &admin),
        file("rootfs/etc/kubernetes/super-admin.conf", 0o600, true, &super_admin),
        file("rootfs/etc/kubernetes/kubelet.conf", 0o600, true, &kubelet),
        file(
            "rootfs/etc/kubernetes/manifests/kube-apiserver.yaml",
            0o600,
            false,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n",
        ),
        file(
            "rootfs/etc/kubernetes/manifests/etcd.yaml",
            0o600,
            false,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n",
        ),
        file(
            "rootfs/var/lib/kubelet/config.yaml",
            0o644,
            false,
            &format!(
                "apiVersion: kubelet.config.k8s.io/v1beta1\nhealthzBindAddress: 127.0.0.1\nhealthzPort: {kubelet_port}\nkind: KubeletConfiguration\n"
            ),
        ),
        file(
            "join/commands.txt",
            0o600,
            true,
            "kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash sha256:00 \n",
        ),
    ];
    for (path, _, text) in api_files() {
        files.push(file(
            path,
            0o600,
            path.contains("token") || path.contains("certs"),
            &text,
        ));
    }
    let manifest = Manifest {
        format: kbc_bundle::FORMAT.into(),
        kbc_version: "0.1.0".into(),
        derivation: "kbc-kdf-v1".into(),
        kubernetes_version: "v1.31.2".into(),
        cluster_name: "kubernetes".into(),
        node_name: NODE.into(),
        control_plane_endpoint: String::new(),
        issued_at: "2026-01-01T00:00:00Z".into(),
        config_sha256: "0".repeat(64),
        files: Vec::new(),
        apply: serde_json::to_value(plan).expect("plan to JSON"),
        extra: BTreeMap::new(),
    };
    kbc_bundle::write(manifest, files, 1_767_225_600)
        .expect("write sample bundle")
        .0
}

fn file(path: &str, mode: u32, secret: bool, data: &str) -> NewFile {
    NewFile {
        path: path.into(),
        mode,
        secret,
        data: data.as_bytes().to_vec(),
    }
}

/// A fake node: a temporary root whose proc files, kubelet and CRI socket pass preflight,
/// and a fake systemctl that logs its calls.
pub struct Host {
    pub dir: tempfile::TempDir,
    _cri: UnixListener,
}

impl Host {
    pub fn new() -> Host {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir(&root).expect("root");
        let host = |rel: &str, text: &str| write(&root.join(rel), text, 0o644);
        host(
            "proc/self/status",
            "Name:\tkbc-apply\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
        );
        host(
            "proc/net/tcp",
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n",
        );
        host(
            "proc/swaps",
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
        );
        host("proc/sys/net/ipv4/ip_forward", "1\n");
        host("proc/sys/kernel/hostname", "cp-1\n");
        host(
            "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nmodel name\t: x\n",
        );
        host(
            "proc/meminfo",
            "MemTotal:        4028440 kB\nMemFree:  1 kB\n",
        );
        write(
            &root.join("usr/bin/kubelet"),
            "#!/bin/sh\necho 'Kubernetes v1.31.4'\n",
            0o755,
        );
        let sock = root.join("var/run/containerd/containerd.sock");
        std::fs::create_dir_all(sock.parent().unwrap()).unwrap();
        let cri = UnixListener::bind(&sock).expect("bind the fake CRI socket");
        let state = dir.path().join("systemd");
        std::fs::create_dir(&state).unwrap();
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {state}/calls\ncase \"$1\" in\n  is-enabled) [ -f {state}/enabled ] ;;\n  is-active) [ -f {state}/active ] ;;\n  enable) touch {state}/enabled ;;\n  restart) touch {state}/active ;;\n  *) true ;;\nesac\n",
            state = state.display()
        );
        write(&dir.path().join("systemctl"), &script, 0o755);
        Host { dir, _cri: cri }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn systemctl(&self) -> PathBuf {
        self.dir.path().join("systemctl")
    }

    /// The fake systemctl's calls, one per line.
    pub fn systemctl_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("systemd/calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn write_bundle(&self, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join("bundle.tgz");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes a file under the root (parents created).
    pub fn put(&self, rel: &str, text: &str, mode: u32) {
        write(&self.root().join(rel), text, mode);
    }

    /// Runs kbc-apply with `args`, then `--root`, `--systemctl` and, when given,
    /// `--api-server`.
    pub fn run(&self, bundle: &Path, api: Option<&str>, args: &[&str]) -> Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kbc-apply"));
        cmd.arg(bundle)
            .arg("--root")
            .arg(self.root())
            .arg("--systemctl")
            .arg(self.systemctl())
            .args(args);
        if let Some(url) = api {
            cmd.arg("--api-server").arg(url);
        }
        Run::from(cmd.output().expect("run kbc-apply"))
    }

    /// [`Host::run`] that gives up after `limit`: the process is killed and `None` is
    /// returned (a hang is a test failure, not a hung test).
    pub fn run_within(
        &self,
        bundle: &Path,
        args: &[&str],
        limit: std::time::Duration,
    ) -> Option<Run> {
        use std::io::Read;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kbc-apply"))
            .arg(bundle)
            .arg("--root")
            .arg(self.root())
            .arg("--systemctl")
            .arg(self.systemctl())
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run kbc-apply");
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = r.read_to_string(&mut text);
                text
            })
        };
        let out = drain(Box::new(child.stdout.take().expect("piped")));
        let err = drain(Box::new(child.stderr.take().expect("piped")));
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
        status.map(|s| Run {
            code: s.code().unwrap_or(-1),
            stdout,
            stderr,
        })
    }

    /// Every file under the root with its mode and content hash (the CRI socket aside).
    pub fn tree(&self) -> BTreeMap<String, String> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if meta.is_dir() {
                    out.insert(rel.clone(), format!("dir {:o}", meta.permissions().mode()));
                    walk(root, &p, out);
                } else if meta.is_file() {
                    let data = std::fs::read(&p).unwrap();
                    out.insert(
                        rel,
                        format!(
                            "{:o} {}",
                            meta.permissions().mode(),
                            kbc_bundle::sha256_hex(&data)
                        ),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.root(), &self.root(), &mut out);
        out
    }
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A finished kbc-apply.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(&self) -> &Run {
        assert_eq!(
            self.code, 0,
            "kbc-apply failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The `<phase>: <outcome>` lines, in order.
    pub fn phase_lines(&self, plan: &ApplyPlan) -> Vec<String> {
        let mut names: Vec<String> = plan.phases.clone();
        names.push("install".into());
        names.push("cluster-admins".into());
        self.stdout
            .lines()
            .filter(|l| names.iter().any(|n| l.starts_with(&format!("{n}: "))))
            .map(str::to_string)
            .collect()
    }
}
