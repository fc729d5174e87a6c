//! kubeadm's patches (`--patches DIR`): the directories under `fixtures/patches/` applied to
//! `fixtures/single-node.yaml`, and every malformed or unmatched patch refused with its file
//! named. Rules: kubeadm's
//! `cmd/kubeadm/app/util/patches/patches.go`.

use crate::common::root;
use kbc::config::{self, Cluster, LoadOptions, Source};
use kbc::edge::load_patches;
use kbc::render::kubelet::kubelet_config_yaml;
use kbc::render::manifests::{self, Component, HostInputs};
use kbc::render::patches::{patched_static_pods, PatchError, PatchSet, PatchType};
use serde_json::{json, Value};
use std::path::PathBuf;

fn fixture(name: &str) -> Cluster {
    let path = root().join("fixtures").join(name);
    let src = Source {
        name: name.into(),
        text: std::fs::read_to_string(path).unwrap(),
    };
    config::load(&src, &LoadOptions::default())
        .unwrap_or_else(|r| panic!("{name} must be valid:\n{r}"))
        .cluster
}

fn dir(case: &str) -> PathBuf {
    root().join("fixtures/patches").join(case)
}

fn patches(case: &str) -> PatchSet {
    load_patches(&dir(case)).unwrap_or_else(|e| panic!("{case}: {e}"))
}

/// The error's text with the repository root taken off the paths it names.
fn message(e: &PatchError) -> String {
    e.to_string().replace(&format!("{}/", root().display()), "")
}

fn load_error(case: &str) -> String {
    message(&load_patches(&dir(case)).expect_err(case))
}

/// The patched Pods of single-node.yaml, parsed back from their YAML.
fn pods(set: &PatchSet) -> Vec<(String, Value)> {
    pods_of(&fixture("single-node.yaml"), set)
}

fn pods_of(c: &Cluster, set: &PatchSet) -> Vec<(String, Value)> {
    patched_static_pods(c, &HostInputs::default(), set)
        .unwrap()
        .into_iter()
        .map(|(name, yaml)| (name, yaml_value(&yaml)))
        .collect()
}

fn pod<'a>(pods: &'a [(String, Value)], file: &str) -> &'a Value {
    &pods.iter().find(|(n, _)| n == file).unwrap().1
}

