//! [`Session`]: what the phases of one full run share (the verified bundle and target, the
//! plan, the switches, standard output and the API clients, made on first use), and the
//! host helpers the phases call.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::api::{ApiClient, ApiError, ApiRequest, Endpoint, Response};
use crate::bundle::apply::ApplyPlan;

use super::{ApplyContext, PhaseError};

/// The binding kubeadm creates with super-admin.conf when admin.conf has no rights yet.
pub const CLUSTER_ADMINS: &str = "kubeadm:cluster-admins";

/// The command-line switches of a full run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// kubeadm phase names (`addon` skips `addon/coredns` and `addon/kube-proxy`).
    pub skip_phases: Vec<String>,
    /// `--ignore-preflight-errors`, merged with the plan's list.
    pub ignore_preflight_errors: Vec<String>,
    pub api_server: Option<String>,
    pub tls_server_name: Option<String>,
    /// The `systemctl` to run (`--systemctl`, `KBC_SYSTEMCTL`, else `systemctl`).
    pub systemctl: PathBuf,
    /// `--kubelet-healthz URL`: poll this instead of the kubelet health endpoint of the
    /// bundle's KubeletConfiguration (tests, whose fake kubelet cannot hold port 10248).
    pub kubelet_healthz: Option<String>,
    /// Apply time: token expirations are this plus their TTL.
    pub now: SystemTime,
}

/// What the phases share during a run.
pub struct Session<'a> {
    pub ctx: &'a ApplyContext,
    pub plan: ApplyPlan,
    pub opts: &'a RunOptions,
    pub out: &'a mut dyn Write,
    admin: Option<ApiClient>,
    super_admin: Option<Option<ApiClient>>,
    /// Whether `install` changed (or, on a dry run, would change) a file.
    pub install_changed: bool,
}

impl<'a> Session<'a> {
    /// A session before any phase ran: no API client yet, install not run.
    pub fn new(
        ctx: &'a ApplyContext,
        plan: ApplyPlan,
        opts: &'a RunOptions,
        out: &'a mut dyn Write,
    ) -> Session<'a> {
        Session {
            ctx,
            plan,
            opts,
            out,
            admin: None,
            super_admin: None,
            install_changed: false,
        }
    }

    /// Writes one line of output.
    pub fn say(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", line.as_ref());
    }

    /// The host path of an absolute node path (`/etc/kubernetes/admin.conf`).
    pub fn host(&self, abs: &str) -> PathBuf {
        self.ctx.host(abs)
    }

    /// `timeouts.kubernetesAPICall` (1 min when the plan has 0).
    pub fn api_timeout(&self) -> Duration {
        match self.plan.wait.kubernetes_api_call_seconds {
            0 => Duration::from_secs(60),
            s => Duration::from_secs(s),
        }
    }

    /// Where a request for the API server at `url` goes: `--api-server` and
    /// `--tls-server-name` redirect it as they redirect the plan's.
    fn endpoint_at(&self, url: &str) -> Result<Endpoint, ApiError> {
        Endpoint::new(
            url,
            self.opts.api_server.as_deref(),
            self.opts.tls_server_name.as_deref(),
        )
    }

    /// A client with the identity of the kubeconfig at node path `kubeconfig`, for the API
    /// server at `url`.
    fn client_at(&self, kubeconfig: &str, url: &str) -> Result<ApiClient, ApiError> {
        ApiClient::from_kubeconfig(
            &self.host(kubeconfig),
            &self.ctx.root,
            &self.endpoint_at(url)?,
            self.api_timeout(),
        )
    }

    /// A client with the identity of the kubeconfig at node path `kubeconfig`.
    fn client(&self, kubeconfig: &str) -> Result<ApiClient, ApiError> {
        self.client_at(kubeconfig, &self.plan.api_server)
    }

    /// An admin.conf client for the API server at `url` (a joining node's own, which is not
    /// the plan's).
    pub fn admin_at(&self, url: &str) -> Result<ApiClient, ApiError> {
        self.client_at(&self.plan.admin_kubeconfig, url)
    }

    /// The admin.conf client, made on first use.
    pub fn admin(&mut self) -> Result<&ApiClient, ApiError> {
        if self.admin.is_none() {
            self.admin = Some(self.client(&self.plan.admin_kubeconfig)?);
        }
        Ok(self.admin.as_ref().expect("set above"))
    }

    /// Runs `f` with kubelet.conf's identity (`system:node:<name>`) as the session's
    /// client, as kubeadm join annotates the Node; the admin client is restored after.
    pub fn as_kubelet<T>(
        &mut self,
        f: impl FnOnce(&mut Session<'a>) -> T,
    ) -> Result<T, PhaseError> {
        let client = self.client(&self.plan.kubelet_kubeconfig)?;
        let admin = self.admin.replace(client);
        let result = f(self);
        self.admin = admin;
        Ok(result)
    }

    /// The super-admin.conf client where that file exists (kubeadm's fallback for the
    /// `kubeadm:cluster-admins` binding).
    pub fn super_admin(&mut self) -> Result<Option<&ApiClient>, ApiError> {
        if self.super_admin.is_none() {
            let path = &self.plan.super_admin_kubeconfig;
            let client = if !path.is_empty() && self.host(path).is_file() {
                Some(self.client(path)?)
            } else {
                None
            };
            self.super_admin = Some(client);
        }
        Ok(self.super_admin.as_ref().and_then(|c| c.as_ref()))
    }

    /// Sends `req` with admin.conf; for the `kubeadm:cluster-admins` binding a 403 switches
    /// to super-admin.conf, as kubeadm does.
    pub fn send_admin(&mut self, req: &ApiRequest) -> Result<Response, PhaseError> {
        let res = self.admin()?.send(req)?;
        if res.status == 403
            && req.object.kind == "ClusterRoleBinding"
            && req.object.name == CLUSTER_ADMINS
        {
            if let Some(sa) = self.super_admin()? {
                return Ok(sa.send(req)?);
            }
        }
        Ok(res)
    }
}

/// Runs `systemctl ARGS`; `Ok(true)` on exit 0, `Ok(false)` otherwise.
pub fn systemctl(s: &Session<'_>, args: &[&str]) -> Result<bool, PhaseError> {
    let status = std::process::Command::new(&s.opts.systemctl)
        .args(args)
        .stdin(std::process::Stdio::null())
        .status()
        .map_err(|source| PhaseError::Command {
            command: format!("{} {}", s.opts.systemctl.display(), args.join(" ")),
            source,
        })?;
    Ok(status.success())
}

/// Runs `systemctl ARGS` and fails unless it exits 0.
pub fn systemctl_must(s: &Session<'_>, args: &[&str]) -> Result<(), PhaseError> {
    if systemctl(s, args)? {
        Ok(())
    } else {
        Err(PhaseError::CommandFailed {
            command: format!("{} {}", s.opts.systemctl.display(), args.join(" ")),
        })
    }
}
