//! The objects of the `addon/coredns` and `addon/kube-proxy` phases of `kubeadm init` v1.31.
//!
//! kubeadm fills Go text templates and decodes them into typed objects; the templates below are
//! kubeadm's, verbatim, from `cmd/kubeadm/app/phases/addons/dns/manifests.go` (v1.31:
//! numeric probe ports with three container ports, plain `cache 30`) and
//! `cmd/kubeadm/app/phases/addons/proxy/manifests.go`. Creation order and the objects built in
//! Go follow `createCoreDNSAddon` in `cmd/kubeadm/app/phases/addons/dns/dns.go` and
//! `EnsureProxyAddon` / `printOrCreateKubeProxyObjects` in
//! `cmd/kubeadm/app/phases/addons/proxy/proxy.go`.
//!
//! kbc fills a template by plain substitution of its `{{ .Name }}` fields, parses the YAML and
//! writes it through [`crate::yaml::ser::value_to_yaml`] like every other object.
//!
//! Deliberate differences from kubeadm:
//! - **CoreDNS replicas** are always 2: kubeadm keeps the replica count of an existing CoreDNS
//!   Deployment, which a first init never has.
//! - **kube-dns Service.** The template's `metadata.resourceVersion: "0"` (there so that
//!   kubeadm's fallback Update is accepted) is dropped, since an apply must not carry it; and
//!   `ipFamilyPolicy: SingleStack` with `ipFamilies` of the cluster IP's family are written as
//!   the API server defaults them for kubeadm's single-address Service, also on dual-stack.
//! - **kube-proxy environment.** kubeadm appends the `*_proxy` variables of its own process to
//!   the DaemonSet's container; kbc reads no environment and appends none.

use super::objects::{
    cluster_role_binding, config_map_reader_role, group, role_binding, service_account,
    service_account_subject, sign_config_map, BOOTSTRAP_GROUP, KUBE_SYSTEM,
};
use crate::config::cluster::image_inputs;
use crate::config::defaults::CONTROL_PLANE_TAINT_KEY;
use crate::config::release::{coredns_image, kubernetes_image};
use crate::config::Cluster;
use crate::yaml::ser::to_yaml;
use serde_json::{json, Value};
use std::net::IpAddr;

/// `coreDNSReplicas`: the replica count of a new CoreDNS Deployment.
const COREDNS_REPLICAS: &str = "2";
/// `constants.CoreDNSDeploymentName`.
const COREDNS_DEPLOYMENT: &str = "coredns";
/// `constants.KubeProxyConfigMap` and `KubeProxyConfigMapKey`.
const KUBE_PROXY: &str = "kube-proxy";
const KUBE_PROXY_CONFIG_KEY: &str = "config.conf";
/// `KubeProxyClusterRoleName`, bound by `kubeadm:node-proxier`.
const NODE_PROXIER_ROLE: &str = "system:node-proxier";
const NODE_PROXIER_BINDING: &str = "kubeadm:node-proxier";

/// `CoreDNSService` (kubeadm v1.31).
const COREDNS_SERVICE: &str = r#"
apiVersion: v1
kind: Service
metadata:
  labels:
    k8s-app: kube-dns
    kubernetes.io/cluster-service: "true"
    kubernetes.io/name: "CoreDNS"
  name: kube-dns
  namespace: kube-system
  annotations:
    prometheus.io/port: "9153"
    prometheus.io/scrape: "true"
  # Without this resourceVersion value, an update of the Service between versions will yield:
  #   Service "kube-dns" is invalid: metadata.resourceVersion: Invalid value: "": must be specified for an update
  resourceVersion: "0"
spec:
  clusterIP: {{ .DNSIP }}
  ports:
  - name: dns
    port: 53
    protocol: UDP
    targetPort: 53
  - name: dns-tcp
    port: 53
    protocol: TCP
    targetPort: 53
  - name: metrics
    port: 9153
    protocol: TCP
    targetPort: 9153
  selector:
    k8s-app: kube-dns
"#;