fn yaml_value(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap()
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn no_patches_leave_the_manifests_byte_identical() {
    let c = fixture("single-node.yaml");
    let plain = manifests::static_pods(&c, &HostInputs::default());
    let patched = patched_static_pods(&c, &HostInputs::default(), &PatchSet::default()).unwrap();
    assert_eq!(plain, patched);
    // A directory whose patches target other components leaves the rest unchanged too.
    let patched = patched_static_pods(&c, &HostInputs::default(), &patches("kubelet")).unwrap();
    assert_eq!(plain, patched);
}

#[test]
fn strategic_merges_by_merge_key_and_honours_directives() {
    let c = fixture("single-node.yaml");
    let original = manifests::static_pod(&c, &HostInputs::default(), Component::ApiServer).unwrap();
    let pods = pods(&patches("strategic"));
    let api = pod(&pods, "kube-apiserver.yaml");

    assert_eq!(
        api["metadata"]["annotations"]["example.com/patched"],
        "true"
    );
    // Existing annotations stay.
    assert_eq!(
        api["metadata"]["annotations"]
            ["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"],
        "192.168.56.10:6443"
    );
    // containers merge by name; a new one goes first, as the Go implementation orders it.
    assert_eq!(
        names(&api["spec"]["containers"], "name"),
        ["audit-shipper", "kube-apiserver"]
    );
    let main = container(api, "kube-apiserver");
    assert_eq!(
        main["command"],
        original["spec"]["containers"][0]["command"]
    );
    assert_eq!(main["env"], json!([{"name": "GOGC", "value": "50"}]));
    assert_eq!(
        main["resources"],
        json!({"requests": {"cpu": "500m", "memory": "1Gi"}})
    );
    assert!(main.get("startupProbe").is_none(), "null deletes the key");
    assert!(main.get("livenessProbe").is_some());
    // volumeMounts merge by mountPath: one changed in place, one deleted, order kept.
    let mounts = &main["volumeMounts"];
    let mut expected: Vec<String> = names(
        &original["spec"]["containers"][0]["volumeMounts"],
        "mountPath",
    );
    expected.retain(|m| m != "/usr/share/ca-certificates");
    assert_eq!(names(mounts, "mountPath"), expected);
    let ssl = mounts
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/etc/ssl/certs")
        .unwrap();
    assert_eq!(ssl["readOnly"], false);
    assert_eq!(ssl["name"], "ca-certs");
    // volumes by name: `$patch: delete`.
    assert!(
        !names(&api["spec"]["volumes"], "name").contains(&"usr-share-ca-certificates".to_string())
    );
    assert_eq!(
        api["spec"]["volumes"].as_array().unwrap().len(),
        original["spec"]["volumes"].as_array().unwrap().len() - 1
    );
    // A list without merge key is replaced.
    assert_eq!(api["spec"]["tolerations"], json!([{"operator": "Exists"}]));
    // The Pod keeps kubeadm's shape.
    assert_eq!(api["metadata"]["creationTimestamp"], Value::Null);
    assert_eq!(api["status"], json!({}));

    // `$patch: replace` on a list and on a map.
    let sched = pod(&pods, "kube-scheduler.yaml");
    let main = container(sched, "kube-scheduler");
    assert_eq!(
        main["volumeMounts"],
        json!([{"mountPath": "/etc/kubernetes/scheduler.conf", "name": "kubeconfig"}])
    );
    assert_eq!(main["resources"], json!({"limits": {"cpu": "1"}}));

    // Untargeted Pods are untouched.
    let plain = manifests::static_pods(&c, &HostInputs::default());
    let patched = patched_static_pods(&c, &HostInputs::default(), &patches("strategic")).unwrap();
    assert_eq!(plain[1], patched[1], "kube-controller-manager");
    assert_eq!(plain[3], patched[3], "etcd");
}

#[test]
fn strategic_patch_output_is_kubeadms_yaml_shape() {
    let c = fixture("single-node.yaml");
    let out = patched_static_pods(&c, &HostInputs::default(), &patches("strategic")).unwrap();
    let (_, sched) = &out[2];
    assert!(
        sched.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n"),
        "{sched}"
    );
    assert!(sched.ends_with("status: {}\n"), "{sched}");
    assert!(
        sched.contains("    resources:\n      limits:\n        cpu: \"1\"\n"),
        "{sched}"
    );
}

#[test]
fn merge_patch_and_json_patch() {
    let c = fixture("single-node.yaml");
    let original = manifests::static_pod(&c, &HostInputs::default(), Component::Etcd).unwrap();
    let pods = pods(&patches("merge-and-json"));

    // RFC 7386: null deletes, maps merge, the container list is replaced whole.
    let kcm = pod(&pods, "kube-controller-manager.yaml");
    assert_eq!(
        kcm["metadata"]["labels"],
        json!({"component": "kube-controller-manager", "example.com/team": "platform"})
    );
    assert_eq!(
        kcm["spec"]["containers"],
        json!([{"name": "kube-controller-manager", "image": "registry.example/kube-controller-manager:v1.31.2-custom"}])
    );

    // RFC 6902: test, add to the end of a list, replace, remove, copy.
    let etcd = pod(&pods, "etcd.yaml");
    let cmd = etcd["spec"]["containers"][0]["command"].as_array().unwrap();
    assert_eq!(cmd.last().unwrap(), "--quota-backend-bytes=8589934592");
    assert_eq!(
        cmd.len(),
        original["spec"]["containers"][0]["command"]
            .as_array()
            .unwrap()
            .len()
            + 1
    );
    assert_eq!(
        etcd["spec"]["containers"][0]["resources"]["requests"]["memory"],
        "200Mi"
    );
    assert!(etcd["metadata"].get("annotations").is_none());
    assert_eq!(etcd["metadata"]["labels"]["app"], "etcd");
}

#[test]
fn files_apply_in_kubeadms_walk_order_and_documents_in_file_order() {
    let set = patches("ordering");
    let order: Vec<String> = set
        .files()
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix(dir("ordering")).unwrap();
            format!("{} {} {}", rel.display(), f.patch_type, f.len())
        })
        .collect();
    assert_eq!(
        order,
        [
            "kube-scheduler+json.yaml json 1",
            "kube-scheduler.yaml strategic 2",
            "kube-scheduler0+merge.yaml merge 1",
            "kube-scheduler1+json.yaml json 1",
            "sub/kube-scheduler+merge.yaml merge 1",
        ]
    );
    assert_eq!(set.files()[0].patch_type, PatchType::Json);
    let pods = pods(&set);
    assert_eq!(
        pod(&pods, "kube-scheduler.yaml")["metadata"]["annotations"],
        json!({"order": "sub", "seen-strategic": "yes"})
    );
}

