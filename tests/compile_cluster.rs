//! Cluster files (docs/clusters.md): one bundle per node from one seed. The init node's
//! bundle equals a single-node compile; the directory is byte-identical across processes,
//! thread counts, time zones and umasks; CA certificates depend on the secrets only; every
//! node's certificates chain, carry that node's SANs and keys of its own, and node 2's
//! etcd client completes a real mutual-TLS handshake with node 1's etcd server; every
//! static Pod validates against the 1.31 schemas; workers get what kubeadm's worker join
//! writes; mistakes in join documents are located and name both documents; the review
//! rendering of the whole cluster is a snapshot and equals `kbc inspect DIR`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{compile_in_process, kbc, kbc_ok as ok, root};

const HA: &str = "fixtures/cluster/ha.yaml";
const SECRETS: &str = "fixtures/secrets/test-secrets.yaml";
const AT: &str = "2026-11-25T12:00:00Z";

fn compile_dir(file: &str, secrets: &str, at: &str, out: &Path) {
    compile_in_process(&[
        "compile",
        file,
        "--secrets",
        secrets,
        "--issued-at",
        at,
        "-o",
        out.to_str().unwrap(),
    ]);
}

/// The bundles of `HA` compiled once per test process (every reader only reads them).
fn ha() -> &'static Path {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ha");
        compile_dir(HA, SECRETS, AT, &out);
        (dir, out)
    })
    .1
}

/// Every file of a directory with its bytes.
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The files of one bundle, by bundle path.
fn files(bundle: &Path) -> BTreeMap<String, Vec<u8>> {
    let b = kbc_bundle::verify(&std::fs::read(bundle).unwrap(), None).unwrap();
    b.files.into_iter().map(|f| (f.path, f.data)).collect()
}

const NODES: [&str; 5] = ["cp-1", "cp-2", "cp-3", "worker-1", "generic-worker-4"];

#[test]
fn the_init_bundle_is_the_single_node_bundle_and_the_index_lists_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let out = ha();
    // The same file without its JoinConfiguration documents.
    let text = std::fs::read_to_string(root().join(HA)).unwrap();
    let init_only: Vec<&str> = text
        .split("\n---\n")
        .filter(|d| !d.contains("kind: JoinConfiguration"))
        .collect();
    let single = dir.path().join("single.yaml");
    std::fs::write(&single, init_only.join("\n---\n")).unwrap();
    let single_out = dir.path().join("single.tgz");
    compile_in_process(&[
        "compile",
        single.to_str().unwrap(),
        "--secrets",
        SECRETS,
        "--issued-at",
        AT,
        "-o",
        single_out.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(out.join("cp-1.tgz")).unwrap(),
        std::fs::read(&single_out).unwrap()
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("cluster.json")).unwrap()).unwrap();
    let nodes = index["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, NODES);
    let roles: Vec<&str> = nodes.iter().map(|n| n["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["init", "control-plane", "control-plane", "worker", "worker"]
    );
    for n in nodes {
        let bytes = std::fs::read(out.join(n["bundle"].as_str().unwrap())).unwrap();
        let verified = kbc_bundle::verify(&bytes, n["digest"].as_str()).unwrap();
        assert_eq!(verified.manifest.node_name, n["name"].as_str().unwrap());
    }
    let members: Vec<&str> = index["etcdMembers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["peerUrl"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        [
            "https://192.168.56.11:2380",
            "https://192.168.56.12:2380",
            "https://192.168.56.13:2380"
        ]
    );
    // --node writes one bundle, the same bytes.
    let one = dir.path().join("cp-3.tgz");
    compile_in_process(&[
        "compile",
        HA,
        "--secrets",
        SECRETS,
        "--issued-at",
        AT,
        "--node",
        "cp-3",
        "-o",
        one.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&one).unwrap(),
        std::fs::read(out.join("cp-3.tgz")).unwrap()
    );
    // A .tgz output for a whole cluster is refused, and writes nothing.
    let o = kbc(&[
        "compile",
        HA,
        "--secrets",
        SECRETS,
        "-o",
        "/tmp/kbc-never.tgz",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--node NAME"));
    assert!(!Path::new("/tmp/kbc-never.tgz").exists());
}

#[test]
fn the_cluster_directory_is_byte_identical_across_processes_threads_zones_and_umasks() {
    let dir = tempfile::tempdir().unwrap();
    // ECDSA keys: this test is about the processes; RSA's prime search across thread
    // counts is compile_bundle's determinism test.
    let ecdsa = dir.path().join("ha-ecdsa.yaml");
    let text = std::fs::read_to_string(root().join(HA)).unwrap().replace(
        "clusterName: prod\n",
        "clusterName: prod\nencryptionAlgorithm: ECDSA-P256\n",
    );
    std::fs::write(&ecdsa, text).unwrap();
    let mut dirs = Vec::new();
    for (i, (threads, tz, umask)) in [("1", "UTC", "022"), ("4", "Pacific/Chatham", "077")]
        .into_iter()
        .enumerate()
    {
        let out = dir.path().join(format!("run-{i}"));
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" compile \"$2\" --secrets {SECRETS} --issued-at {AT} -o \"$1\""
            ))
            .arg(env!("CARGO_BIN_EXE_kbc"))
            .arg(&out)
            .arg(&ecdsa)
            .env("KBC_THREADS", threads)
            .env("TZ", tz)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        dirs.push(read_dir(&out));
    }
    assert_eq!(dirs[0].len(), NODES.len() + 1);
    assert_eq!(dirs[0], dirs[1]);
    let key = &files(&dir.path().join("run-0/cp-2.tgz"))["rootfs/etc/kubernetes/pki/apiserver.key"];
    assert!(String::from_utf8_lossy(key).contains("BEGIN EC PRIVATE KEY"));
}

