//! An in-process HTTPS API server that speaks the part of the Kubernetes API contract
//! kbc-apply uses: TLS 1.2/1.3 with the bundle's apiserver.crt/key, client certificates
//! required and verified against ca.crt (`WebPkiClientVerifier`), HTTP/1.1 with keep-alive
//! on one thread per connection, the real resource paths of core and group resources,
//! GET, server-side apply (`application/apply-patch+yaml` only, else 415; `fieldManager`
//! required) and strategic-merge PATCH of any Node, an in-memory object store keyed by path
//! with uids and resourceVersions (a no-op apply keeps the version), and injectable faults.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use serde_json::{json, Value};

use super::{Pki, NODE};

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The port refuses connections for this long after [`ApiServer::start`].
    pub refuse_for: Duration,
    /// The first N API requests (not health checks) answer 500.
    pub status_500: usize,
    /// The next N answer 429.
    pub status_429: usize,
    /// Every answer waits this long.
    pub slow: Duration,
    /// The Node is registered by the kubelet after this many GETs of it.
    pub node_after_gets: usize,
    /// The first N Node PATCHes answer 409 Conflict.
    pub node_conflicts: usize,
    /// Requests whose path contains this answer 422 with a message.
    pub reject_path: Option<String>,
    /// Requests made with this client certificate (PEM; admin.conf's) are forbidden until
    /// the `kubeadm:cluster-admins` ClusterRoleBinding exists, as on a fresh cluster.
    pub forbid_until_cluster_admins: Option<String>,
    /// Accept clients without a certificate (a controller-manager's or scheduler's
    /// health endpoint rather than the API server).
    pub client_cert_optional: bool,
}

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Whether the client certificate was the one of `forbid_until_cluster_admins`.
    pub restricted_identity: bool,
    /// sha256 (hex) of the client certificate's DER: which identity sent the request.
    pub client_sha256: String,
    pub method: String,
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    requests: Vec<Recorded>,
    faults: Faults,
    version: u64,
    node_gets: usize,
    node_pending: Option<Value>,
}

/// The running server.
pub struct ApiServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    pub tls_failures: Arc<AtomicUsize>,
    /// Why each failed handshake failed, as the server saw it.
    pub tls_errors: Arc<Mutex<Vec<String>>>,
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code}),
    )
}

/// The resource table of the paths the server serves: kind → (plural, namespaced).
fn resource(kind: &str) -> Option<(&'static str, bool)> {
    Some(match kind {
        "ConfigMap" => ("configmaps", true),
        "Secret" => ("secrets", true),
        "ServiceAccount" => ("serviceaccounts", true),
        "Service" => ("services", true),
        "Role" => ("roles", true),
        "RoleBinding" => ("rolebindings", true),
        "ClusterRole" => ("clusterroles", false),
        "ClusterRoleBinding" => ("clusterrolebindings", false),
        "Deployment" => ("deployments", true),
        "DaemonSet" => ("daemonsets", true),
        "Node" => ("nodes", false),
        _ => return None,
    })
}

/// Where an object lives, computed independently of the applier.
pub fn object_path(obj: &Value) -> Option<String> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let name = obj.pointer("/metadata/name")?.as_str()?;
    let (plural, namespaced) = resource(kind)?;
    let prefix = if api_version == "v1" {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api_version}")
    };
    if namespaced {
        let ns = obj.pointer("/metadata/namespace")?.as_str()?;
        Some(format!("{prefix}/namespaces/{ns}/{plural}/{name}"))
    } else {
        Some(format!("{prefix}/{plural}/{name}"))
    }
}

/// JSON merge: maps recursively, everything else replaced (enough for SSA of whole
/// objects and for the Node patches kbc-apply sends).
pub fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// The Node the kubelet registers: hostname label, a not-ready taint of its own.
pub fn registered_node() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": NODE, "uid": "node-uid", "resourceVersion": "1",
                     "labels": {"kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux"}},
        "spec": {"taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]},
    })
}

/// What the server presents and trusts, PEM: its certificate and key, and the CA that
/// client certificates must chain to.
#[derive(Debug, Clone)]
pub struct Identity {
    pub ca_crt: String,
    pub server_crt: String,
    pub server_key: String,
}

impl Identity {
    /// `pki`'s apiserver certificate, trusting `pki`'s CA.
    pub fn of(pki: &Pki) -> Identity {
        Identity {
            ca_crt: pki.ca_crt.clone(),
            server_crt: pki.server_crt.clone(),
            server_key: pki.server_key.clone(),
        }
    }

    /// A compiled bundle's own `rootfs/etc/kubernetes/pki/apiserver.crt` and
    /// `apiserver.key`, trusting its `pki/ca.crt`.
    pub fn of_bundle(bundle: &kbc_bundle::VerifiedBundle) -> Identity {
        let file = |name: &str| {
            let path = format!("rootfs/etc/kubernetes/pki/{name}");
            let f = bundle
                .files
                .iter()
                .find(|f| f.path == path)
                .unwrap_or_else(|| panic!("the bundle has no {path}"));
            String::from_utf8(f.data.clone()).expect("PEM is text")
        };
        Identity {
            ca_crt: file("ca.crt"),
            server_crt: file("apiserver.crt"),
            server_key: file("apiserver.key"),
        }
    }
}

