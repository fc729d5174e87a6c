//! The kubeadm release kbc emulates and the images it pins: the one table of versions.
//!
//! Mirrors `cmd/kubeadm/app/constants/constants.go` and `cmd/kubeadm/app/images/images.go` of
//! the kubeadm v1.31 line. The pins belong to the kubeadm release, not to `kubernetesVersion`:
//! kubeadm 1.31 deploys control planes from v1.30.0 up to its own minor.

use std::fmt;

/// The kubeadm minor kbc behaves as.
pub const KUBEADM_MINOR: u32 = 31;
/// The oldest control plane kubeadm 1.31 deploys (`MinimumControlPlaneVersion`).
pub const MINIMUM_CONTROL_PLANE_MINOR: u32 = 30;
/// `kubeadm config print init-defaults` prints kubeadm's `MAJOR.MINOR.0` without `v`.
pub const PRINT_DEFAULTS_VERSION: &str = "1.31.0";

pub const DEFAULT_IMAGE_REPOSITORY: &str = "registry.k8s.io";
/// CI builds (`ci/...` versions) take control-plane images from here; kbc refuses them.
pub const COREDNS_VERSION: &str = "v1.11.3";
pub const PAUSE_VERSION: &str = "3.10";
/// `SupportedEtcdVersion`: Kubernetes minor → etcd image tag. Minors outside the table use the
/// nearest end, as kubeadm does.
pub const ETCD_VERSIONS: &[(u32, &str)] = &[(29, "3.5.15-0"), (30, "3.5.15-0"), (31, "3.5.15-0")];

/// A Kubernetes release version, `v1.31.2` or `v1.31.0-rc.1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// Everything after the patch number, with its leading `-` or `+`.
    pub suffix: String,
}

impl KubeVersion {
    /// Parses a semantic version with or without the leading `v` (kubeadm's
    /// `NormalizeKubernetesVersion` accepts both and prints the `v` form).
    pub fn parse(s: &str) -> Option<Self> {
        let body = s.strip_prefix('v').unwrap_or(s);
        let end = body.find(['-', '+']).unwrap_or(body.len());
        let (core, suffix) = body.split_at(end);
        let mut parts = core.split('.');
        let mut num = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty()
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
            {
                return None;
            }
            p.parse().ok()
        };
        let v = KubeVersion {
            major: num()?,
            minor: num()?,
            patch: num()?,
            suffix: suffix.to_string(),
        };
        if parts.next().is_some() {
            return None;
        }
        Some(v)
    }

    /// The image tag: characters outside `[-a-zA-Z0-9_.]` become `_` (`+` in build metadata).
    pub fn image_tag(&self) -> String {
        self.to_string()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{}.{}.{}{}",
            self.major, self.minor, self.patch, self.suffix
        )
    }
}

/// Whether `s` is one of the version labels kubeadm resolves over the network
/// (`stable`, `stable-1`, `latest-1.31`, `release/stable`, `ci/latest`, ...).
pub fn is_version_label(s: &str) -> bool {
    let s = s
        .strip_prefix("release/")
        .or_else(|| s.strip_prefix("ci/"))
        .or_else(|| s.strip_prefix("ci-cross/"))
        .unwrap_or(s);
    let Some(rest) = s
        .strip_prefix("stable")
        .or_else(|| s.strip_prefix("latest"))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('-')
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// The etcd image tag kubeadm pins for a Kubernetes minor.
pub fn etcd_version(minor: u32) -> &'static str {
    let first = ETCD_VERSIONS[0];
    let last = ETCD_VERSIONS[ETCD_VERSIONS.len() - 1];
    ETCD_VERSIONS
        .iter()
        .find(|(m, _)| *m == minor)
        .copied()
        .unwrap_or(if minor < first.0 { first } else { last })
        .1
}

/// What decides the image list; built from a validated ClusterConfiguration.
#[derive(Clone, Debug)]
pub struct ImageInputs<'a> {
    pub version: &'a KubeVersion,
    pub image_repository: &'a str,
    pub dns_image_repository: &'a str,
    pub dns_image_tag: &'a str,
    pub dns_disabled: bool,
    pub proxy_disabled: bool,
    /// `Some((imageRepository, imageTag))` of `etcd.local` when etcd is local.
    pub local_etcd: Option<(&'a str, &'a str)>,
}

/// One control-plane image, `repo/name:tag`.
pub fn kubernetes_image(name: &str, i: &ImageInputs) -> String {
    format!("{}/{name}:{}", i.image_repository, i.version.image_tag())
}

pub fn coredns_image(i: &ImageInputs) -> String {
    let mut repo = if i.dns_image_repository.is_empty() {
        i.image_repository.to_string()
    } else {
        i.dns_image_repository.to_string()
    };
    // The official CoreDNS image lives one level deeper on the default registry only.
    if repo == DEFAULT_IMAGE_REPOSITORY {
        repo.push_str("/coredns");
    }
    let tag = if i.dns_image_tag.is_empty() {
        COREDNS_VERSION
    } else {
        i.dns_image_tag
    };
    format!("{repo}/coredns:{tag}")
}

pub fn pause_image(i: &ImageInputs) -> String {
    format!("{}/pause:{PAUSE_VERSION}", i.image_repository)
}

pub fn etcd_image(i: &ImageInputs) -> Option<String> {
    let (repo, tag) = i.local_etcd?;
    let repo = if repo.is_empty() {
        i.image_repository
    } else {
        repo
    };
    let tag = if tag.is_empty() {
        etcd_version(i.version.minor)
    } else {
        tag
    };
    Some(format!("{repo}/etcd:{tag}"))
}

/// `kubeadm config images list`: kubeadm's order, disabled addons and external etcd left out.
pub fn images(i: &ImageInputs) -> Vec<String> {
    let mut out = vec![
        kubernetes_image("kube-apiserver", i),
        kubernetes_image("kube-controller-manager", i),
        kubernetes_image("kube-scheduler", i),
    ];
    if !i.proxy_disabled {
        out.push(kubernetes_image("kube-proxy", i));
    }
    if !i.dns_disabled {
        out.push(coredns_image(i));
    }
    out.push(pause_image(i));
    out.extend(etcd_image(i));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("1.31.2", Some("v1.31.2"))]
    #[test_case("v1.30.0", Some("v1.30.0"))]
    #[test_case("v1.31.0-rc.1", Some("v1.31.0-rc.1"))]
    #[test_case("v1.31", None)]
    #[test_case("stable-1", None)]
    #[test_case("v1.031.0", None)]
    fn parses_versions(s: &str, want: Option<&str>) {
        assert_eq!(
            KubeVersion::parse(s).map(|v| v.to_string()).as_deref(),
            want
        );
    }

    #[test_case("stable", true)]
    #[test_case("stable-1", true)]
    #[test_case("latest-1.31", true)]
    #[test_case("release/stable-1.31", true)]
    #[test_case("ci/latest", true)]
    #[test_case("stablex", false)]
    #[test_case("v1.31.0", false)]
    fn recognises_labels(s: &str, want: bool) {
        assert_eq!(is_version_label(s), want);
    }

    #[test]
    fn build_metadata_is_escaped_in_tags() {
        assert_eq!(
            KubeVersion::parse("v1.31.2+abc").unwrap().image_tag(),
            "v1.31.2_abc"
        );
    }

    #[test]
    fn etcd_table_uses_the_nearest_end() {
        assert_eq!(etcd_version(31), "3.5.15-0");
        assert_eq!(etcd_version(20), "3.5.15-0");
        assert_eq!(etcd_version(40), "3.5.15-0");
    }
}
