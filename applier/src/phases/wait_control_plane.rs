//! `wait-control-plane` (`cmd/kubeadm/app/cmd/phases/init/waitcontrolplane.go`): first the kubelet's health endpoint, read
//! from the bundle's `/var/lib/kubelet/config.yaml` (`http://<healthzBindAddress>:<healthzPort>/healthz`,
//! default `127.0.0.1:10248`, port 0 skips it) up to `timeouts.kubeletHealthCheck`; then
//! each of the plan's health URLs, up to `timeouts.controlPlaneComponentHealthCheck`. Every
//! 0.5 s until HTTP 200, with a progress line when it starts and every 10 s. URLs on the plan's API server go through
//! the admin.conf client (and `--api-server`/`--tls-server-name`); the others (the
//! controller-manager and scheduler with WaitForAllControlPlaneComponents) are polled
//! without verifying the server, as kubeadm does. Waiting changes nothing: `unchanged`.

use std::time::{Duration, Instant};

use super::Outcome;
use super::{PhaseError, Session};
use crate::api::{ApiClient, Endpoint};

const POLL: Duration = Duration::from_millis(500);
const PROGRESS: Duration = Duration::from_secs(10);

/// The bundle file holding the KubeletConfiguration.
pub const KUBELET_CONFIG: &str = "rootfs/var/lib/kubelet/config.yaml";

/// The kubelet's health URL from the bundle's KubeletConfiguration; `None` when the bundle
/// has none or its `healthzPort` is 0.
pub fn kubelet_health_url(s: &Session<'_>) -> Result<Option<String>, PhaseError> {
    let Some(file) = s.ctx.bundle.files.iter().find(|f| f.path == KUBELET_CONFIG) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&file.data);
    let config = crate::api::kubeconfig::parse(&text)
        .map_err(|e| PhaseError::Bundle(format!("\"{KUBELET_CONFIG}\": {e}")))?;
    let port = config
        .get("healthzPort")
        .and_then(|p| p.as_u64())
        .unwrap_or(10248);
    if port == 0 {
        return Ok(None);
    }
    let addr = config
        .get("healthzBindAddress")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
        .unwrap_or("127.0.0.1");
    let host = if addr.contains(':') {
        format!("[{addr}]")
    } else {
        addr.to_string()
    };
    Ok(Some(format!("http://{host}:{port}/healthz")))
}

/// Polls `probe` every 0.5 s until it answers 200, up to `limit`.
fn poll(
    s: &mut Session<'_>,
    name: &str,
    url: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Result<u16, String>,
) -> Result<(), PhaseError> {
    s.say(format!(
        "[wait-control-plane] waiting for {name} at {url} (up to {} s)",
        limit.as_secs()
    ));
    let start = Instant::now();
    let mut next_progress = PROGRESS;
    loop {
        let last = match probe() {
            Ok(200) => break,
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e,
        };
        let elapsed = start.elapsed();
        if elapsed >= limit {
            return Err(PhaseError::Cluster(format!(
                "{name} at {url} was not healthy after {} s; last error: {last}",
                limit.as_secs()
            )));
        }
        if elapsed >= next_progress {
            s.say(format!(
                "[wait-control-plane] still waiting for {name} ({} s; last error: {last})",
                elapsed.as_secs()
            ));
            next_progress += PROGRESS;
        }
        std::thread::sleep(POLL);
    }
    s.say(format!(
        "[wait-control-plane] {name} is healthy after {:.1} s",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The wait target of the node's own API server.
const API_SERVER: &str = "kube-apiserver";

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let targets = s.plan.wait.components.clone();
    let kubelet = match &s.opts.kubelet_healthz {
        Some(url) => Some(url.clone()),
        None => kubelet_health_url(s)?,
    };
    if targets.is_empty() && kubelet.is_none() {
        return Ok(Outcome::Skipped("no health endpoints to wait for".into()));
    }
    if let Some(url) = kubelet {
        let limit = match s.plan.wait.kubelet_health_check_seconds {
            0 => Duration::from_secs(240),
            n => Duration::from_secs(n),
        };
        if s.ctx.dry_run {
            s.say(format!(
                "would poll GET {url} until HTTP 200 (up to {} s)",
                limit.as_secs()
            ));
        } else {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .into();
            poll(s, "the kubelet", &url, limit, || {
                agent
                    .get(&url)
                    .call()
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string())
            })?;
        }
    }
    let limit = match s.plan.wait.control_plane_component_health_check_seconds {
        0 => Duration::from_secs(240),
        n => Duration::from_secs(n),
    };
    for target in targets {
        if s.ctx.dry_run {
            s.say(format!(
                "would poll GET {} until HTTP 200 (up to {} s)",
                target.url,
                limit.as_secs()
            ));
            continue;
        }
        let path = target
            .url
            .trim_start_matches("https://")
            .find('/')
            .map(|i| target.url["https://".len() + i..].to_string())
            .unwrap_or_else(|| "/".into());
        // The node's API server is verified with the cluster CA and asked as admin.conf
        // (`--api-server`/`--tls-server-name` redirect it as they do every API request);
        // the other components' health endpoints are polled without verification, as
        // kubeadm does.
        let client = if target.name == API_SERVER {
            s.admin_at(&target.url)?
        } else {
            ApiClient::insecure(&Endpoint::new(&target.url, None, None)?, limit)?
        };
        poll(s, &target.name, &target.url, limit, || {
            client.probe(&path).map(|r| r.status)
        })?;
    }
    Ok(if s.ctx.dry_run {
        Outcome::Skipped("dry run".into())
    } else {
        Outcome::Unchanged
    })
}
