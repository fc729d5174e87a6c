//! `wait-control-plane` (control-plane.md §12): polls each of the plan's health URLs every
//! 0.5 s until HTTP 200, up to `timeouts.controlPlaneComponentHealthCheck`, printing a
//! progress line when it starts and every 10 s. URLs on the plan's API server go through
//! the admin.conf client (and `--api-server`/`--tls-server-name`); the others (the
//! controller-manager and scheduler with WaitForAllControlPlaneComponents) are polled
//! without verifying the server, as kubeadm does. Waiting changes nothing: `unchanged`.

use std::time::{Duration, Instant};

use super::run::{PhaseFailure, Session};
use super::Outcome;
use crate::api::client::split_url;
use crate::api::{ApiClient, Endpoint};

const POLL: Duration = Duration::from_millis(500);
const PROGRESS: Duration = Duration::from_secs(10);

pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseFailure> {
    let targets = s.plan.wait.components.clone();
    if targets.is_empty() {
        return Ok(Outcome::Skipped("no health endpoints to wait for".into()));
    }
    let limit = match s.plan.wait.control_plane_component_health_check_seconds {
        0 => Duration::from_secs(240),
        n => Duration::from_secs(n),
    };
    for target in targets {
        let on_api_server = target.url.starts_with(&s.plan.api_server)
            && target.url[s.plan.api_server.len()..].starts_with('/');
        if s.ctx.dry_run {
            s.say(format!(
                "would poll GET {} until HTTP 200 (up to {} s)",
                target.url,
                limit.as_secs()
            ));
            continue;
        }
        let (client, path) = if on_api_server {
            let path = target.url[s.plan.api_server.len()..].to_string();
            (s.admin()?.clone(), path)
        } else {
            let (_, _) = split_url(&target.url).ok_or_else(|| -> PhaseFailure {
                format!(
                    "health URL \"{}\" is not https://host:port/path",
                    target.url
                )
                .into()
            })?;
            let endpoint = Endpoint::new(&target.url, None, None)?;
            let path = target
                .url
                .trim_start_matches("https://")
                .find('/')
                .map(|i| target.url["https://".len() + i..].to_string())
                .unwrap_or_else(|| "/".into());
            (ApiClient::insecure(&endpoint, limit)?, path)
        };
        s.say(format!(
            "[wait-control-plane] waiting for {} at {} (up to {} s)",
            target.name,
            target.url,
            limit.as_secs()
        ));
        let start = Instant::now();
        let mut next_progress = PROGRESS;
        loop {
            let last = match client.probe(&path) {
                Ok(r) if r.status == 200 => break,
                Ok(r) => format!("HTTP {}: {}", r.status, r.message()),
                Err(e) => e,
            };
            let elapsed = start.elapsed();
            if elapsed >= limit {
                return Err(format!(
                    "{} at {} was not healthy after {} s; last error: {last}",
                    target.name,
                    target.url,
                    limit.as_secs()
                )
                .into());
            }
            if elapsed >= next_progress {
                s.say(format!(
                    "[wait-control-plane] still waiting for {} ({} s; last error: {last})",
                    target.name,
                    elapsed.as_secs()
                ));
                next_progress += PROGRESS;
            }
            std::thread::sleep(POLL);
        }
        s.say(format!(
            "[wait-control-plane] {} is healthy after {:.1} s",
            target.name,
            start.elapsed().as_secs_f64()
        ));
    }
    Ok(if s.ctx.dry_run {
        Outcome::Skipped("dry run".into())
    } else {
        Outcome::Unchanged
    })
}
