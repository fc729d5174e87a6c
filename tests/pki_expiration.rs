//! `kbc certs check-expiration` on a rendered tree: kubeadm's columns and layout
//! (`cmd/kubeadm/app/cmd/certs.go`), expectations written out by hand.

use crate::pki_support as support;

use kbc::pki::expiration::{render_text, report};
use kbc::pki::IssueTime;
use support::*;

/// One minute after the issue time (2026-11-25T12:00:00Z), as a fresh kubeadm install
/// shows it.
const EXPECTED: &str = "CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Nov 25, 2027 12:00 UTC   364d            ca                      no      
apiserver                  Nov 25, 2027 12:00 UTC   364d            ca                      no      
apiserver-etcd-client      Nov 25, 2027 12:00 UTC   364d            etcd-ca                 no      
apiserver-kubelet-client   Nov 25, 2027 12:00 UTC   364d            ca                      no      
controller-manager.conf    Nov 25, 2027 12:00 UTC   364d            ca                      no      
etcd-healthcheck-client    Nov 25, 2027 12:00 UTC   364d            etcd-ca                 no      
etcd-peer                  Nov 25, 2027 12:00 UTC   364d            etcd-ca                 no      
etcd-server                Nov 25, 2027 12:00 UTC   364d            etcd-ca                 no      
front-proxy-client         Nov 25, 2027 12:00 UTC   364d            front-proxy-ca          no      
scheduler.conf             Nov 25, 2027 12:00 UTC   364d            ca                      no      
super-admin.conf           Nov 25, 2027 12:00 UTC   364d            ca                      no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Nov 22, 2036 12:00 UTC   9y              no      
etcd-ca                 Nov 22, 2036 12:00 UTC   9y              no      
front-proxy-ca          Nov 22, 2036 12:00 UTC   9y              no      
";

fn now() -> time::OffsetDateTime {
    IssueTime::parse_rfc3339("2026-11-25T12:01:00Z")
        .unwrap()
        .at()
}

#[test]
fn fresh_tree_prints_kubeadm_tables() {
    let (dir, _) = render_dir(&input(), &secrets());
    let provided = kbc::edge::read_pki_dir(&dir.path().join("pki"), &input()).unwrap();
    let text = render_text(&report(&provided).unwrap(), now());
    assert_eq!(text, EXPECTED);
}

#[test]
fn external_ca_and_missing_files_are_shown() {
    let (dir, _) = render_dir(&input(), &secrets());
    std::fs::remove_file(dir.path().join("pki/front-proxy-ca.key")).unwrap();
    std::fs::remove_file(dir.path().join("scheduler.conf")).unwrap();
    let provided = kbc::edge::read_pki_dir(&dir.path().join("pki"), &input()).unwrap();
    let text = render_text(&report(&provided).unwrap(), now());
    assert!(
        text.contains("front-proxy-client         Nov 25, 2027 12:00 UTC   364d            front-proxy-ca          yes     \n"),
        "{text}"
    );
    assert!(
        text.contains(
            "front-proxy-ca          Nov 22, 2036 12:00 UTC   9y              yes     \n"
        ),
        "{text}"
    );
    assert!(text.contains("!MISSING! scheduler.conf"), "{text}");
    // External etcd (no etcd files): no etcd rows at all.
    let mut i = input();
    i.external_etcd = true;
    let (dir, _) = render_dir(&i, &secrets());
    let provided = kbc::edge::read_pki_dir(&dir.path().join("pki"), &input()).unwrap();
    let text = render_text(&report(&provided).unwrap(), now());
    assert!(!text.contains("etcd"), "{text}");
    // Expired: <invalid>.
    let later = IssueTime::parse_rfc3339("2028-01-01T00:00:00Z")
        .unwrap()
        .at();
    let text = render_text(&report(&provided).unwrap(), later);
    assert!(text.contains("<invalid>"), "{text}");
}

#[test]
fn a_corrupt_certificate_is_an_error_naming_the_file() {
    let (dir, _) = render_dir(&input(), &secrets());
    std::fs::write(dir.path().join("pki/apiserver.crt"), "garbage").unwrap();
    let provided = kbc::edge::read_pki_dir(&dir.path().join("pki"), &input()).unwrap();
    let e = report(&provided).unwrap_err().to_string();
    assert!(e.contains("pki/apiserver.crt"), "{e}");
}