/// `openssl x509 -noout -text` of a PEM certificate.
fn x509_text(pem: &[u8], dir: &Path, name: &str) -> String {
    let f = dir.join(name);
    std::fs::write(&f, pem).unwrap();
    let o = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&f)
        .output()
        .expect("openssl (tests/setup.sh installs it)");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const CA_FILES: [&str; 3] = [
    "rootfs/etc/kubernetes/pki/ca.crt",
    "rootfs/etc/kubernetes/pki/front-proxy-ca.crt",
    "rootfs/etc/kubernetes/pki/etcd/ca.crt",
];

#[test]
fn ca_certificates_depend_on_the_secrets_alone() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.yaml");
    ok(&[
        "secrets",
        "generate",
        "--ca-issued-at",
        "2026-01-01T00:00:00Z",
        "-o",
        secrets.to_str().unwrap(),
    ]);
    let secrets = secrets.to_str().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    compile_dir(HA, secrets, AT, &a);
    compile_dir(HA, secrets, "2027-03-04T05:06:07Z", &b);
    let mut seen: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    for out in [&a, &b] {
        for node in NODES {
            let f = files(&out.join(format!("{node}.tgz")));
            for ca in CA_FILES {
                if let Some(bytes) = f.get(ca) {
                    let first = seen.entry(ca).or_insert_with(|| bytes.clone());
                    assert_eq!(first, bytes, "{node}: {ca} differs");
                }
            }
        }
    }
    assert_eq!(seen.len(), 3);
    let text = x509_text(&seen[CA_FILES[0]], dir.path(), "ca.crt");
    assert!(
        text.contains("Not Before: Dec 31 23:55:00 2025 GMT"),
        "{text}"
    );
    // Leaf certificates follow the issue time.
    let leaf = "rootfs/etc/kubernetes/pki/apiserver.crt";
    assert_ne!(
        files(&a.join("cp-2.tgz"))[leaf],
        files(&b.join("cp-2.tgz"))[leaf]
    );
    // A secrets file without caIssuedAt still works, and says what the CAs start at.
    let o = kbc(&[
        "compile",
        HA,
        "--secrets",
        SECRETS,
        "--issued-at",
        AT,
        "--node",
        "cp-2",
        "-o",
        dir.path().join("x.tgz").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("has no caIssuedAt") && err.contains("start at the issue time"),
        "{err}"
    );
}

/// The PEM of a kubeconfig's embedded client certificate.
fn kubeconfig_cert(kubeconfig: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let v: serde_json::Value =
        serde_saphyr::from_str(std::str::from_utf8(kubeconfig).unwrap()).unwrap();
    let data = v["users"][0]["user"]["client-certificate-data"]
        .as_str()
        .unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap()
}