#[test]
fn kubeletconfiguration_patches_apply_to_config_yaml() {
    let c = fixture("single-node.yaml");
    let plain = yaml_value(&kubelet_config_yaml(&c, &PatchSet::default()).unwrap());
    let yaml = kubelet_config_yaml(&c, &patches("kubelet")).unwrap();
    let patched = yaml_value(&yaml);
    // json first (150), then strategic (200); lists replaced, maps merged, null deletes.
    assert_eq!(patched["maxPods"], 200);
    assert_eq!(patched["clusterDNS"], json!(["169.254.20.10"]));
    assert_eq!(
        patched["evictionHard"],
        json!({"memory.available": "200Mi"})
    );
    assert_eq!(
        patched["authentication"]["webhook"],
        plain["authentication"]["webhook"]
    );
    assert!(patched["authentication"].get("anonymous").is_none());
    // Everything else is as without patches, and the keys stay sorted.
    let mut rest = patched.clone();
    let mut base = plain.clone();
    for v in [&mut rest, &mut base] {
        let m = v.as_object_mut().unwrap();
        for k in ["maxPods", "clusterDNS", "evictionHard", "authentication"] {
            m.remove(k);
        }
    }
    assert_eq!(rest, base);
    assert!(
        yaml.starts_with("apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n"),
        "{yaml}"
    );
    // Pods are not kubelet targets.
    assert_eq!(
        manifests::static_pods(&c, &HostInputs::default()),
        patched_static_pods(&c, &HostInputs::default(), &patches("kubelet")).unwrap()
    );
}

#[test]
fn unknown_extensions_and_empty_files_are_skipped_and_listed() {
    let set = patches("ignored");
    assert!(set.is_empty());
    let ignored: Vec<String> = set
        .ignored()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i.path.file_name().unwrap().to_str().unwrap(),
                i.reason
            )
        })
        .collect();
    assert_eq!(
        ignored,
        [
            "kube-apiserver.yaml: empty file",
            "kube-scheduler.yaml.orig: the file extension must be one of [json yaml]",
            "notes.txt: the file extension must be one of [json yaml]",
        ]
    );
}

#[test]
fn corednsdeployment_patches_are_kept_for_the_addon() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("corednsdeployment+merge.yaml"),
        "spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: coredns\n        image: x\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("corednsdeployment1.yaml"),
        "spec:\n  template:\n    spec:\n      containers:\n      - name: coredns\n        resources:\n          limits:\n            memory: 512Mi\n",
    )
    .unwrap();
    let set = load_patches(tmp.path()).unwrap();
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3", "resources": {"limits": {"memory": "170Mi"}}}
        ]}}}
    });
    let out = set.apply_coredns_deployment(deployment).unwrap();
    assert_eq!(out["spec"]["replicas"], 3);
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "coredns", "image": "x", "resources": {"limits": {"memory": "512Mi"}}}])
    );
    // Without CoreDNS the patch matches nothing: an error naming the file.
    let err = set
        .refuse_target("corednsdeployment", "CoreDNS is disabled")
        .unwrap_err();
    assert!(
        err.to_string().contains("corednsdeployment+merge.yaml"),
        "{err}"
    );
    assert!(err.to_string().contains("corednsdeployment1.yaml"), "{err}");
}