/// `CoreDNSDeployment` (kubeadm v1.31).
const COREDNS_DEPLOYMENT_TEMPLATE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .DeploymentName }}
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: {{ .Replicas }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector:
                matchExpressions:
                - key: k8s-app
                  operator: In
                  values: ["kube-dns"]
              topologyKey: kubernetes.io/hostname
      tolerations:
      - key: CriticalAddonsOnly
        operator: Exists
      - key: {{ .ControlPlaneTaintKey }}
        effect: NoSchedule
      nodeSelector:
        kubernetes.io/os: linux
      containers:
      - name: coredns
        image: {{ .Image }}
        imagePullPolicy: IfNotPresent
        resources:
          limits:
            memory: 170Mi
          requests:
            cpu: 100m
            memory: 70Mi
        args: [ "-conf", "/etc/coredns/Corefile" ]
        volumeMounts:
        - name: config-volume
          mountPath: /etc/coredns
          readOnly: true
        ports:
        - containerPort: 53
          name: dns
          protocol: UDP
        - containerPort: 53
          name: dns-tcp
          protocol: TCP
        - containerPort: 9153
          name: metrics
          protocol: TCP
        livenessProbe:
          httpGet:
            path: /health
            port: 8080
            scheme: HTTP
          initialDelaySeconds: 60
          timeoutSeconds: 5
          successThreshold: 1
          failureThreshold: 5
        readinessProbe:
          httpGet:
            path: /ready
            port: 8181
            scheme: HTTP
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_BIND_SERVICE
            drop:
            - ALL
          readOnlyRootFilesystem: true
      dnsPolicy: Default
      volumes:
        - name: config-volume
          configMap:
            name: coredns
            items:
            - key: Corefile
              path: Corefile
"#;

/// `CoreDNSConfigMap` (kubeadm v1.31; 1.32 turns `cache 30` into a block).
const COREDNS_CONFIG_MAP: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:53 {
        errors
        health {
           lameduck 5s
        }
        ready
        kubernetes {{ .DNSDomain }} in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        prometheus :9153
        forward . /etc/resolv.conf {
           max_concurrent 1000
        }
        cache 30
        loop
        reload
        loadbalance
    }
"#;

/// `CoreDNSClusterRole`.
const COREDNS_CLUSTER_ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
- apiGroups:
  - ""
  resources:
  - endpoints
  - services
  - pods
  - namespaces
  verbs:
  - list
  - watch
- apiGroups:
  - discovery.k8s.io
  resources:
  - endpointslices
  verbs:
  - list
  - watch
"#;

/// `CoreDNSClusterRoleBinding`.
const COREDNS_CLUSTER_ROLE_BINDING: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:coredns
subjects:
- kind: ServiceAccount
  name: coredns
  namespace: kube-system
"#;

/// `CoreDNSServiceAccount`.
const COREDNS_SERVICE_ACCOUNT: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: coredns
  namespace: kube-system
"#;

/// `KubeProxyConfigMap19` (kubeadm v1.31).
const KUBE_PROXY_CONFIG_MAP: &str = r#"
kind: ConfigMap
apiVersion: v1
metadata:
  name: {{ .ProxyConfigMap }}
  namespace: kube-system
  labels:
    app: kube-proxy
data:
  kubeconfig.conf: |-
    apiVersion: v1
    kind: Config
    clusters:
    - cluster:
        certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
        server: {{ .ControlPlaneEndpoint }}
      name: default
    contexts:
    - context:
        cluster: default
        namespace: default
        user: default
      name: default
    current-context: default
    users:
    - name: default
      user:
        tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
  {{ .ProxyConfigMapKey }}: |-
{{ .ProxyConfig}}
"#;

/// `KubeProxyDaemonSet19` (kubeadm v1.31).
const KUBE_PROXY_DAEMON_SET: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    k8s-app: kube-proxy
  name: kube-proxy
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: kube-proxy
  updateStrategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        k8s-app: kube-proxy
    spec:
      priorityClassName: system-node-critical
      containers:
      - name: kube-proxy
        image: {{ .Image }}
        imagePullPolicy: IfNotPresent
        command:
        - /usr/local/bin/kube-proxy
        - --config=/var/lib/kube-proxy/{{ .ProxyConfigMapKey }}
        - --hostname-override=$(NODE_NAME)
        securityContext:
          privileged: true
        volumeMounts:
        - mountPath: /var/lib/kube-proxy
          name: kube-proxy
        - mountPath: /run/xtables.lock
          name: xtables-lock
          readOnly: false
        - mountPath: /lib/modules
          name: lib-modules
          readOnly: true
        env:
          - name: NODE_NAME
            valueFrom:
              fieldRef:
                fieldPath: spec.nodeName
      hostNetwork: true
      serviceAccountName: kube-proxy
      volumes:
      - name: kube-proxy
        configMap:
          name: {{ .ProxyConfigMap }}
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
      - name: lib-modules
        hostPath:
          path: /lib/modules
      tolerations:
      - operator: Exists
      nodeSelector:
        kubernetes.io/os: linux
"#;

/// Fills `{{ .Name }}` / `{{ .Name}}` fields of a kubeadm template and decodes the YAML.
///
/// Panics if a field is left or the result does not parse: both are bugs in the templates
/// above or in the values kbc computes, never a user error.
fn fill(template: &str, fields: &[(&str, &str)]) -> Value {
    let mut text = template.to_string();
    for (name, value) in fields {
        for pattern in [format!("{{{{ .{name} }}}}"), format!("{{{{ .{name}}}}}")] {
            text = text.replace(&pattern, value);
        }
    }
    assert!(
        !text.contains("{{"),
        "a kubeadm template field was left unfilled:\n{text}"
    );
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("a filled kubeadm template must be valid YAML: {e}\n{text}"))
}