#[test]
fn every_node_gets_its_own_certificates_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = ha();
    let bundles: BTreeMap<&str, BTreeMap<String, Vec<u8>>> = NODES
        .iter()
        .map(|n| (*n, files(&out.join(format!("{n}.tgz")))))
        .collect();
    // Control-plane nodes: kubeadm's join files (docs/clusters.md), kbc's kubelet.conf.
    for (i, node) in ["cp-2", "cp-3"].iter().enumerate() {
        let f = &bundles[node];
        let ip = format!("192.168.56.{}", 12 + i);
        assert!(!f.contains_key("rootfs/etc/kubernetes/super-admin.conf"));
        for must in [
            "admin.conf",
            "controller-manager.conf",
            "scheduler.conf",
            "kubelet.conf",
        ] {
            assert!(
                f.contains_key(&format!("rootfs/etc/kubernetes/{must}")),
                "{node}: {must}"
            );
        }
        let pki = |p: &str| format!("rootfs/etc/kubernetes/pki/{p}");
        let text = x509_text(&f[&pki("apiserver.crt")], dir.path(), "a.crt");
        assert!(
            text.contains(&format!("DNS:{node}")) && text.contains(&format!("IP Address:{ip}")),
            "{text}"
        );
        assert!(text.contains("DNS:k8s-api.prod.internal"), "{text}");
        for etcd in ["etcd/server.crt", "etcd/peer.crt"] {
            let text = x509_text(&f[&pki(etcd)], dir.path(), "e.crt");
            assert!(
                text.contains(&format!("DNS:{node}")) && text.contains(&format!("IP Address:{ip}")),
                "{etcd}: {text}"
            );
        }
        // Chains to the cluster's CAs, for the right purpose.
        let write = |name: &str, p: &str| {
            let path = dir.path().join(format!("{node}-{name}"));
            std::fs::write(&path, &f[&pki(p)]).unwrap();
            path.display().to_string()
        };
        for (ca, leaf, purpose) in [
            ("ca.crt", "apiserver.crt", "sslserver"),
            ("ca.crt", "apiserver-kubelet-client.crt", "sslclient"),
            ("front-proxy-ca.crt", "front-proxy-client.crt", "sslclient"),
            ("etcd/ca.crt", "etcd/server.crt", "sslserver"),
            ("etcd/ca.crt", "etcd/peer.crt", "sslclient"),
            ("etcd/ca.crt", "apiserver-etcd-client.crt", "sslclient"),
        ] {
            let o = Command::new("openssl")
                .args([
                    "verify",
                    "-purpose",
                    purpose,
                    "-CAfile",
                    &write("ca", ca),
                    &write("leaf", leaf),
                ])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{node} {leaf}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // sa.pub is 0644 on a joined node (kubeadm's download-certs writes it so).
        let b = kbc_bundle::verify(
            &std::fs::read(out.join(format!("{node}.tgz"))).unwrap(),
            None,
        )
        .unwrap();
        let sa_pub = b
            .files
            .iter()
            .find(|f| f.path.ends_with("pki/sa.pub"))
            .unwrap();
        assert_eq!(sa_pub.mode, 0o644);
    }
    // No node shares a private key with another, except the shared CA and SA keys.
    let shared = [
        "pki/ca.key",
        "pki/front-proxy-ca.key",
        "pki/etcd/ca.key",
        "pki/sa.key",
    ];
    let mut owner: BTreeMap<Vec<u8>, String> = BTreeMap::new();
    for (node, f) in &bundles {
        for (path, data) in f {
            let key = if path.ends_with(".key") {
                data.clone()
            } else if path.ends_with(".conf") && path.contains("rootfs/etc/kubernetes/") {
                let text = String::from_utf8_lossy(data);
                match text
                    .lines()
                    .find(|l| l.trim_start().starts_with("client-key-data:"))
                {
                    Some(l) => l.as_bytes().to_vec(),
                    None => continue,
                }
            } else {
                continue;
            };
            if shared.iter().any(|s| path.ends_with(s)) {
                continue;
            }
            if let Some(other) = owner.insert(key, format!("{node}:{path}")) {
                panic!("{node}:{path} has the key of {other}");
            }
        }
    }
    // Workers: kubeadm's worker files, no CA key.
    let w = &bundles["worker-1"];
    let paths: Vec<&str> = w.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "images.txt",
            "rootfs/etc/kubernetes/kubelet.conf",
            "rootfs/etc/kubernetes/pki/ca.crt",
            "rootfs/var/lib/kubelet/config.yaml",
            "rootfs/var/lib/kubelet/kubeadm-flags.env"
        ]
    );
    let text = x509_text(
        &kubeconfig_cert(&w["rootfs/etc/kubernetes/kubelet.conf"]),
        dir.path(),
        "k.crt",
    );
    assert!(
        text.contains("Subject: O = system:nodes, CN = system:node:worker-1"),
        "{text}"
    );
    let flags =
        String::from_utf8_lossy(&w["rootfs/var/lib/kubelet/kubeadm-flags.env"]).into_owned();
    assert!(
        flags.contains("--register-with-taints=dedicated=gpu:NoSchedule"),
        "{flags}"
    );
    let g = &bundles["generic-worker-4"];
    let boot =
        String::from_utf8_lossy(&g["rootfs/etc/kubernetes/bootstrap-kubelet.conf"]).into_owned();
    assert!(
        boot.contains("token: abcdef.0123456789abcdef") && boot.contains("name: prod"),
        "{boot}"
    );
    assert!(
        boot.contains("server: https://k8s-api.prod.internal:6443"),
        "{boot}"
    );
    let flags =
        String::from_utf8_lossy(&g["rootfs/var/lib/kubelet/kubeadm-flags.env"]).into_owned();
    assert!(!flags.contains("hostname-override"), "{flags}");
    assert!(!g
        .keys()
        .any(|p| p.ends_with(".key") || p.ends_with("/kubelet.conf")));
    // The worker's kubelet configuration is the cluster's (kubelet-config ConfigMap).
    assert_eq!(
        w["rootfs/var/lib/kubelet/config.yaml"],
        bundles["cp-1"]["rootfs/var/lib/kubelet/config.yaml"]
    );
}