impl ApiServer {
    /// Starts the server with `pki`'s apiserver certificate, trusting client
    /// certificates from `pki`'s CA only.
    pub fn start(pki: &Pki, faults: Faults) -> ApiServer {
        ApiServer::start_with(&Identity::of(pki), faults)
    }

    /// Starts the server as `id`: TLS with its certificate and key, client certificates
    /// required (unless `faults.client_cert_optional`) and verified against its CA.
    pub fn start_with(id: &Identity, faults: Faults) -> ApiServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(id.ca_crt.as_bytes()).expect("ca pem"))
            .expect("add root");
        let mut builder =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        if faults.client_cert_optional {
            builder = builder.allow_unauthenticated();
        }
        let verifier = builder.build().expect("client verifier");
        let chain = vec![CertificateDer::from_pem_slice(id.server_crt.as_bytes()).expect("crt")];
        let key = PrivateKeyDer::from_pem_slice(id.server_key.as_bytes()).expect("key");
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .expect("server config");
        let config = Arc::new(config);

        let probe = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = probe.local_addr().unwrap();
        let delay = faults.refuse_for;
        let mut state = State {
            faults,
            version: 100,
            ..State::default()
        };
        if state.faults.node_after_gets == 0 {
            state
                .objects
                .insert(format!("/api/v1/nodes/{NODE}"), registered_node());
        } else {
            state.node_pending = Some(registered_node());
        }
        let state = Arc::new(Mutex::new(state));
        let tls_failures = Arc::new(AtomicUsize::new(0));
        let tls_errors = Arc::new(Mutex::new(Vec::new()));
        let listener = if delay.is_zero() {
            Some(probe)
        } else {
            // Close the port: connections are refused until the thread binds it again.
            drop(probe);
            None
        };
        let (st, fails, errors) = (state.clone(), tls_failures.clone(), tls_errors.clone());
        std::thread::spawn(move || {
            let listener = listener.unwrap_or_else(|| {
                std::thread::sleep(delay);
                TcpListener::bind(addr).expect("re-bind the test server's port")
            });
            for stream in listener.incoming().flatten() {
                let (config, st) = (config.clone(), st.clone());
                let (fails, errors) = (fails.clone(), errors.clone());
                std::thread::spawn(move || serve(stream, config, st, fails, errors));
            }
        });
        ApiServer {
            addr,
            state,
            tls_failures,
            tls_errors,
        }
    }

    /// The reasons of the failed handshakes so far.
    pub fn tls_errors(&self) -> Vec<String> {
        self.tls_errors.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }

    pub fn object(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    pub fn paths(&self) -> Vec<String> {
        self.state.lock().unwrap().objects.keys().cloned().collect()
    }

    /// The kubelet of node `name` registers it (hostname label, its own taint).
    pub fn register_node(&self, name: &str) {
        let mut node = registered_node();
        node["metadata"]["name"] = json!(name);
        node["metadata"]["labels"]["kubernetes.io/hostname"] = json!(name);
        self.state
            .lock()
            .unwrap()
            .objects
            .insert(format!("/api/v1/nodes/{name}"), node);
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.lock().unwrap().faults = faults;
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    state: Arc<Mutex<State>>,
    tls_failures: Arc<AtomicUsize>,
    tls_errors: Arc<Mutex<Vec<String>>>,
) {
    // One response is one write (head and body together) and goes out at once: with
    // Nagle's algorithm each response waits for the client's delayed ACK (40 ms).
    let _ = tcp.set_nodelay(true);
    let conn = ServerConnection::new(config).expect("server connection");
    let mut tls = StreamOwned::new(conn, tcp);
    // Complete the handshake first so that a refused client certificate is counted.
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            tls_errors.lock().unwrap().push(e.to_string());
            tls_failures.fetch_add(1, Ordering::SeqCst);
            return;
        }
    }
    let peer = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    let client = peer
        .as_deref()
        .map(kbc_bundle::sha256_hex)
        .unwrap_or_default();
    let restricted = {
        let st = state.lock().unwrap();
        st.faults
            .forbid_until_cluster_admins
            .as_ref()
            .is_some_and(|pem| {
                let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("pem");
                peer.as_deref() == Some(der.as_ref())
            })
    };
    let mut reader = BufReader::new(tls);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_string(), target.to_string());
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (code, answer, slow) = handle(
            &state,
            &method,
            &target,
            headers.get("content-type").cloned(),
            &body,
            (restricted, &client),
        );
        if !slow.is_zero() {
            std::thread::sleep(slow);
        }
        let text = answer.to_string();
        let reason = match code {
            200 => "OK",
            201 => "Created",
            404 => "Not Found",
            409 => "Conflict",
            415 => "Unsupported Media Type",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            _ => "Other",
        };
        let retry = if code == 429 {
            "Retry-After: 0\r\n"
        } else {
            ""
        };
        let head = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n{retry}Content-Length: {}\r\n\r\n",
            text.len()
        );
        let stream = reader.get_mut();
        let response = [head.as_bytes(), text.as_bytes()].concat();
        if stream.write_all(&response).is_err() || stream.flush().is_err() {
            return;
        }
    }
}

