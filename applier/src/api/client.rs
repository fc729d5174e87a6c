//! The HTTPS client: ureq 3 over rustls with the ring provider passed explicitly
//! (no default provider is compiled in), the kubeconfig's CA as the only root, its client certificate for
//! mutual TLS. [`ApiClient::send`] retries with exponential backoff on connection errors,
//! 5xx and 429 until the plan's `kubernetesAPICall` timeout; every other status is returned
//! to the caller, which turns unexpected ones into [`ApiError::Rejected`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

use super::kubeconfig::{self, KubeconfigError};
use super::request::{ApiRequest, ObjectRef};

/// First pause between two attempts; doubled after each, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Longest a single attempt may take (connect, TLS, request, answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the client connects and which name it expects in the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` to connect to (`--api-server`, else the plan's `apiServer`).
    pub connect: String,
    /// The name the server certificate must hold (`--tls-server-name`, else the host of
    /// the URL connected to).
    pub server_name: String,
    pub port: u16,
}

impl Endpoint {
    /// From an `https://host[:port]` URL and the optional overrides.
    pub fn new(
        plan_url: &str,
        api_server: Option<&str>,
        tls_server_name: Option<&str>,
    ) -> Result<Endpoint, ApiError> {
        let url = api_server.unwrap_or(plan_url);
        let (host, port) = split_url(url).ok_or_else(|| ApiError::BadUrl(url.to_string()))?;
        let bracketed = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        Ok(Endpoint {
            connect: format!("{bracketed}:{port}"),
            server_name: tls_server_name.map(str::to_string).unwrap_or(host),
            port,
        })
    }

    /// The URL base the requests use: the TLS name as host, so that rustls verifies it;
    /// the resolver connects to [`Endpoint::connect`] whatever the host says.
    pub fn base(&self) -> String {
        if self.server_name.contains(':') {
            format!("https://[{}]:{}", self.server_name, self.port)
        } else {
            format!("https://{}:{}", self.server_name, self.port)
        }
    }
}

/// `https://host:port/...` → (host without brackets, port; 443 by default).
pub fn split_url(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split('/').next()?;
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 443,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None if !authority.is_empty() => Some((authority.to_string(), 443)),
        None => None,
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("\"{0}\" is not an https://host[:port] URL")]
    BadUrl(String),
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    #[error("kubeconfig \"{}\": {what} is not usable PEM", .path.display())]
    Pem {
        path: std::path::PathBuf,
        what: &'static str,
        #[source]
        source: ureq::Error,
    },
    #[error("cannot resolve \"{0}\"")]
    Resolve(String, #[source] std::io::Error),
    /// The server answered with a status that is neither success nor retried.
    #[error("{method} {object} ({path}): the API server answered {status}: {message}")]
    Rejected {
        method: &'static str,
        object: Box<ObjectRef>,
        path: String,
        status: u16,
        message: String,
    },
    /// Retried until the timeout; the last error or status is kept.
    #[error("{method} {object} ({path}): gave up after {attempts} attempts in {seconds} s; last error: {last}")]
    GaveUp {
        method: &'static str,
        object: Box<ObjectRef>,
        path: String,
        attempts: u32,
        seconds: u64,
        last: String,
    },
    /// An error that retrying cannot fix (TLS refused, bad request data).
    #[error("{method} {object} ({path}): the request failed and is not retried")]
    Fatal {
        method: &'static str,
        object: Box<ObjectRef>,
        path: String,
        #[source]
        source: ureq::Error,
    },
    #[error("{object}: the API server's answer is not JSON: {message}")]
    Decode {
        object: Box<ObjectRef>,
        message: String,
    },
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self, object: &ObjectRef) -> Result<serde_json::Value, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::Decode {
            object: Box::new(object.clone()),
            message: e.to_string(),
        })
    }

    /// The `message` of a Kubernetes `Status` body, else the body as text.
    pub fn message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_string())
    }

    /// Ok for 2xx, else [`ApiError::Rejected`] naming the object and the server's message.
    pub fn success(self, req: &ApiRequest) -> Result<Response, ApiError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(ApiError::Rejected {
                method: req.method.as_str(),
                object: Box::new(req.object.clone()),
                path: req.path.clone(),
                status: self.status,
                message: self.message(),
            })
        }
    }
}

/// Connects every URL to one fixed address (the `--api-server` override); the URL's host
/// is only the TLS name.
#[derive(Debug)]
struct FixedResolver(Vec<SocketAddr>);

impl Resolver for FixedResolver {
    fn resolve(
        &self,
        _uri: &Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addrs = self.empty();
        for a in self.0.iter().take(16) {
            addrs.push(*a);
        }
        Ok(addrs)
    }
}

/// A client for one API server with one identity.
#[derive(Debug, Clone)]
pub struct ApiClient {
    agent: Agent,
    base: String,
    /// `timeouts.kubernetesAPICall`: how long one request is retried.
    pub retry_for: Duration,
}

/// The ring provider, passed explicitly (ureq's `rustls-no-provider`).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn pem_certs(
    path: &Path,
    what: &'static str,
    pem: &[u8],
) -> Result<Vec<Certificate<'static>>, ApiError> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(source) => {
                return Err(ApiError::Pem {
                    path: path.to_path_buf(),
                    what,
                    source,
                })
            }
        }
    }
    if certs.is_empty() {
        return Err(ApiError::Pem {
            path: path.to_path_buf(),
            what,
            source: ureq::Error::Tls("no CERTIFICATE block"),
        });
    }
    Ok(certs)
}