#[test]
fn node_2s_etcd_client_talks_mutual_tls_to_node_1s_etcd_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = ha();
    let write = |node: &str, p: &str| {
        let f = files(&out.join(format!("{node}.tgz")));
        let path = dir.path().join(format!("{node}-{}", p.replace('/', "-")));
        std::fs::write(&path, &f[&format!("rootfs/etc/kubernetes/pki/{p}")]).unwrap();
        path.display().to_string()
    };
    let ca = write("cp-1", "etcd/ca.crt");
    assert_eq!(
        std::fs::read(&ca).unwrap(),
        std::fs::read(write("cp-2", "etcd/ca.crt")).unwrap()
    );
    let pair = |node: &str, base: &str| {
        (
            write(node, &format!("{base}.crt")),
            write(node, &format!("{base}.key")),
        )
    };
    let handshake = |server: (String, String), client: (String, String), check| {
        crate::pki_tls::handshake((&server.0, &server.1), &ca, (&client.0, &client.1), check)
    };
    handshake(
        pair("cp-1", "etcd/server"),
        pair("cp-2", "apiserver-etcd-client"),
        ("-verify_ip", "127.0.0.1"),
    );
    // And node 3's peer certificate with node 2's peer (the raft transport).
    handshake(
        pair("cp-2", "etcd/peer"),
        pair("cp-3", "etcd/peer"),
        ("-verify_ip", "192.168.56.12"),
    );
}

#[test]
fn every_static_pod_of_every_node_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = ha();
    let mut list = Vec::new();
    for node in NODES {
        for (path, data) in files(&out.join(format!("{node}.tgz"))) {
            if path.starts_with("rootfs/etc/kubernetes/manifests/") || path.starts_with("api/") {
                let f = dir
                    .path()
                    .join(format!("{node}-{}", path.replace('/', "-")));
                std::fs::write(&f, data).unwrap();
                list.push(f.display().to_string());
            }
        }
    }
    // init: 4 static Pods and the API files; cp-2, cp-3: 4 static Pods each.
    assert!(list.len() > 12 + 4, "{list:?}");
    crate::common::kubernetes_validate(&list);
    let etcd = files(&out.join("cp-3.tgz"))["rootfs/etc/kubernetes/manifests/etcd.yaml"].clone();
    let etcd = String::from_utf8(etcd).unwrap();
    assert!(etcd.contains("--initial-cluster=cp-1=https://192.168.56.11:2380,cp-2=https://192.168.56.12:2380,cp-3=https://192.168.56.13:2380"), "{etcd}");
    assert!(etcd.contains("--initial-cluster-state=existing"));
}

