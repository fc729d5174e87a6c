//! A joining control-plane node's stacked etcd member (kubeadm's `check-etcd` and
//! `control-plane-join/etcd`: `cmd/kubeadm/app/cmd/phases/join/checketcd.go`,
//! `controlplanejoin.go`, `cmd/kubeadm/app/phases/etcd/local.go`; docs/clusters.md), over etcd's JSON
//! gateway ([`crate::etcd`]) with the node's own etcd client certificate:
//!
//! 1. read the member list from an existing voting member;
//! 2. refuse unless the members are exactly the nodes before this one (or those and this
//!    one, on a re-run), naming them and the node to join first;
//! 3. add this member as a learner (EtcdLearnerMode) or a voting member, unless it is
//!    there already;
//! 4. create the data directory (0700) and install the etcd manifest, which `install`
//!    holds back: the kubelet starts the member only once it is announced;
//! 5. promote the learner, retrying while etcd says it is not in sync with the leader
//!    (decided on the gateway's gRPC code and message, not the HTTP status);
//! 6. wait until the new member answers.
//!
//! Every step looks at the cluster first, so a re-run after a kill at any point converges
//! (kubeadm 1.31 retries the learner add for two minutes and fails: `cmd/kubeadm/app/util/etcd/etcd.go`).
//! `leave` is `kubeadm reset`'s remove-etcd-member (`cmd/kubeadm/app/cmd/phases/reset/removeetcdmember.go`).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::time::{Duration, Instant};

use kbc_bundle::apply::EtcdJoin;

use super::{create_dirs, host_state, write_atomic, ApplyContext, HostState, Outcome};
use super::{PhaseError, Session};
use crate::etcd::{self, EtcdClient, EtcdError, Member};

/// Pause between two attempts (kubeadm's 0.5 s etcd retry interval).
const RETRY: Duration = Duration::from_millis(500);
/// How long preflight waits for an existing member to answer.
const PREFLIGHT_WAIT: Duration = Duration::from_secs(15);

fn plan(s: &Session<'_>) -> Option<EtcdJoin> {
    s.plan.join.as_ref().and_then(|j| j.etcd.clone())
}

/// A client with the bundle's own etcd client files (the same bytes `install` writes, so
/// preflight can ask etcd before anything is installed).
fn client(ctx: &ApplyContext, e: &EtcdJoin) -> Result<EtcdClient, EtcdError> {
    EtcdClient::new(&crate::etcd::Identity {
        ca: bundle_file(ctx, &e.ca_file)?,
        cert: bundle_file(ctx, &e.cert_file)?,
        key: bundle_file(ctx, &e.key_file)?,
    })
}

fn bundle_file<'a>(ctx: &'a ApplyContext, abs: &'a str) -> Result<(&'a str, &'a [u8]), EtcdError> {
    let rel = abs.trim_start_matches('/');
    ctx.rootfs_files()
        .find(|(r, _)| *r == rel)
        .map(|(_, f)| (abs, f.data.as_slice()))
        .ok_or_else(|| EtcdError::Files {
            path: abs.to_string(),
            message: "not in the bundle".into(),
        })
}

fn api_timeout(e: &EtcdJoin) -> Duration {
    Duration::from_secs(e.api_call_seconds.max(1))
}

/// Calls `f` until it succeeds, `retry` says no, or `limit` has passed; the last error.
fn retrying<T>(
    limit: Duration,
    mut f: impl FnMut() -> Result<T, EtcdError>,
    retry: impl Fn(&EtcdError) -> bool,
) -> Result<T, EtcdError> {
    let start = Instant::now();
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if retry(&e) && start.elapsed() + RETRY < limit => std::thread::sleep(RETRY),
            Err(e) => return Err(e),
        }
    }
}

fn transient(e: &EtcdError) -> bool {
    matches!(e, EtcdError::Transport { .. })
        || matches!(e, EtcdError::Server { code, .. } if *code == etcd::UNAVAILABLE)
}

/// The member list from the first voting member that answers (the members before this
/// node, then this node itself: a learner refuses the call), and the URL that answered.
fn list(
    client: &EtcdClient,
    e: &EtcdJoin,
    limit: Duration,
) -> Result<(String, Vec<Member>), EtcdError> {
    let urls: Vec<&str> = e
        .existing
        .iter()
        .chain([&e.member])
        .map(|m| m.client_url.as_str())
        .collect();
    retrying(
        limit,
        || {
            let mut last = None;
            for url in &urls {
                match client.member_list(url) {
                    Ok(members) => return Ok((url.to_string(), members)),
                    Err(err) => last = Some(err),
                }
            }
            Err(last.expect("at least this member's URL"))
        },
        transient,
    )
}

