//! kbc-apply's preflight on a fake root: every check made to fail and to pass under
//! kubeadm's check names, warnings, `--ignore-preflight-errors` (names, `all`, and the
//! bundle's own list), and the re-run rule.

use crate::apply_support;

use apply_support::{bundle, sample_plan, Host, Pki};
use kbc_bundle::apply::ApplyPlan;

/// The sample plan cut down to preflight (and install, which always follows it).
fn plan() -> ApplyPlan {
    let mut plan = sample_plan();
    plan.phases = vec!["preflight".into()];
    plan
}

/// (breakage, the check names it must make fail, whether they are warnings).
type Breaker = fn(&Host);

fn cases() -> Vec<(&'static str, Breaker, &'static [&'static str], bool)> {
    vec![
        (
            "not root",
            |h| h.put("proc/self/status", "Uid:\t1000\t1000\t1000\t1000\n", 0o644),
            &["IsPrivilegedUser"],
            false,
        ),
        (
            "ports in use",
            |h| {
                h.put(
                "proc/net/tcp6",
                "  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000000000000:192B 00000000000000000000000000000000:0000 0A 0\n   1: 00000000000000000000000000000000:0950 00000000000000000000000000000000:0000 0A 0\n",
                0o644,
            )
            },
            &["Port-6443"],
            false,
        ),
        (
            "manifests dir not empty",
            |h| h.put("etc/kubernetes/manifests/other.yaml", "x", 0o600),
            &["DirAvailable--etc-kubernetes-manifests"],
            false,
        ),
        (
            "manifest differs",
            |h| {
                h.put(
                    "etc/kubernetes/manifests/kube-apiserver.yaml",
                    "changed",
                    0o600,
                )
            },
            &[
                "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml",
                "DirAvailable--etc-kubernetes-manifests",
            ],
            false,
        ),
        (
            "etcd data",
            |h| h.put("var/lib/etcd/member/snap", "x", 0o600),
            &["DirAvailable--var-lib-etcd"],
            false,
        ),
        (
            "swap on",
            |h| {
                h.put(
                    "proc/swaps",
                    "Filename Type Size Used Priority\n/swap.img file 1 0 -2\n",
                    0o644,
                )
            },
            &["Swap"],
            true,
        ),
        (
            "ip_forward off",
            |h| h.put("proc/sys/net/ipv4/ip_forward", "0\n", 0o644),
            &["FileContent--proc-sys-net-ipv4-ip_forward"],
            false,
        ),
        (
            "kubelet too old",
            |h| {
                h.put(
                    "usr/bin/kubelet",
                    "#!/bin/sh\necho 'Kubernetes v1.29.9'\n",
                    0o755,
                )
            },
            &["KubeletVersion"],
            false,
        ),
        (
            "kubelet too new",
            |h| {
                h.put(
                    "usr/bin/kubelet",
                    "#!/bin/sh\necho 'Kubernetes v1.32.0'\n",
                    0o755,
                )
            },
            &["KubeletVersion"],
            false,
        ),
        (
            "no kubelet",
            |h| std::fs::remove_file(h.root().join("usr/bin/kubelet")).unwrap(),
            &["KubeletVersion"],
            false,
        ),
        (
            "no CRI",
            |h| std::fs::remove_file(h.root().join("var/run/containerd/containerd.sock")).unwrap(),
            &["CRI"],
            false,
        ),
        (
            "hostname differs",
            |h| h.put("proc/sys/kernel/hostname", "other\n", 0o644),
            &["Hostname"],
            true,
        ),
        (
            "one CPU",
            |h| h.put("proc/cpuinfo", "processor\t: 0\n", 0o644),
            &["NumCPU"],
            false,
        ),
        (
            "little memory",
            |h| h.put("proc/meminfo", "MemTotal: 1000000 kB\n", 0o644),
            &["Mem"],
            false,
        ),
    ]
}

#[test]
fn a_healthy_fake_root_passes_and_a_rerun_passes_too() {
    let pki = Pki::new("kubernetes");
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan()));
    let run = host.run(&b, None, &[]);
    run.ok();
    assert!(
        run.stdout.contains("preflight: unchanged"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("WARNING"), "{}", run.stdout);
    // Second run: the bundle's own manifests and a listening API server do not count.
    host.put(
        "proc/net/tcp6",
        "  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000000000000:192B 00000000000000000000000000000000:0000 0A 0\n",
        0o644,
    );
    host.put("var/lib/etcd/member/snap", "x", 0o600);
    let run = host.run(&b, None, &[]);
    run.ok();
    assert!(
        run.stdout.contains("preflight: unchanged") && run.stdout.contains("install: unchanged"),
        "{}",
        run.stdout
    );
}