/// The cluster file with `extra` appended as one more document.
fn with_document(dir: &Path, extra: &str) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join(HA)).unwrap();
    text.push_str("---\n");
    text.push_str(extra);
    let f = dir.join("cluster.yaml");
    std::fs::write(&f, text).unwrap();
    f
}

fn refused(file: &Path) -> String {
    let o = kbc(&[
        "compile",
        file.to_str().unwrap(),
        "--secrets",
        SECRETS,
        "-o",
        file.with_extension("out").to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !file.with_extension("out").exists(),
        "nothing is written on refusal"
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn mistakes_in_join_documents_are_located_and_name_both_documents() {
    let dir = tempfile::tempdir().unwrap();
    let cp = |name: &str, ip: &str| {
        format!("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: {name}\ncontrolPlane:\n  localAPIEndpoint:\n    advertiseAddress: {ip}\n")
    };
    let err = refused(&with_document(dir.path(), &cp("cp-2", "192.168.56.20")));
    assert!(
        err.contains(
            "nodeRegistration.name: \"cp-2\" is also the name of the JoinConfiguration #1 document"
        ),
        "{err}"
    );
    assert!(
        err.contains("cluster.yaml:59:9 (JoinConfiguration #5)"),
        "{err}"
    );
    let err = refused(&with_document(dir.path(), &cp("cp-9", "192.168.56.11")));
    assert!(err.contains("\"192.168.56.11\" is also the advertise address (and so etcd peer URL) of the InitConfiguration document"), "{err}");
    // kubeadm join's phase names, not init's.
    let err = refused(&with_document(dir.path(), "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: w-9\nskipPhases: [addon/coredns]\n"));
    assert!(
        err.contains("skipPhases[0]: invalid phase name: addon/coredns"),
        "{err}"
    );
    // The InitConfiguration's endpoint rules, under controlPlane.
    let err = refused(&with_document(dir.path(), &cp("cp-9", "127.0.0.1")));
    assert!(err.contains("controlPlane.localAPIEndpoint.advertiseAddress: Invalid value: \"127.0.0.1\": kubeadm would replace this address"), "{err}");
    let err = refused(&with_document(dir.path(), "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: w-9\ndiscovery:\n  bootstrapToken:\n    token: zzzzzz.0123456789abcdef\n    apiServerEndpoint: 10.9.9.9:6443\n    unsafeSkipCAVerification: true\n"));
    assert!(err.contains("discovery.bootstrapToken.token: the token is not one of the InitConfiguration's bootstrapTokens"), "{err}");
    assert!(
        err.contains("discovery.bootstrapToken.apiServerEndpoint: \"10.9.9.9:6443\" is neither"),
        "{err}"
    );
    let err = refused(&with_document(dir.path(), "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: w-9\ndiscovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    caCertHashes: [\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]\n"));
    assert!(err.contains("JoinConfiguration #5: discovery.bootstrapToken.caCertHashes does not hold this cluster's CA hash sha256:"), "{err}");
    let err = refused(&with_document(dir.path(), "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: w-9\n  tains: []\n"));
    assert!(
        err.contains("unknown field \"tains\"") && err.contains("(JoinConfiguration #5)"),
        "{err}"
    );
    // A control-plane node needs the cluster's controlPlaneEndpoint (kubeadm's preflight).
    let text = std::fs::read_to_string(root().join(HA))
        .unwrap()
        .replace("controlPlaneEndpoint: k8s-api.prod.internal:6443\n", "");
    let f = dir.path().join("no-endpoint.yaml");
    std::fs::write(&f, text).unwrap();
    let err = refused(&f);
    assert!(err.contains("unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address"), "{err}");
    // A worker may join a cluster without one.
    let workers_only: Vec<String> = std::fs::read_to_string(&f)
        .unwrap()
        .split("\n---\n")
        .filter(|d| !d.contains("controlPlane:"))
        .map(str::to_string)
        .collect();
    std::fs::write(&f, workers_only.join("\n---\n")).unwrap();
    compile_in_process(&[
        "compile",
        f.to_str().unwrap(),
        "--secrets",
        SECRETS,
        "-o",
        dir.path().join("w").to_str().unwrap(),
    ]);
}

#[test]
fn external_etcd_nodes_join_without_an_etcd_step() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/external-etcd.yaml")).unwrap();
    let text = format!("{text}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: cp-2\ncontrolPlane:\n  localAPIEndpoint:\n    advertiseAddress: 192.168.56.42\n");
    let f = dir.path().join("external.yaml");
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("ext");
    compile_dir(f.to_str().unwrap(), SECRETS, AT, &out);
    let b = kbc_bundle::verify(&std::fs::read(out.join("cp-2.tgz")).unwrap(), None).unwrap();
    let plan = b.manifest.apply_plan().unwrap();
    assert_eq!(
        plan.phases,
        [
            "preflight",
            "kubelet-start",
            "wait-control-plane",
            "control-plane-join/mark-control-plane"
        ]
    );
    assert!(plan.join.unwrap().etcd.is_none());
    assert!(!b
        .files
        .iter()
        .any(|f| f.path.ends_with("manifests/etcd.yaml") || f.path.contains("pki/etcd/")));
    // The external etcd client files, as on the init node.
    let init = files(&out.join("cp-ext-1.tgz"));
    let external: Vec<&String> = init
        .keys()
        .filter(|p| p.contains("etcd") && p.starts_with("rootfs/") && !p.contains("manifests"))
        .collect();
    assert!(!external.is_empty());
    for p in external {
        assert_eq!(
            b.files.iter().find(|f| &f.path == p).map(|f| &f.data),
            Some(&init[p]),
            "{p}"
        );
    }
}

#[test]
fn the_review_rendering_of_the_cluster_is_a_snapshot_and_equals_inspect() {
    let render = ok(&["render", HA]);
    insta::assert_snapshot!("cluster_review_rendering", render);
    let out = ha();
    let inspect = ok(&["inspect", out.to_str().unwrap()]);
    let bodies = |t: &str| -> Vec<String> {
        t.split("\n######## ")
            .skip(1)
            .map(|node| {
                let (heading, rest) = node.split_once('\n').unwrap();
                let body = &rest[rest.find(kbc::review::TITLE).unwrap()..];
                format!("{heading}\n{body}")
            })
            .collect()
    };
    let (r, i) = (bodies(&render), bodies(&inspect));
    assert_eq!(r.len(), NODES.len());
    assert_eq!(r, i);
    for secret in ["abcdef.0123456789abcdef", "0123456789abcdef", "BEGIN"] {
        assert!(
            !render.contains(secret) && !inspect.contains(secret),
            "{secret}"
        );
    }
}

#[test]
fn a_joining_node_takes_its_own_patches_and_json_lists_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let patches = dir.path().join("cp-2-patches");
    std::fs::create_dir(&patches).unwrap();
    std::fs::write(
        patches.join("kube-apiserver+merge.yaml"),
        "metadata:\n  labels:\n    patched-for: cp-2\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(root().join(HA)).unwrap().replace(
        "    advertiseAddress: 192.168.56.12\n",
        &format!(
            "    advertiseAddress: 192.168.56.12\npatches:\n  directory: {}\n",
            patches.display()
        ),
    );
    let file = dir.path().join("patched.yaml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let json = compile_in_process(&[
        "compile",
        file.to_str().unwrap(),
        "--secrets",
        SECRETS,
        "--issued-at",
        AT,
        "--output-format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    let apiserver = |node: &str| {
        String::from_utf8(
            files(&out.join(format!("{node}.tgz")))
                ["rootfs/etc/kubernetes/manifests/kube-apiserver.yaml"]
                .clone(),
        )
        .unwrap()
    };
    assert!(apiserver("cp-2").contains("patched-for: cp-2"));
    assert!(!apiserver("cp-3").contains("patched-for"));
    assert!(!apiserver("cp-1").contains("patched-for"));
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("cluster.json")).unwrap()).unwrap();
    assert_eq!(summary["kind"], "ClusterSummary");
    assert_eq!(summary["nodes"], index["nodes"]);
    assert_eq!(summary["etcdMembers"], index["etcdMembers"]);
}