#[test]
fn malformed_yaml_is_refused_with_file_line_and_column() {
    assert_eq!(
        load_error("bad-yaml"),
        "fixtures/patches/bad-yaml/kube-apiserver.yaml:4:12: unclosed bracket '['"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    assert_eq!(
        load_error("duplicate-key"),
        "fixtures/patches/duplicate-key/kube-scheduler.yaml:4:5: duplicate key \"x\" in metadata.labels (first at line 3)"
    );
}

#[test]
fn a_bad_json_patch_operation_is_refused() {
    let e = load_error("bad-json-op");
    assert!(
        e.starts_with("fixtures/patches/bad-json-op/etcd+json.yaml:1: not a valid json patch: "),
        "{e}"
    );
    assert!(e.contains("frobnicate"), "{e}");
}

#[test]
fn a_document_of_the_wrong_shape_is_refused() {
    assert_eq!(
        load_error("not-a-mapping"),
        "fixtures/patches/not-a-mapping/kube-apiserver+merge.yaml:5: not a valid merge patch: expected a mapping, got a list"
    );
}

#[test]
fn an_unknown_target_is_refused() {
    assert_eq!(
        load_error("unknown-target"),
        "fixtures/patches/unknown-target/kube-proxy.yaml: unknown patch target; the file name must start with one of etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubeletconfiguration, corednsdeployment"
    );
}

#[test]
fn an_unknown_patch_type_is_refused() {
    assert_eq!(
        load_error("unknown-type"),
        "fixtures/patches/unknown-type/kube-apiserver+yaml.yaml: unknown or missing patch type after '+', must be one of json, merge, strategic"
    );
}

#[test]
fn a_yml_file_is_refused_rather_than_skipped() {
    assert_eq!(
        load_error("yml"),
        "fixtures/patches/yml/etcd.yml: kubeadm ignores the extension .yml; rename the file to .yaml"
    );
}

#[test]
fn the_patches_path_must_be_a_directory() {
    let e = message(&load_patches(&dir("strategic/kube-apiserver.yaml")).unwrap_err());
    assert_eq!(
        e,
        "could not list patch files in fixtures/patches/strategic/kube-apiserver.yaml: not a directory"
    );
    let e = load_patches(&dir("does-not-exist")).unwrap_err();
    assert!(matches!(e, PatchError::Dir { .. }), "{e}");
}

#[test]
fn a_patch_that_does_not_apply_names_its_file() {
    let c = fixture("single-node.yaml");
    let e = patched_static_pods(&c, &HostInputs::default(), &patches("apply-fails")).unwrap_err();
    let e = message(&e);
    assert!(
        e.starts_with("fixtures/patches/apply-fails/kube-controller-manager+json.yaml:1: could not apply the json patch to target \"kube-controller-manager\": "),
        "{e}"
    );
}

#[test]
fn a_patch_may_not_turn_a_pod_into_something_else() {
    let c = fixture("single-node.yaml");
    let e = patched_static_pods(&c, &HostInputs::default(), &patches("wrong-kind")).unwrap_err();
    assert_eq!(
        message(&e),
        "fixtures/patches/wrong-kind/kube-apiserver+merge.yaml: the patched \"kube-apiserver\" is not a valid Pod: apiVersion \"v1\" and kind \"Deployment\", expected \"v1\" and \"Pod\""
    );
}

#[test]
fn an_etcd_patch_with_external_etcd_matches_no_target() {
    let set = patches("etcd");
    // With local etcd it applies.
    let pods = pods(&set);
    assert_eq!(
        pod(&pods, "etcd.yaml")["metadata"]["labels"]["x"],
        "patched"
    );
    let c = fixture("external-etcd.yaml");
    let e = patched_static_pods(&c, &HostInputs::default(), &set).unwrap_err();
    assert_eq!(
        message(&e),
        "fixtures/patches/etcd/etcd+merge.yaml: patches target \"etcd\", but etcd is external, so kubeadm writes no etcd Pod"
    );
}

#[test]
fn a_yaml11_boolean_label_is_refused_like_kubeadms_pod_decoding() {
    // go-yaml v2 reads `on` as true; kubeadm then fails to decode the labels of the Pod.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kube-scheduler.yaml"),
        "metadata:\n  labels:\n    backup: on\n",
    )
    .unwrap();
    let set = load_patches(tmp.path()).unwrap();
    let c = fixture("single-node.yaml");
    let e = patched_static_pods(&c, &HostInputs::default(), &set)
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("kube-scheduler.yaml: the patched \"kube-scheduler\" is not a valid Pod: metadata.labels.backup must be a string, got a boolean (quote values such as \"on\", \"yes\" or \"y\")"), "{e}");
}

#[test]
fn patched_pods_with_external_etcd_and_no_etcd_patch() {
    let c = fixture("external-etcd.yaml");
    let pods = pods_of(&c, &patches("strategic"));
    assert_eq!(pods.len(), 3);
}

/// The patched Pods of every valid patch directory still validate strictly against the
/// Kubernetes 1.31 schemas (`kubernetes-validate`, installed by `tests/setup.sh`).
#[test]
fn patched_pods_validate_strictly_against_kubernetes_1_31() {
    let tmp = tempfile::tempdir().unwrap();
    let c = fixture("single-node.yaml");
    let mut paths = Vec::new();
    for case in ["strategic", "merge-and-json", "ordering", "etcd"] {
        for (name, yaml) in patched_static_pods(&c, &HostInputs::default(), &patches(case)).unwrap()
        {
            let path = tmp.path().join(format!("{case}--{name}"));
            std::fs::write(&path, yaml).unwrap();
            paths.push(path);
        }
    }
    crate::common::kubernetes_validate(&paths);
}