#[test]
fn each_check_fails_and_can_be_ignored() {
    let pki = Pki::new("kubernetes");
    for (what, breaker, names, warning) in cases() {
        let host = Host::new();
        let b = host.write_bundle(&bundle(&pki, &pki, &plan()));
        breaker(&host);
        let tree = host.tree();
        let run = host.run(&b, None, &[]);
        if warning {
            run.ok();
            for n in names {
                assert!(
                    run.stdout.contains(&format!("[WARNING {n}]: ")),
                    "{what}: {n}\n{}",
                    run.stdout
                );
            }
            continue;
        }
        assert_eq!(run.code, 1, "{what}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("error execution phase preflight"),
            "{what}: {}",
            run.stderr
        );
        for n in names {
            assert!(
                run.stderr.contains(&format!("[ERROR {n}]: ")),
                "{what}: {n}\n{}",
                run.stderr
            );
        }
        assert!(
            run.stderr.contains("--ignore-preflight-errors="),
            "{}",
            run.stderr
        );
        assert_eq!(
            host.tree(),
            tree,
            "{what}: a refused preflight changed the root"
        );

        // Ignored by name (case-insensitive, as kubeadm lower-cases them): a warning.
        let list = names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",");
        // (--force: a differing manifest is then install's to refuse or replace.)
        let run = host.run(
            &b,
            None,
            &[
                "--dry-run",
                "--force",
                &format!("--ignore-preflight-errors={list}"),
            ],
        );
        run.ok();
        for n in names {
            assert!(
                run.stdout.contains(&format!("[WARNING {n}]: ")),
                "{what}: {n}\n{}",
                run.stdout
            );
        }
        // And by `all`.
        host.run(
            &b,
            None,
            &["--dry-run", "--force", "--ignore-preflight-errors=all"],
        )
        .ok();
    }
}

#[test]
fn the_bundles_own_ignore_list_is_merged() {
    let pki = Pki::new("kubernetes");
    let host = Host::new();
    let mut plan = plan();
    plan.preflight.ignore_errors = vec!["numcpu".into()];
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    host.put("proc/cpuinfo", "processor\t: 0\n", 0o644);
    host.put("proc/meminfo", "MemTotal: 1000 kB\n", 0o644);
    let run = host.run(&b, None, &["--dry-run"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("[ERROR Mem]") && !run.stderr.contains("[ERROR NumCPU]"),
        "{}",
        run.stderr
    );
    let run = host.run(&b, None, &["--dry-run", "--ignore-preflight-errors=Mem"]);
    run.ok();
    assert!(run.stdout.contains("[WARNING NumCPU]") && run.stdout.contains("[WARNING Mem]"));
}

/// Review C28 for a full run: a temporary file that a killed install left in the
/// manifests directory does not make `DirAvailable--etc-kubernetes-manifests` fail (the
/// directory would otherwise never be "empty" again); install then removes it.
#[test]
fn a_stale_temporary_file_does_not_fail_preflight_and_install_removes_it() {
    let pki = Pki::new("kubernetes");
    let host = Host::new();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan()));
    let stale = "etc/kubernetes/manifests/.kube-apiserver.yaml.kbc-tmp-424242-3";
    host.put(stale, "apiVersion: v1\nkind: Pod\n", 0o600);
    let run = host.run(&b, None, &[]);
    run.ok();
    assert!(
        run.stdout.contains("preflight: unchanged") && run.stdout.contains("install: changed"),
        "{}",
        run.stdout
    );
    assert!(!host.root().join(stale).exists(), "{}", run.stdout);
}

/// `--root` is a boundary for the CRI socket preflight connects to: a socket path with
/// `..` is an error, and the socket outside the root is not connected to.
#[test]
fn a_cri_socket_outside_the_root_is_refused() {
    let pki = Pki::new("kubernetes");
    let host = Host::new();
    let mut plan = plan();
    plan.preflight.cri_socket = "unix:///../outside.sock".into();
    let b = host.write_bundle(&bundle(&pki, &pki, &plan));
    let _outside = std::os::unix::net::UnixListener::bind(host.dir.path().join("outside.sock"))
        .expect("bind a socket outside the root");
    let run = host.run(&b, None, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("[ERROR CRI]") && run.stderr.contains("not a clean absolute path"),
        "{}",
        run.stderr
    );
}