/// Where the cluster stands for this member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Absent,
    Learner(u64),
    Voter(u64),
}

/// A member's name for a message: its name, or its peer URL before it started.
fn shown(m: &Member) -> String {
    if m.name.is_empty() {
        format!("{} (not started)", m.peer_url())
    } else {
        m.name.clone()
    }
}

/// The members must be exactly the nodes before this one, or those and this one.
fn standing(e: &EtcdJoin, members: &[Member]) -> Result<Standing, String> {
    let me = &e.member;
    let missing: Vec<&str> = e
        .existing
        .iter()
        .filter(|x| !members.iter().any(|m| m.peer_url() == x.peer_url))
        .map(|x| x.name.as_str())
        .collect();
    let unknown: Vec<String> = members
        .iter()
        .filter(|m| m.peer_url() != me.peer_url)
        .filter(|m| !e.existing.iter().any(|x| x.peer_url == m.peer_url()))
        .map(shown)
        .collect();
    let present: Vec<String> = members.iter().map(shown).collect();
    let before: Vec<&str> = e.existing.iter().map(|x| x.name.as_str()).collect();
    if let Some(first) = missing.first() {
        return Err(format!(
            "etcd has the members [{}], but {} joins after [{}]: join {first} first (the bundles of a cluster are applied in the order of cluster.json)",
            present.join(", "),
            me.name,
            before.join(", ")
        ));
    }
    if !unknown.is_empty() {
        return Err(format!(
            "etcd has members that the cluster file does not list before {}: [{}]; remove them (etcdctl member remove) or reset those nodes first",
            me.name,
            unknown.join(", ")
        ));
    }
    Ok(match members.iter().find(|m| m.peer_url() == me.peer_url) {
        Some(m) if m.is_learner => Standing::Learner(m.id),
        Some(m) => Standing::Voter(m.id),
        None => Standing::Absent,
    })
}

/// Preflight's `EtcdMembership` check (kbc's): the join order, before the host changes.
pub fn preflight_check(s: &Session<'_>) -> Option<Result<(), String>> {
    let e = plan(s)?;
    let result = client(s.ctx, &e)
        .map_err(|err| err.to_string())
        .and_then(|c| list(&c, &e, PREFLIGHT_WAIT).map_err(|err| err.to_string()))
        .and_then(|(_, members)| standing(&e, &members).map(|_| ()));
    Some(result)
}

/// kubeadm's `check-etcd`: every existing member answers Status.
pub fn check(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let Some(e) = plan(s) else {
        return Ok(Outcome::Skipped("no stacked etcd member to add".into()));
    };
    if s.ctx.dry_run {
        let urls: Vec<&str> = e.existing.iter().map(|m| m.client_url.as_str()).collect();
        s.say(format!(
            "[check-etcd] would ask {} for their status",
            urls.join(", ")
        ));
        return Ok(Outcome::Skipped("dry run".into()));
    }
    s.say("[check-etcd] Checking that the etcd cluster is healthy");
    let client = client(s.ctx, &e).map_err(|err| PhaseError::HostFile(err.to_string()))?;
    for m in &e.existing {
        retrying(api_timeout(&e), || client.status(&m.client_url), transient)
            .map_err(|err| PhaseError::Cluster(format!("etcd cluster is not healthy: {err}")))?;
    }
    Ok(Outcome::Unchanged)
}

/// `control-plane-join/etcd`.
pub fn run(s: &mut Session<'_>) -> Result<Outcome, PhaseError> {
    let Some(e) = plan(s) else {
        return Ok(Outcome::Skipped("no stacked etcd member to add".into()));
    };
    if s.ctx.dry_run {
        s.say(format!(
            "[etcd] would add etcd member {} ({}) as a {}, install {} and wait for it",
            e.member.name,
            e.member.peer_url,
            if e.learner {
                "learner"
            } else {
                "voting member"
            },
            e.manifest
        ));
        return Ok(Outcome::Skipped("dry run".into()));
    }
    let cluster = |err: EtcdError| PhaseError::Cluster(err.to_string());
    let client = client(s.ctx, &e).map_err(|err| PhaseError::HostFile(err.to_string()))?;
    let (url, members) = list(&client, &e, api_timeout(&e)).map_err(cluster)?;
    let standing = standing(&e, &members).map_err(PhaseError::Cluster)?;
    let mut changed = false;
    let standing = match standing {
        Standing::Absent => {
            changed = true;
            add(s, &client, &url, &e)?
        }
        other => other,
    };
    changed |= install_manifest(s, &e)?;
    if let Standing::Learner(id) = standing {
        promote(s, &client, &url, &e, id)?;
        changed = true;
    }
    s.say("[etcd] Waiting for the new etcd member to join the cluster. This can take up to 40s");
    retrying(
        api_timeout(&e),
        || client.status(&e.member.client_url),
        transient,
    )
    .map_err(|err| {
        PhaseError::Cluster(format!(
            "timeout waiting for etcd cluster to be available: {err}"
        ))
    })?;
    Ok(if changed {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    })
}