fn handle(
    state: &Mutex<State>,
    method: &str,
    target: &str,
    content_type: Option<String>,
    body: &[u8],
    (restricted, client): (bool, &str),
) -> (u16, Value, Duration) {
    let mut st = state.lock().unwrap();
    let slow = st.faults.slow;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if matches!(path, "/livez" | "/healthz" | "/readyz") && method == "GET" {
        return (200, json!("ok"), slow);
    }
    st.requests.push(Recorded {
        restricted_identity: restricted,
        client_sha256: client.to_string(),
        method: method.to_string(),
        path: target.to_string(),
        content_type: content_type.clone(),
        body: String::from_utf8_lossy(body).into_owned(),
    });
    let binding = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins";
    if restricted && !st.objects.contains_key(binding) {
        let (c, v) = status(
            403,
            "Forbidden",
            "User \"kubernetes-admin\" cannot do this: kubeadm:cluster-admins has no binding yet",
        );
        return (c, v, slow);
    }
    if st.faults.status_500 > 0 {
        st.faults.status_500 -= 1;
        let (c, v) = status(500, "InternalError", "injected failure");
        return (c, v, slow);
    }
    if st.faults.status_429 > 0 {
        st.faults.status_429 -= 1;
        let (c, v) = status(429, "TooManyRequests", "injected throttling");
        return (c, v, slow);
    }
    if let Some(p) = &st.faults.reject_path {
        if path.contains(p.as_str()) && method == "PATCH" {
            let (c, v) = status(
                422,
                "Invalid",
                "injected: data.ClusterConfiguration: Invalid value",
            );
            return (c, v, slow);
        }
    }
    let node_path = format!("/api/v1/nodes/{NODE}");
    let (code, value) = match method {
        "GET" => {
            if path == node_path {
                st.node_gets += 1;
                if st.node_gets > st.faults.node_after_gets {
                    if let Some(node) = st.node_pending.take() {
                        st.objects.insert(node_path.clone(), node);
                    }
                }
            }
            match st.objects.get(path) {
                Some(v) => (200, v.clone()),
                None => status(404, "NotFound", &format!("{path} not found")),
            }
        }
        "PATCH" => patch(&mut st, path, query, content_type.as_deref(), body),
        _ => status(405, "MethodNotAllowed", "method not allowed"),
    };
    (code, value, slow)
}

fn patch(
    st: &mut State,
    path: &str,
    query: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "the body is not JSON");
    };
    match content_type {
        Some("application/apply-patch+yaml") => {
            if !query.split('&').any(|q| q == "fieldManager=kbc") {
                return status(
                    400,
                    "BadRequest",
                    "fieldManager is required for apply patch",
                );
            }
            if object_path(&patch).as_deref() != Some(path) {
                return status(
                    400,
                    "BadRequest",
                    &format!(
                        "the object does not belong at {path} (expected {:?})",
                        object_path(&patch)
                    ),
                );
            }
            st.version += 1;
            let version = st.version;
            match st.objects.get(path).cloned() {
                None => {
                    let mut obj = patch;
                    let meta = obj["metadata"].as_object_mut().expect("metadata is a map");
                    meta.insert("uid".into(), json!(format!("uid-{version}")));
                    meta.insert("resourceVersion".into(), json!(version.to_string()));
                    if obj["kind"] == "Secret" && obj.get("type").is_none() {
                        obj["type"] = json!("Opaque");
                    }
                    st.objects.insert(path.to_string(), obj.clone());
                    (201, obj)
                }
                Some(old) => {
                    let mut obj = old.clone();
                    merge(&mut obj, &patch);
                    if obj == old {
                        (200, old)
                    } else {
                        obj["metadata"]["resourceVersion"] = json!(version.to_string());
                        st.objects.insert(path.to_string(), obj.clone());
                        (200, obj)
                    }
                }
            }
        }
        Some("application/strategic-merge-patch+json") if path.starts_with("/api/v1/nodes/") => {
            if st.faults.node_conflicts > 0 {
                st.faults.node_conflicts -= 1;
                return status(
                    409,
                    "Conflict",
                    "injected conflict: the object has been modified",
                );
            }
            let Some(mut node) = st.objects.get(path).cloned() else {
                return status(404, "NotFound", "node not found");
            };
            merge(&mut node, &patch);
            st.version += 1;
            node["metadata"]["resourceVersion"] = json!(st.version.to_string());
            st.objects.insert(path.to_string(), node.clone());
            (200, node)
        }
        other => status(
            415,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format: {}",
                other.unwrap_or("")
            ),
        ),
    }
}
