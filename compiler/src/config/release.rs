//! The kubeadm release kbc emulates and the images it pins: the one table of versions.
//!
//! Mirrors `cmd/kubeadm/app/constants/constants.go` and `cmd/kubeadm/app/images/images.go` of
//! the kubeadm v1.31 line. The pins belong to the kubeadm release, not to `kubernetesVersion`:
//! kubeadm 1.31 deploys control planes from v1.30.0 up to its own minor.

use regex::Regex;
use std::fmt;
use std::sync::LazyLock;

/// The kubeadm release kbc behaves as: the newest v1.31 patch release whose image pins kbc
/// knows for certain. A version label (`stable-1`, the default) resolves to it, as kubeadm's
/// falls back to its own version when it cannot reach the internet. v1.31.1 still carries
/// v1.31.0's pins below (etcd 3.5.15-0, CoreDNS v1.11.3, pause 3.10); later 1.31 patches
/// moved `SupportedEtcdVersion` (kubernetes/kubernetes cherry-picks of etcd 3.5.16, 3.5.21
/// and 3.5.24 to release-1.31), so emulating one of them means changing these pins with it.
pub const KUBEADM_VERSION: &str = "v1.31.1";
/// The kubeadm minor kbc behaves as.
pub(crate) const KUBEADM_MINOR: u32 = 31;
/// The oldest control plane kubeadm 1.31 deploys (`MinimumControlPlaneVersion`).
pub(crate) const MINIMUM_CONTROL_PLANE_MINOR: u32 = 30;
/// `kubeadm config print init-defaults` prints kubeadm's `MAJOR.MINOR.0` without `v`.
pub(crate) const PRINT_DEFAULTS_VERSION: &str = "1.31.0";

pub(crate) const DEFAULT_IMAGE_REPOSITORY: &str = "registry.k8s.io";
/// CI builds (`ci/...` versions) take control-plane images from here; kbc refuses them.
pub(crate) const COREDNS_VERSION: &str = "v1.11.3";
pub(crate) const PAUSE_VERSION: &str = "3.10";
/// `SupportedEtcdVersion`: Kubernetes minor → etcd image tag. Minors outside the table use the
/// nearest end, as kubeadm does.
pub(crate) const ETCD_VERSIONS: &[(u32, &str)] =
    &[(29, "3.5.15-0"), (30, "3.5.15-0"), (31, "3.5.15-0")];

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

/// kubeadm's `kubeReleaseRegex` (`cmd/kubeadm/app/util/version.go`): a semantic version,
/// with or without the `v`.
static RELEASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?(0|[1-9](?-u:\d)*)\.(0|[1-9](?-u:\d)*)\.(0|[1-9](?-u:\d)*)([-(?-u:\w).+]*)?$")
        .expect("static regex")
});
/// `kubeReleaseLabelRegex`: the labels kubeadm fetches from the release bucket.
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((latest|stable)+(-[1-9](\.[1-9]((?-u:\d))?)?)?)$").expect("static regex")
});
/// `kubeBucketPrefixes`: an optional `release/` or `ci/` bucket before the label.
static BUCKET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((release|ci)/)?([-(?-u:\w).+]+)$").expect("static regex"));

/// How kubeadm turned a `kubernetesVersion` into a release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReleaseVersion {
    /// Already a version (normalized to the `v` form).
    Given(String),
    /// A label that kubeadm would fetch from `url`; offline it falls back to its own version,
    /// [`KUBEADM_VERSION`].
    Label { url: String },
}

/// kubeadm's `kubernetesReleaseVersion` without the network: a version is normalized; a label
/// (`stable`, `stable-1`, `latest-1.29`, `ci/latest`, …) is what kubeadm cannot fetch in an
/// air gap, so it falls back to the client version, whatever minor the label names; anything
/// else is kubeadm's error text.
pub(crate) fn release_version(version: &str) -> Result<ReleaseVersion, String> {
    let normalized = |v: &str| {
        RELEASE
            .is_match(v)
            .then(|| format!("v{}", v.strip_prefix('v').unwrap_or(v)))
    };
    if let Some(v) = normalized(version) {
        return Ok(ReleaseVersion::Given(v));
    }
    let Some(parts) = BUCKET.captures(version) else {
        return Err(format!("invalid version {version:?}"));
    };
    let label = parts.get(3).map_or("", |m| m.as_str());
    if let Some(v) = normalized(label) {
        return Ok(ReleaseVersion::Given(v));
    }
    if LABEL.is_match(label) {
        let bucket = match parts.get(2).map(|m| m.as_str()) {
            Some(ci @ "ci") => format!("https://storage.googleapis.com/k8s-release-dev/{ci}"),
            _ => "https://dl.k8s.io/release".to_string(),
        };
        return Ok(ReleaseVersion::Label {
            url: format!("{bucket}/{label}.txt"),
        });
    }
    Err(format!(
        "version {version:?} doesn't match patterns for neither semantic version nor labels (stable, latest, ...)"
    ))
}

/// The etcd image tag kubeadm pins for a Kubernetes minor.
pub(crate) fn etcd_version(minor: u32) -> &'static str {
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
pub(crate) struct ImageInputs<'a> {
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
pub(crate) fn kubernetes_image(name: &str, i: &ImageInputs) -> String {
    format!("{}/{name}:{}", i.image_repository, i.version.image_tag())
}

pub(crate) fn coredns_image(i: &ImageInputs) -> String {
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

pub(crate) fn pause_image(i: &ImageInputs) -> String {
    format!("{}/pause:{PAUSE_VERSION}", i.image_repository)
}

pub(crate) fn etcd_image(i: &ImageInputs) -> Option<String> {
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
pub(crate) fn images(i: &ImageInputs) -> Vec<String> {
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

    // The cases of kubeadm's TestKubernetesReleaseVersion, offline (every label falls back).
    #[test_case("v1.31.2", Ok("v1.31.2"); "version")]
    #[test_case("1.31.2", Ok("v1.31.2"); "version without v")]
    #[test_case("v1.31.0-rc.1", Ok("v1.31.0-rc.1"); "pre-release")]
    #[test_case("release/v1.30.3", Ok("v1.30.3"); "version in a bucket")]
    #[test_case("stable", Err("https://dl.k8s.io/release/stable.txt"); "stable")]
    #[test_case("stable-1", Err("https://dl.k8s.io/release/stable-1.txt"); "stable-1")]
    #[test_case("stable-1.31", Err("https://dl.k8s.io/release/stable-1.31.txt"); "stable-1.31")]
    #[test_case("latest-1.29", Err("https://dl.k8s.io/release/latest-1.29.txt"); "another minor")]
    #[test_case("release/stable-1.31", Err("https://dl.k8s.io/release/stable-1.31.txt"); "release bucket")]
    #[test_case("ci/latest", Err("https://storage.googleapis.com/k8s-release-dev/ci/latest.txt"); "ci bucket")]
    fn resolves_versions_and_labels(s: &str, want: Result<&str, &str>) {
        let got = release_version(s).unwrap();
        match want {
            Ok(v) => assert_eq!(got, ReleaseVersion::Given(v.into())),
            Err(url) => assert_eq!(got, ReleaseVersion::Label { url: url.into() }),
        }
    }

    #[test_case("stablex"; "unknown word")]
    #[test_case("stable-1.0"; "minor zero")]
    #[test_case("stable-0"; "major zero")]
    #[test_case("foo/stable"; "unknown bucket")]
    #[test_case("v1.31"; "no patch")]
    #[test_case(""; "empty")]
    fn refuses_what_kubeadm_refuses(s: &str) {
        assert!(release_version(s).is_err(), "{s}");
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