/// addon/coredns (`cmd/kubeadm/app/phases/addons/dns/dns.go`): ConfigMap, ClusterRole, ClusterRoleBinding, ServiceAccount,
/// Deployment, Service, in `createCoreDNSAddon`'s order.
pub(crate) fn coredns(c: &Cluster) -> Vec<Value> {
    let image = coredns_image(&image_inputs(&c.config, &c.version));
    let deployment = fill(
        COREDNS_DEPLOYMENT_TEMPLATE,
        &[
            ("DeploymentName", COREDNS_DEPLOYMENT),
            ("Image", &image),
            ("ControlPlaneTaintKey", CONTROL_PLANE_TAINT_KEY),
            ("Replicas", COREDNS_REPLICAS),
        ],
    );
    let config_map = fill(
        COREDNS_CONFIG_MAP,
        &[("DNSDomain", &c.config.networking.dns_domain)],
    );
    let ip = c.dns_ip;
    let mut service = fill(COREDNS_SERVICE, &[("DNSIP", &ip.to_string())]);
    if let Some(meta) = service["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    let family = match ip {
        IpAddr::V6(_) => "IPv6",
        IpAddr::V4(_) => "IPv4",
    };
    service["spec"]["ipFamilyPolicy"] = json!("SingleStack");
    service["spec"]["ipFamilies"] = json!([family]);
    vec![
        config_map,
        fill(COREDNS_CLUSTER_ROLE, &[]),
        fill(COREDNS_CLUSTER_ROLE_BINDING, &[]),
        fill(COREDNS_SERVICE_ACCOUNT, &[]),
        deployment,
        service,
    ]
}

/// The KubeProxyConfiguration as kubeadm marshals it (the `config.conf` source).
pub fn kube_proxy_config_yaml(c: &Cluster) -> String {
    to_yaml(&c.kube_proxy)
}

/// addon/kube-proxy (`cmd/kubeadm/app/phases/addons/proxy/proxy.go`): ConfigMap, DaemonSet, ServiceAccount, ClusterRoleBinding,
/// Role, RoleBinding, in kubeadm's order. `server`: admin.conf's server (the ConfigMap's
/// kubeconfig); `user_supplied`: the file held a KubeProxyConfiguration (no hash annotation).
pub(crate) fn kube_proxy(c: &Cluster, server: &str, user_supplied: bool) -> Vec<Value> {
    // apiclient.PrintBytesWithLinePrefix(&prefixBytes, proxyBytes, "    ")
    let proxy_config: String = kube_proxy_config_yaml(c)
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    let mut config_map = fill(
        KUBE_PROXY_CONFIG_MAP,
        &[
            ("ControlPlaneEndpoint", server),
            ("ProxyConfig", &proxy_config),
            ("ProxyConfigMap", KUBE_PROXY),
            ("ProxyConfigMapKey", KUBE_PROXY_CONFIG_KEY),
        ],
    );
    if !user_supplied {
        sign_config_map(&mut config_map);
    }
    let image = kubernetes_image(KUBE_PROXY, &image_inputs(&c.config, &c.version));
    let daemon_set = fill(
        KUBE_PROXY_DAEMON_SET,
        &[
            ("Image", &image),
            ("ProxyConfigMap", KUBE_PROXY),
            ("ProxyConfigMapKey", KUBE_PROXY_CONFIG_KEY),
        ],
    );
    vec![
        config_map,
        daemon_set,
        service_account(KUBE_SYSTEM, KUBE_PROXY),
        cluster_role_binding(
            NODE_PROXIER_BINDING,
            NODE_PROXIER_ROLE,
            vec![service_account_subject(KUBE_SYSTEM, KUBE_PROXY)],
        ),
        config_map_reader_role(KUBE_SYSTEM, KUBE_PROXY, KUBE_PROXY),
        role_binding(
            KUBE_SYSTEM,
            KUBE_PROXY,
            KUBE_PROXY,
            vec![group(BOOTSTRAP_GROUP)],
        ),
    ]
}
