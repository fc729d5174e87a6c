//! etcd's membership API over its HTTP/JSON gateway (docs/clusters.md; the gateway is
//! served on every client URL, `POST /v3/cluster/member/*` and `/v3/maintenance/status`
//! with JSON bodies), through the same ureq + rustls stack as the API client: the etcd CA as
//! the only root, the node's etcd client certificate for mutual TLS. No gRPC stack.
//!
//! Errors are decided on the JSON body's gRPC `code` and `message`, never on the HTTP
//! status: the status of one gRPC code differs between etcd builds (FailedPrecondition is
//! 400 upstream and 412 in Debian's build). 64-bit IDs are decimal strings in JSON.

use std::time::Duration;

use serde_json::{json, Value};
use ureq::tls::{ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

/// gRPC `Unavailable`: no leader, a timeout, a leader change; worth another try.
pub const UNAVAILABLE: i64 = 14;

/// etcd's messages (`rpctypes/error.go`).
pub const LEARNER_NOT_READY: &str =
    "can only promote a learner member which is in sync with leader";
pub const NOT_A_LEARNER: &str = "can only promote a learner member";
pub const TOO_MANY_LEARNERS: &str = "too many learner members in cluster";
pub const PEER_URL_EXISTS: &str = "Peer URLs already exists";
pub const MEMBER_NOT_FOUND: &str = "member not found";

/// One member as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    /// Empty until the member has started.
    pub name: String,
    pub peer_urls: Vec<String>,
    pub client_urls: Vec<String>,
    pub is_learner: bool,
}

impl Member {
    /// kubeadm matches members on their first peer URL.
    pub fn peer_url(&self) -> &str {
        self.peer_urls.first().map_or("", String::as_str)
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// No answer: connection refused, TLS failure, timeout.
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    /// etcd answered with a gRPC error.
    #[error("{url}: etcdserver: {message} (gRPC code {code})")]
    Server {
        url: String,
        code: i64,
        message: String,
    },
    /// An answer kbc-apply cannot read.
    #[error("{url}: unexpected answer: {message}")]
    Decode { url: String, message: String },
    /// The client files.
    #[error("{path}: {message}")]
    Files { path: String, message: String },
}

impl EtcdError {
    /// A server error whose message contains `text`.
    pub fn says(&self, text: &str) -> bool {
        matches!(self, EtcdError::Server { message, .. } if message.contains(text))
    }

    /// A server error whose message is exactly `text` (etcd's "can only promote a learner
    /// member" is a prefix of its "… which is in sync with leader").
    pub fn is(&self, text: &str) -> bool {
        matches!(self, EtcdError::Server { message, .. } if message == text)
    }
}

/// A client for etcd's gateway with one identity.
pub struct EtcdClient {
    agent: Agent,
}

fn certificates(what: &str, pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, EtcdError> {
    let bad = |message: &str| EtcdError::Files {
        path: what.to_string(),
        message: message.into(),
    };
    let mut found = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => found.push(c),
            Ok(_) => {}
            Err(_) => return Err(bad("not valid PEM")),
        }
    }
    if found.is_empty() {
        return Err(bad("no CERTIFICATE block"));
    }
    Ok(found)
}

/// The PEM files of a client identity: the CA, the certificate and its key, each with the
/// name to give in errors.
pub struct Identity<'a> {
    pub ca: (&'a str, &'a [u8]),
    pub cert: (&'a str, &'a [u8]),
    pub key: (&'a str, &'a [u8]),
}

impl EtcdClient {
    /// With the etcd CA as the only root and the client pair for mutual TLS.
    pub fn new(id: &Identity<'_>) -> Result<EtcdClient, EtcdError> {
        let roots = certificates(id.ca.0, id.ca.1)?;
        let chain = certificates(id.cert.0, id.cert.1)?;
        // The key's file is never quoted: only whether it parsed.
        let key = PrivateKey::from_pem(id.key.1).map_err(|_| EtcdError::Files {
            path: id.key.0.to_string(),
            message: "not a PEM private key".into(),
        })?;
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(crate::api::client::crypto_provider())
            .root_certs(RootCerts::new_with_certs(&roots))
            .client_cert(Some(ClientCert::new_with_certs(&chain, key)))
            .build();
        let config = Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .user_agent("kbc-apply")
            .build();
        Ok(EtcdClient {
            agent: Agent::new_with_config(config),
        })
    }