/// Adds this member; another node's learner in the cluster (etcd allows one) is waited out.
fn add(
    s: &mut Session<'_>,
    client: &EtcdClient,
    url: &str,
    e: &EtcdJoin,
) -> Result<Standing, PhaseError> {
    s.say(format!("[etcd] Adding etcd member: {}", e.member.peer_url));
    let added = retrying(
        api_timeout(e),
        || client.member_add(url, &e.member.peer_url, e.learner),
        |err| transient(err) || err.says(etcd::TOO_MANY_LEARNERS),
    );
    let id = match added {
        Ok((id, _)) => id,
        // Added by a run that was killed before it could say so.
        Err(err) if err.says(etcd::PEER_URL_EXISTS) => {
            let (_, members) = list(client, e, api_timeout(e))
                .map_err(|err| PhaseError::Cluster(err.to_string()))?;
            return standing(e, &members).map_err(PhaseError::Cluster);
        }
        Err(err) => {
            return Err(PhaseError::Cluster(format!(
                "cannot add the etcd member: {err}"
            )))
        }
    };
    s.say("[etcd] Announced new etcd member joining to the existing etcd cluster");
    Ok(if e.learner {
        Standing::Learner(id)
    } else {
        Standing::Voter(id)
    })
}

/// Retries the promotion while the learner catches up.
fn promote(
    s: &mut Session<'_>,
    client: &EtcdClient,
    url: &str,
    e: &EtcdJoin,
    id: u64,
) -> Result<(), PhaseError> {
    let result = retrying(
        api_timeout(e),
        || client.member_promote(url, id),
        |err| transient(err) || err.says(etcd::LEARNER_NOT_READY),
    );
    match result {
        Ok(_) => {
            s.say(format!(
                "[etcd] The learner was promoted as a voting member: {id:016x}"
            ));
            Ok(())
        }
        Err(err) if err.is(etcd::NOT_A_LEARNER) => {
            s.say(format!("[etcd] Member {id:016x} already promoted."));
            Ok(())
        }
        Err(err) => Err(PhaseError::Cluster(format!(
            "the etcd learner {id:016x} was not promoted: {err}"
        ))),
    }
}

/// The data directory (0700) and the held-back etcd manifest; whether anything changed.
fn install_manifest(s: &mut Session<'_>, e: &EtcdJoin) -> Result<bool, PhaseError> {
    let ctx = s.ctx;
    let rel = e.manifest.trim_start_matches('/');
    let file = ctx
        .rootfs_files()
        .find(|(r, _)| *r == rel)
        .map(|(_, f)| f)
        .ok_or_else(|| PhaseError::Bundle(format!("the bundle has no {}", e.manifest)))?;
    let failed = |action, path: std::path::PathBuf, source| PhaseError::Failed {
        phase: "control-plane-join/etcd",
        action,
        path,
        done: Vec::new(),
        source,
    };
    let mut done = Vec::new();
    let data = ctx.host(&e.data_dir);
    if !data.is_dir() {
        let parent = e
            .data_dir
            .trim_start_matches('/')
            .rsplit_once('/')
            .map_or("", |(p, _)| p);
        create_dirs(&ctx.root, parent, &mut done)
            .map_err(|err| failed("create the directories of", data.clone(), err))?;
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&data)
            .and_then(|()| fs::set_permissions(&data, fs::Permissions::from_mode(0o700)))
            .map_err(|err| failed("create", data.clone(), err))?;
    }
    let path = ctx.host_path(rel);
    match host_state(&ctx.root, &path, file) {
        Ok(HostState::Same) => return Ok(false),
        Ok(HostState::Absent) => {}
        Ok(HostState::Differs(why) | HostState::Blocked(why)) => {
            return Err(PhaseError::HostFile(format!(
                "\"{}\": {why}; kbc-apply does not replace it here (run install --force first)",
                path.display()
            )))
        }
        Err(err) => return Err(failed("read", path, err)),
    }
    s.say("[etcd] Creating static Pod manifest for \"etcd\"");
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    create_dirs(&ctx.root, dir, &mut done).map_err(|err| failed("create", path.clone(), err))?;
    write_atomic(&path, &file.data, file.mode).map_err(|err| failed("write", path.clone(), err))?;
    Ok(true)
}