impl ApiClient {
    /// A client with the identity of the kubeconfig at host path `kubeconfig`.
    pub fn from_kubeconfig(
        kubeconfig: &Path,
        root: &Path,
        endpoint: &Endpoint,
        retry_for: Duration,
    ) -> Result<ApiClient, ApiError> {
        let creds = kubeconfig::load(kubeconfig, root)?;
        let roots = pem_certs(kubeconfig, "certificate-authority-data", &creds.ca_pem)?;
        let chain = pem_certs(kubeconfig, "client-certificate-data", &creds.cert_pem)?;
        let key = PrivateKey::from_pem(&creds.key_pem).map_err(|source| ApiError::Pem {
            path: kubeconfig.to_path_buf(),
            what: "client-key-data",
            source,
        })?;
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(crypto_provider())
            .root_certs(RootCerts::new_with_certs(&roots))
            .client_cert(Some(ClientCert::new_with_certs(&chain, key)))
            .build();
        Self::with_tls(tls, endpoint, retry_for)
    }

    /// A client that does not verify the server (kubeadm's health checks of the
    /// controller-manager and scheduler with WaitForAllControlPlaneComponents).
    pub fn insecure(endpoint: &Endpoint, retry_for: Duration) -> Result<ApiClient, ApiError> {
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(crypto_provider())
            .disable_verification(true)
            .build();
        Self::with_tls(tls, endpoint, retry_for)
    }

    fn with_tls(
        tls: TlsConfig,
        endpoint: &Endpoint,
        retry_for: Duration,
    ) -> Result<ApiClient, ApiError> {
        let addrs: Vec<SocketAddr> = endpoint
            .connect
            .to_socket_addrs()
            .map_err(|e| ApiError::Resolve(endpoint.connect.clone(), e))?
            .collect();
        let config = Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(
                ATTEMPT_TIMEOUT.min(retry_for.max(Duration::from_secs(1))),
            ))
            .user_agent("kbc-apply")
            .build();
        let agent = Agent::with_parts(config, DefaultConnector::new(), FixedResolver(addrs));
        Ok(ApiClient {
            agent,
            base: endpoint.base(),
            retry_for,
        })
    }

    /// One attempt.
    fn attempt(&self, req: &ApiRequest) -> Result<Response, ureq::Error> {
        let url = format!("{}{}", self.base, req.path_and_query());
        let mut builder = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(url)
            .header("Accept", "application/json");
        if let Some(ct) = req.content_type {
            builder = builder.header("Content-Type", ct);
        }
        let request = builder
            .body(req.body.clone().unwrap_or_default())
            .map_err(ureq::Error::Http)?;
        let mut res = self.agent.run(request)?;
        let status = res.status().as_u16();
        let body = res.body_mut().read_to_vec()?;
        Ok(Response { status, body })
    }

    /// Sends `req`, retrying connection errors, 5xx and 429 with exponential backoff
    /// (0.1 s doubling to 2 s) for up to `retry_for`. Returns every other answer.
    pub fn send(&self, req: &ApiRequest) -> Result<Response, ApiError> {
        let start = Instant::now();
        let mut pause = FIRST_BACKOFF;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let last = match self.attempt(req) {
                Ok(res) if res.status == 429 || res.status >= 500 => {
                    format!("HTTP {}: {}", res.status, res.message())
                }
                Ok(res) => return Ok(res),
                Err(e) if retryable(&e) => e.to_string(),
                Err(source) => {
                    return Err(ApiError::Fatal {
                        method: req.method.as_str(),
                        object: Box::new(req.object.clone()),
                        path: req.path.clone(),
                        source,
                    })
                }
            };
            if start.elapsed() + pause > self.retry_for {
                return Err(ApiError::GaveUp {
                    method: req.method.as_str(),
                    object: Box::new(req.object.clone()),
                    path: req.path.clone(),
                    attempts,
                    seconds: self.retry_for.as_secs(),
                    last,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    /// GET of an absolute path (health endpoints), no retry: the caller polls.
    pub fn probe(&self, path: &str) -> Result<Response, String> {
        let url = format!("{}{}", self.base, path);
        match self.agent.get(&url).call() {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let body = res.body_mut().read_to_vec().unwrap_or_default();
                Ok(Response { status, body })
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Connection-level failures are retried; TLS refusals and malformed requests are not.
fn retryable(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => io
            .get_ref()
            .is_none_or(|inner| inner.downcast_ref::<rustls::Error>().is_none()),
        ureq::Error::Timeout(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Protocol(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("https://10.0.0.1:6443"),
            Some(("10.0.0.1".into(), 6443))
        );
        assert_eq!(
            split_url("https://[fd00::1]:6443/livez"),
            Some(("fd00::1".into(), 6443))
        );
        assert_eq!(
            split_url("https://cp.example"),
            Some(("cp.example".into(), 443))
        );
        assert_eq!(split_url("http://x:1"), None);
    }

    #[test]
    fn endpoint_overrides() {
        let e = Endpoint::new(
            "https://10.0.0.1:6443",
            Some("https://127.0.0.1:4000"),
            Some("kubernetes"),
        )
        .unwrap();
        assert_eq!(e.connect, "127.0.0.1:4000");
        assert_eq!(e.base(), "https://kubernetes:4000");
        let e = Endpoint::new("https://[fd00::1]:6443", None, None).unwrap();
        assert_eq!(e.connect, "[fd00::1]:6443");
        assert_eq!(e.base(), "https://[fd00::1]:6443");
    }
}