    /// POST `body` to `path` of the member at client URL `url`; the JSON answer, or the
    /// gateway's error by its gRPC code.
    fn call(&self, url: &str, path: &str, body: Value) -> Result<Value, EtcdError> {
        let full = format!("{}{path}", url.trim_end_matches('/'));
        let transport = |message: String| EtcdError::Transport {
            url: url.to_string(),
            message,
        };
        let mut res = self
            .agent
            .post(&full)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .map_err(|e| transport(e.to_string()))?;
        let text = res
            .body_mut()
            .read_to_string()
            .map_err(|e| transport(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| EtcdError::Decode {
            url: url.to_string(),
            message: format!("HTTP {}: {e}", res.status().as_u16()),
        })?;
        match gateway_error(url, &value) {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    pub fn member_list(&self, url: &str) -> Result<Vec<Member>, EtcdError> {
        let v = self.call(url, "/v3/cluster/member/list", json!({}))?;
        members(url, &v)
    }

    /// Adds `peer_url` (as a learner or a voting member); returns the new member's ID and
    /// every member after the add.
    pub fn member_add(
        &self,
        url: &str,
        peer_url: &str,
        learner: bool,
    ) -> Result<(u64, Vec<Member>), EtcdError> {
        let v = self.call(
            url,
            "/v3/cluster/member/add",
            json!({ "peerURLs": [peer_url], "isLearner": learner }),
        )?;
        let added = v
            .get("member")
            .map(|m| member(url, m))
            .transpose()?
            .ok_or_else(|| EtcdError::Decode {
                url: url.to_string(),
                message: "no member in the answer".into(),
            })?;
        Ok((added.id, members(url, &v)?))
    }

    pub fn member_promote(&self, url: &str, id: u64) -> Result<Vec<Member>, EtcdError> {
        let v = self.call(
            url,
            "/v3/cluster/member/promote",
            json!({ "ID": id.to_string() }),
        )?;
        members(url, &v)
    }

    pub fn member_remove(&self, url: &str, id: u64) -> Result<Vec<Member>, EtcdError> {
        let v = self.call(
            url,
            "/v3/cluster/member/remove",
            json!({ "ID": id.to_string() }),
        )?;
        members(url, &v)
    }

    /// `Maintenance.Status` of the member at `url`.
    pub fn status(&self, url: &str) -> Result<Value, EtcdError> {
        self.call(url, "/v3/maintenance/status", json!({}))
    }
}

/// The gateway's error body (`error`, `code`, `message`, in either order), by its gRPC
/// code; `None` for an answer. The HTTP status is not looked at: it differs between builds.
fn gateway_error(url: &str, value: &Value) -> Option<EtcdError> {
    let code = value
        .get("code")
        .and_then(Value::as_i64)
        .filter(|c| *c != 0)?;
    let message = value
        .get("message")
        .or_else(|| value.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_start_matches("etcdserver: ")
        .to_string();
    Some(EtcdError::Server {
        url: url.to_string(),
        code,
        message,
    })
}

fn members(url: &str, v: &Value) -> Result<Vec<Member>, EtcdError> {
    v.get("members")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|m| member(url, m)).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

fn member(url: &str, m: &Value) -> Result<Member, EtcdError> {
    let id = match m.get("ID") {
        Some(Value::String(s)) => s.parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
    .ok_or_else(|| EtcdError::Decode {
        url: url.to_string(),
        message: "a member without an ID".into(),
    })?;
    let strings = |key: &str| -> Vec<String> {
        m.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Member {
        id,
        name: m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        peer_urls: strings("peerURLs"),
        client_urls: strings("clientURLs"),
        is_learner: m.get("isLearner").and_then(Value::as_bool).unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_decided_on_the_json_code_and_message() {
        // Debian's etcd 3.4.23 (HTTP 412) and upstream's key order (HTTP 400): the same error.
        for body in [
            r#"{"error":"etcdserver: can only promote a learner member which is in sync with leader","message":"etcdserver: can only promote a learner member which is in sync with leader","code":9}"#,
            r#"{"error":"etcdserver: can only promote a learner member which is in sync with leader","code":9,"message":"etcdserver: can only promote a learner member which is in sync with leader"}"#,
        ] {
            let e = gateway_error("u", &serde_json::from_str(body).unwrap()).unwrap();
            assert!(e.says(LEARNER_NOT_READY));
            assert!(!e.is(NOT_A_LEARNER), "not ready is not 'already a voter'");
        }
        let learner = r#"{"error":"etcdserver: rpc not supported for learner","message":"etcdserver: rpc not supported for learner","code":14}"#;
        let e = gateway_error("u", &serde_json::from_str(learner).unwrap()).unwrap();
        assert!(matches!(
            e,
            EtcdError::Server {
                code: UNAVAILABLE,
                ..
            }
        ));
        let answer = r#"{"header":{},"members":[]}"#;
        assert!(gateway_error("u", &serde_json::from_str(answer).unwrap()).is_none());
    }

    #[test]
    fn members_decode_the_gateways_json() {
        let v: Value = serde_json::from_str(r#"{"header":{"cluster_id":"1"},"members":[{"ID":"3319814642761637952","name":"cp-1","peerURLs":["https://10.0.0.11:2380"],"clientURLs":["https://10.0.0.11:2379"]},{"ID":"13241696995821694182","peerURLs":["https://10.0.0.12:2380"],"isLearner":true}]}"#).unwrap();
        let m = members("u", &v).unwrap();
        assert_eq!(m[0].id, 3319814642761637952);
        assert_eq!(m[0].name, "cp-1");
        assert!(!m[0].is_learner);
        assert_eq!(m[1].id, 13241696995821694182);
        assert_eq!(m[1].name, "");
        assert!(m[1].is_learner);
        assert_eq!(m[1].peer_url(), "https://10.0.0.12:2380");
    }
}