#[test]
fn a_users_own_ca_signs_every_node_and_render_still_equals_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("ca.crt"), dir.path().join("ca.key"));
    let o = Command::new("openssl")
        .args([
            "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        ])
        .args(["-subj", "/CN=corp-kubernetes-ca", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,digitalSignature,keyCertSign"])
        .output()
        .expect("openssl runs (tests/setup.sh installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let secrets = dir.path().join("secrets.yaml");
    ok(&[
        "secrets",
        "generate",
        "--ca-cert",
        crt.to_str().unwrap(),
        "--ca-key",
        key.to_str().unwrap(),
        "-o",
        secrets.to_str().unwrap(),
    ]);
    let secrets = secrets.to_str().unwrap();
    // Issued five minutes after the CA starts: a kubeconfig certificate starts with its CA
    // (kubeadm's signer), and the keyless plan assumes the CA was issued at the issue time.
    let start = Command::new("openssl")
        .args(["x509", "-noout", "-startdate", "-in"])
        .arg(&crt)
        .output()
        .unwrap();
    let start = String::from_utf8(start.stdout).unwrap();
    let start = start.trim().trim_start_matches("notBefore=");
    let at = Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("{start} + 5 minutes"),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .unwrap();
    let at = String::from_utf8(at.stdout).unwrap();
    let out = dir.path().join("out");
    compile_dir(HA, secrets, at.trim(), &out);
    let ca = std::fs::read(&crt).unwrap();
    for node in NODES {
        let f = files(&out.join(format!("{node}.tgz")));
        assert_eq!(f["rootfs/etc/kubernetes/pki/ca.crt"], ca, "{node}");
    }
    let render = ok(&["render", HA, "--secrets", secrets]);
    let inspect = ok(&["inspect", out.to_str().unwrap()]);
    let bodies = |t: &str| -> Vec<String> {
        t.split("\n######## ")
            .skip(1)
            .map(|n| n[n.find(kbc::review::TITLE).unwrap()..].to_string())
            .collect()
    };
    assert_eq!(bodies(&render), bodies(&inspect));
    assert!(render.contains("issuer: CN=corp-kubernetes-ca"));
}

#[test]
fn kubectl_reads_every_kubeconfig_of_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let cpe = "https://k8s-api.prod.internal:6443";
    // (node, file, server, current context)
    let expected = [
        (
            "cp-2",
            "admin.conf",
            cpe.to_string(),
            "kubernetes-admin@prod",
        ),
        (
            "cp-2",
            "controller-manager.conf",
            "https://192.168.56.12:6443".into(),
            "system:kube-controller-manager@prod",
        ),
        (
            "cp-2",
            "scheduler.conf",
            "https://192.168.56.12:6443".into(),
            "system:kube-scheduler@prod",
        ),
        ("cp-2", "kubelet.conf", cpe.into(), "system:node:cp-2@prod"),
        (
            "cp-3",
            "controller-manager.conf",
            "https://192.168.56.13:6443".into(),
            "system:kube-controller-manager@prod",
        ),
        (
            "worker-1",
            "kubelet.conf",
            cpe.into(),
            "system:node:worker-1@prod",
        ),
        (
            "generic-worker-4",
            "bootstrap-kubelet.conf",
            cpe.into(),
            "tls-bootstrap-token-user@kubernetes",
        ),
    ];
    for (node, file, server, context) in expected {
        let data =
            &files(&ha().join(format!("{node}.tgz")))[&format!("rootfs/etc/kubernetes/{file}")];
        let conf = dir.path().join(format!("{node}-{file}"));
        std::fs::write(&conf, data).unwrap();
        let kubectl = |args: &[&str]| {
            let o = Command::new("kubectl")
                .args(args)
                .arg("--kubeconfig")
                .arg(&conf)
                .output()
                .expect("kubectl (tests/setup.sh checks it)");
            assert!(
                o.status.success(),
                "{node} {file}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8(o.stdout).unwrap()
        };
        let view = kubectl(&[
            "config",
            "view",
            "--raw",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ]);
        assert_eq!(view, server, "{node} {file}");
        assert_eq!(
            kubectl(&["config", "current-context"]).trim(),
            context,
            "{node} {file}"
        );
        let cluster = kubectl(&[
            "config",
            "view",
            "--raw",
            "-o",
            "jsonpath={.clusters[0].name}",
        ]);
        assert_eq!(cluster, "prod", "{node} {file}");
    }
}