/// `kubeadm reset`'s remove-etcd-member: this node leaves the etcd cluster (skipped when it
/// is the only member), then its data directory is emptied. Failures only warn, as kubeadm's
/// do: the node is reset either way.
pub fn leave(ctx: &ApplyContext, out: &mut dyn Write) {
    let Some(e) = ctx
        .bundle
        .manifest
        .apply_plan()
        .ok()
        .and_then(|p| p.join)
        .and_then(|j| j.etcd)
    else {
        return;
    };
    match remove_member(ctx, &e) {
        Ok(Some(line)) => {
            let _ = writeln!(out, "{line}");
        }
        Ok(None) => {}
        Err(err) => {
            let _ = writeln!(out, "[reset] Failed to remove etcd member: {err}, please manually remove this etcd member using etcdctl");
        }
    }
    let data = ctx.host(&e.data_dir);
    if let Ok(entries) = fs::read_dir(&data) {
        let mut any = false;
        for entry in entries.flatten() {
            any = true;
            let p = entry.path();
            let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
        if any {
            let _ = writeln!(
                out,
                "[reset] Deleted contents of the etcd data directory: {}",
                e.data_dir
            );
        }
    }
}

fn remove_member(ctx: &ApplyContext, e: &EtcdJoin) -> Result<Option<String>, EtcdError> {
    let client = client(ctx, e)?;
    let (url, members) = list(&client, e, api_timeout(e))?;
    let Some(me) = members.iter().find(|m| m.peer_url() == e.member.peer_url) else {
        return Ok(None);
    };
    if members.len() == 1 {
        return Ok(Some(
            "[reset] This is the only remaining etcd member in the etcd cluster, skip removing it"
                .into(),
        ));
    }
    // Ask another member: this one may be the one that answered, and is leaving.
    let other = members
        .iter()
        .filter(|m| m.id != me.id && !m.is_learner)
        .flat_map(|m| m.client_urls.first())
        .next()
        .cloned()
        .unwrap_or(url);
    match retrying(
        api_timeout(e),
        || client.member_remove(&other, me.id),
        transient,
    ) {
        Ok(_) => {}
        Err(err) if err.says(etcd::MEMBER_NOT_FOUND) => {}
        Err(err) => return Err(err),
    }
    Ok(Some(format!(
        "[reset] Removed etcd member {} ({:016x})",
        e.member.name, me.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kbc_bundle::apply::EtcdMember;

    fn m(name: &str, n: u8) -> EtcdMember {
        EtcdMember {
            name: name.into(),
            peer_url: format!("https://10.0.0.{n}:2380"),
            client_url: format!("https://10.0.0.{n}:2379"),
        }
    }

    fn member(name: &str, n: u8, learner: bool) -> Member {
        Member {
            id: u64::from(n),
            name: name.into(),
            peer_urls: vec![format!("https://10.0.0.{n}:2380")],
            client_urls: Vec::new(),
            is_learner: learner,
        }
    }

    #[test]
    fn the_members_must_be_exactly_the_nodes_before() {
        let e = EtcdJoin {
            member: m("cp-3", 13),
            existing: vec![m("cp-1", 11), m("cp-2", 12)],
            ..EtcdJoin::default()
        };
        let two = [member("cp-1", 11, false), member("cp-2", 12, false)];
        assert_eq!(standing(&e, &two), Ok(Standing::Absent));
        let again = [two[0].clone(), two[1].clone(), member("", 13, true)];
        assert_eq!(standing(&e, &again), Ok(Standing::Learner(13)));
        let early = standing(&e, &two[..1]).unwrap_err();
        assert!(early.contains("join cp-2 first"), "{early}");
        let stranger = [two[0].clone(), two[1].clone(), member("cp-9", 19, false)];
        assert!(standing(&e, &stranger).unwrap_err().contains("cp-9"));
    }
}
