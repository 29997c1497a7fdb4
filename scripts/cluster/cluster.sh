#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine (docs/local-cluster.md, ADR 0023): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet on Debian's containerd/runc with the bridge + host-local CNI,
# kube-proxy (iptables) and CoreDNS behind a selector-less kube-dns Service. Everything listens on the node
# address of a dedicated bridge (gsk0, 10.213.0.1/24), never on the machine's primary address; pods live on
# that bridge; no NAT, nothing is routed anywhere else.
#   cluster.sh up       start (idempotent: a running cluster is left as it is)
#   cluster.sh down     stop and remove everything up created: processes, pods, network namespaces, mounts,
#                       iptables chains, the bridge and its route, cgroups, state directories
#   cluster.sh gitops   serve this repository's HEAD from a git daemon and run Argo CD syncing environments/local
#   cluster.sh import IMAGE...   move images from the private dockerd into the node's containerd
#   cluster.sh env      `eval "$(scripts/cluster/cluster.sh env)"` points kubectl at the cluster
#   cluster.sh status
# State: $RUN (/run/gigstack-cluster: certificates, etcd, sockets, logs, pids). The node's image store stays in
# ~/.cache/gigstack/containerd (a cache, like the private dockerd's), so a warm start imports nothing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
RUN="${GIGSTACK_CLUSTER_RUN:-/run/gigstack-cluster}"
VERSION="v1.34.4"        # scripts/install/kubernetes.sh
BIN="$CACHE/kubernetes-$VERSION/bin"
IMAGE_STORE="$CACHE/containerd"

BRIDGE=gsk0
NODE_IP=10.213.0.1
POD_CIDR=10.213.0.0/24
SERVICE_CIDR=10.213.128.0/24
KUBERNETES_SERVICE_IP=10.213.128.1
DNS_SERVICE_IP=10.213.128.10
NODE_NAME=gigstack-node
CGROUP_ROOT=/gigstack-cluster
PAUSE_IMAGE=local/pause:3.10
CONTAINERD_SOCKET="$RUN/containerd/containerd.sock"
PKI="$RUN/pki"
LOGS="$RUN/logs"
PIDS="$RUN/pids"
# What kubelet writes at fixed paths whatever --root-dir says; removed on down only if up created them.
KUBELET_FIXED_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers)
# What kubelet writes machine-wide (pkg/kubelet/cm: setupKernelTunables); restored on down.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
    kernel.keys.root_maxbytes)

log() { printf '  %-22s %s\n' "$1" "$2"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# kubectl v1.34 when built (kubernetes.sh kubectl), else the machine's.
KUBECTL="$BIN/kubectl"
[[ -x $KUBECTL ]] || KUBECTL="$(command -v kubectl || echo kubectl)"
kubectl_admin() { "$KUBECTL" --kubeconfig "$RUN/admin.kubeconfig" "$@"; }

ctr_k8s() { ctr --address "$CONTAINERD_SOCKET" -n k8s.io "$@"; }

running() { [[ -f $PIDS/$1.pid ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

# start NAME ARGS...: a detached process (own session) with its log under $LOGS and its pid under $PIDS.
start() {
    local name="$1"; shift
    running "$name" && return 0
    setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
    echo $! > "$PIDS/$name.pid"
}

wait_for() {
    local what="$1" timeout="$2"; shift 2
    local deadline=$(( $(date +%s) + timeout ))
    until "$@" >/dev/null 2>&1; do
        if [[ $(date +%s) -gt $deadline ]]; then
            echo "$what did not become ready in ${timeout}s; logs in $LOGS" >&2
            tail -n 20 "$LOGS/$what.log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.25
    done
}

https_ok() { curl -sf --max-time 2 --cacert "$PKI/ca.crt" "$1" >/dev/null; }

# --- certificates -------------------------------------------------------------------------------------------

sign() {   # sign NAME SUBJECT EXTENSIONS
    local name="$1" subject="$2" ext="$3"
    printf '%b\n' "$ext" > "$PKI/$name.ext"
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
    openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr" 2>/dev/null
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 30 \
        -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}

kubeconfig() {   # kubeconfig NAME CERT
    cat > "$RUN/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: gigstack-local
    cluster: {server: "https://$NODE_IP:6443", certificate-authority: "$PKI/ca.crt"}
users:
  - name: $2
    user: {client-certificate: "$PKI/$2.crt", client-key: "$PKI/$2.key"}
contexts:
  - name: gigstack-local
    context: {cluster: gigstack-local, user: $2}
current-context: gigstack-local
EOF
}

make_pki() {
    [[ -f $PKI/done ]] && return 0
    mkdir -p "$PKI"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PKI/ca.key" \
        -out "$PKI/ca.crt" -subj "/CN=gigstack-local-ca" -days 30 2>/dev/null
    sign apiserver "/CN=kube-apiserver" "subjectAltName=IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth"
    sign admin "/O=system:masters/CN=gigstack-admin" "extendedKeyUsage=clientAuth"
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
    sign controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
    sign scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
    sign kube-proxy "/CN=system:kube-proxy" "extendedKeyUsage=clientAuth"
    sign node "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth"
    sign kubelet "/CN=$NODE_NAME" "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME\nextendedKeyUsage=serverAuth"
    sign coredns "/CN=system:coredns" "extendedKeyUsage=clientAuth"
    sign front-proxy-client "/CN=front-proxy-client" "extendedKeyUsage=clientAuth"
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/service-account.key" 2>/dev/null
    openssl ec -in "$PKI/service-account.key" -pubout -out "$PKI/service-account.pub" 2>/dev/null
    local name
    for name in admin controller-manager scheduler kube-proxy node coredns; do
        kubeconfig "$name" "$name"
    done
    touch "$PKI/done"
}

# --- network ------------------------------------------------------------------------------------------------

network_up() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$NODE_IP/24" dev "$BRIDGE"
        ip link set "$BRIDGE" up
    fi
    # The host reaches ClusterIPs from the node address (kube-proxy DNATs them in OUTPUT), not from eth0's.
    ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
    # Pods get a route to the Service range through the node and no default route: nothing but the bridge and
    # the Services is reachable from a pod. Forwarding on this bridge only (pod -> ClusterIP -> pod goes up to the node and back down); the
    # machine-wide ip_forward stays as it is.
    sysctl -qw "net.ipv4.conf.$BRIDGE.forwarding=1"
    mkdir -p "$RUN/cni/net.d" "$RUN/cni/ipam"
    cat > "$RUN/cni/net.d/10-gigstack.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "gigstack",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$RUN/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "rangeStart": "10.213.0.16", "rangeEnd": "10.213.0.250", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}]
      }
    }
  ]
}
EOF
}

# --- control plane ------------------------------------------------------------------------------------------

etcd_up() {
    start etcd etcd --name=gigstack-local --data-dir="$RUN/etcd" \
        --listen-client-urls="http://$NODE_IP:2379" --advertise-client-urls="http://$NODE_IP:2379" \
        --listen-peer-urls="http://$NODE_IP:2380" --initial-advertise-peer-urls="http://$NODE_IP:2380" \
        --initial-cluster="gigstack-local=http://$NODE_IP:2380" --listen-metrics-urls="" --log-level=warn
    wait_for etcd 30 curl -sf --max-time 2 "http://$NODE_IP:2379/health"
}

apiserver_up() {
    start kube-apiserver "$BIN/kube-apiserver" \
        --etcd-servers="http://$NODE_IP:2379" \
        --bind-address="$NODE_IP" --secure-port=6443 --advertise-address="$NODE_IP" \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --authorization-mode=Node,RBAC \
        --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,PodSecurity,NodeRestriction \
        --client-ca-file="$PKI/ca.crt" \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
        --kubelet-certificate-authority="$PKI/ca.crt" \
        --kubelet-preferred-address-types=InternalIP \
        --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
        --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
        --requestheader-extra-headers-prefix=X-Remote-Extra- \
        --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
        --service-account-key-file="$PKI/service-account.pub" \
        --service-account-signing-key-file="$PKI/service-account.key" \
        --service-account-issuer=https://kubernetes.default.svc \
        --allow-privileged=true --anonymous-auth=true \
        --cert-dir="$RUN/apiserver-certs" --v=1
    wait_for kube-apiserver 120 https_ok "https://$NODE_IP:6443/readyz"
}

controllers_up() {
    start kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig="$RUN/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$RUN/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$RUN/controller-manager.kubeconfig" \
        --bind-address="$NODE_IP" --secure-port=10257 --leader-elect=false \
        --service-account-private-key-file="$PKI/service-account.key" --root-ca-file="$PKI/ca.crt" \
        --use-service-account-credentials=true \
        --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
        --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false \
        --v=1
    start kube-scheduler "$BIN/kube-scheduler" \
        --kubeconfig="$RUN/scheduler.kubeconfig" \
        --authentication-kubeconfig="$RUN/scheduler.kubeconfig" \
        --authorization-kubeconfig="$RUN/scheduler.kubeconfig" \
        --bind-address="$NODE_IP" --secure-port=10259 --leader-elect=false --v=1
}

# The overlay's ServiceMonitors and PrometheusRule need their CRDs (the pinned prometheus-operator release, as
# cached by scripts/install/kubernetes.sh); no operator acts on them here.
monitoring_crds_up() {
    local dir="$CACHE/addon-crds/prometheus-operator-v0.83.0"
    kubectl_admin apply --server-side --force-conflicts --field-manager=gigstack-cluster \
        -f "$dir/monitoring.coreos.com_servicemonitors.yaml" -f "$dir/monitoring.coreos.com_prometheusrules.yaml" \
        >/dev/null
}

# --- node ---------------------------------------------------------------------------------------------------

containerd_up() {
    mkdir -p "$RUN/containerd" "$IMAGE_STORE"
    cat > "$RUN/containerd/config.toml" <<EOF
version = 2
root = "$IMAGE_STORE"
state = "$RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$RUN/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The VM lacks CAP_SYS_RESOURCE: without this every sandbox fails writing oom_score_adj.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"
EOF
    start containerd containerd --config "$RUN/containerd/config.toml"
    wait_for containerd 30 ctr --address "$CONTAINERD_SOCKET" version
}

kubelet_up() {
    local missing
    for missing in "${KUBELET_FIXED_PATHS[@]}"; do
        [[ -e $missing ]] || echo "$missing" >> "$RUN/created-paths"
    done
    # Pods' cgroups live under a root of their own, removed on down.
    local controller
    for controller in /sys/fs/cgroup/*/; do
        [[ -L ${controller%/} ]] && continue
        mkdir -p "${controller}${CGROUP_ROOT#/}" 2>/dev/null || true
    done
    # cgroup v1 cpuset: a new group starts with no CPUs and no memory nodes; give it the root's.
    local cpuset="/sys/fs/cgroup/cpuset${CGROUP_ROOT}"
    if [[ -f $cpuset/cpuset.cpus && -z $(cat "$cpuset/cpuset.cpus") ]]; then
        cat /sys/fs/cgroup/cpuset/cpuset.cpus > "$cpuset/cpuset.cpus"
        cat /sys/fs/cgroup/cpuset/cpuset.mems > "$cpuset/cpuset.mems"
    fi
    mkdir -p "$RUN/kubelet" "$RUN/pod-logs"
    # kubelet sets the kernel settings it expects (it refuses to start with protectKernelDefaults and other
    # values); remember the machine's, which down restores.
    if [[ ! -f $RUN/sysctls ]]; then
        local key
        for key in "${KUBELET_SYSCTLS[@]}"; do
            echo "$key=$(sysctl -n "$key")" >> "$RUN/sysctls"
        done
    fi
    # An empty resolv.conf: pods get cluster DNS only, nothing from the host's resolver.
    : > "$RUN/kubelet/resolv.conf"
    cat > "$RUN/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: $NODE_IP
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$PKI/kubelet.crt"
tlsPrivateKeyFile: "$PKI/kubelet.key"
cgroupDriver: cgroupfs
cgroupRoot: "$CGROUP_ROOT"
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCKET"
clusterDNS: ["$DNS_SERVICE_IP"]
clusterDomain: cluster.local
resolvConf: "$RUN/kubelet/resolv.conf"
podLogsDir: "$RUN/pod-logs"
failSwapOn: false
makeIPTablesUtilChains: false
protectKernelDefaults: false
serializeImagePulls: false
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
evictionHard: {memory.available: "200Mi", nodefs.available: "3%", imagefs.available: "3%", nodefs.inodesFree: "3%"}
shutdownGracePeriod: 0s
EOF
    start kubelet "$BIN/kubelet" --config="$RUN/kubelet/config.yaml" --kubeconfig="$RUN/node.kubeconfig" \
        --root-dir="$RUN/kubelet" --cert-dir="$RUN/kubelet/pki" \
        --node-ip="$NODE_IP" --hostname-override="$NODE_NAME" --v=1
    wait_for kubelet 90 kubectl_admin get node "$NODE_NAME"
}

proxy_up() {
    start kube-proxy "$BIN/kube-proxy" --kubeconfig="$RUN/kube-proxy.kubeconfig" \
        --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --hostname-override="$NODE_NAME" \
        --bind-address="$NODE_IP" --healthz-bind-address="$NODE_IP:10256" --metrics-bind-address="$NODE_IP:10249" \
        --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 \
        --iptables-localhost-nodeports=false --nodeport-addresses=primary --v=1
}

# CoreDNS as a host process on the node address, behind the selector-less kube-dns Service. Names outside
# cluster.local get NXDOMAIN: nothing is forwarded anywhere.
dns_up() {
    local coredns
    coredns="$("$REPO_ROOT/scripts/install/coredns.sh" --print-path)"
    kubectl_admin apply --server-side --field-manager=gigstack-cluster -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $DNS_SERVICE_IP
  ports:
    - {name: dns, port: 53, protocol: UDP, targetPort: 53}
    - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: gigstack-cluster}
addressType: IPv4
endpoints:
  - addresses: ["$NODE_IP"]
    conditions: {ready: true}
ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
EOF
    cat > "$RUN/Corefile" <<EOF
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $RUN/coredns.kubeconfig gigstack-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
.:53 {
    bind $NODE_IP
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
    start coredns "$coredns" -conf "$RUN/Corefile" -dns.port 53
}

# --- images -------------------------------------------------------------------------------------------------

pause_image() {
    local docker_host="unix:///run/gigstack-docker/docker.sock"
    if DOCKER_HOST=$docker_host docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    local dir source
    dir="$(mktemp -d)"
    source="$(go env GOMODCACHE)/k8s.io/kubernetes@$VERSION/build/pause/linux/pause.c"
    [[ -f $source ]] || go mod download "k8s.io/kubernetes@$VERSION"
    gcc -Os -static -DVERSION="$VERSION" -o "$dir/pause" "$source"
    strip "$dir/pause"
    printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$dir/Dockerfile"
    DOCKER_HOST=$docker_host DOCKER_BUILDKIT=0 docker build -q -t "$PAUSE_IMAGE" "$dir" >/dev/null 2>&1 \
        || { echo "building $PAUSE_IMAGE failed" >&2; exit 1; }
    rm -rf "$dir"
}

# Import only what containerd does not hold yet at that image ID (a stamp per image), so a warm start is quick.
import_images() {
    local docker_host="unix:///run/gigstack-docker/docker.sock" image id stamp
    mkdir -p "$IMAGE_STORE/.imported"
    for image in "$@"; do
        id="$(DOCKER_HOST=$docker_host docker image inspect -f '{{.Id}}' "$image")"
        stamp="$IMAGE_STORE/.imported/$(echo "$image" | tr '/:' '__')"
        if [[ -f $stamp && $(cat "$stamp") == "$id" ]] && ctr_k8s images ls -q | grep -qx "docker.io/$image"; then
            continue
        fi
        DOCKER_HOST=$docker_host docker save "$image" | ctr_k8s images import - >/dev/null
        echo "$id" > "$stamp"
        log "imported" "$image"
    done
}

# --- GitOps: a git daemon on the node address and Argo CD (repo-server + application-controller) ------------

ARGOCD_NAMESPACE=argocd
GIT_URL="git://$NODE_IP/gigstack.git"
APPLICATION=gigstack-local
ARGOCD_REDIS_PORT=16379   # on the node address, like everything else here
ARGOCD_NETNS=gigstack-argocd
ARGOCD_IP=10.213.0.2      # below host-local's range (.16-.250)

# A bare clone of this repository's HEAD (as branch main) served by git daemon; a push to it triggers the
# post-receive hook, which asks Argo CD to refresh the Application at once instead of at its next poll.
git_up() {
    local bare="$RUN/git/gigstack.git"
    if [[ ! -d $bare ]]; then
        mkdir -p "$RUN/git"
        git init -q --bare "$bare"
        git -C "$bare" symbolic-ref HEAD refs/heads/main
        git -C "$REPO_ROOT" push -q "$bare" HEAD:refs/heads/main
        cat > "$bare/hooks/post-receive" <<EOF
#!/bin/sh
# Refresh at once (Argo CD would otherwise notice the new commit at its next poll, minutes later).
"$KUBECTL" --kubeconfig "$RUN/admin.kubeconfig" -n $ARGOCD_NAMESPACE annotate applications.argoproj.io \
    $APPLICATION argocd.argoproj.io/refresh=normal --overwrite >/dev/null 2>&1 || true
EOF
        chmod +x "$bare/hooks/post-receive"
    fi
    start git-daemon git daemon --reuseaddr --listen="$NODE_IP" --port=9418 --base-path="$RUN/git" \
        --export-all --enable=receive-pack --informative-errors "$RUN/git"
    wait_for git-daemon 20 git ls-remote "$GIT_URL"
}

argocd_up() {
    local dir
    dir="$("$REPO_ROOT/scripts/install/argocd.sh" --print-dir)"
    mkdir -p "$RUN/argocd/tmp" "$RUN/argocd/ssh" "$RUN/argocd/tls" "$RUN/argocd/gpg" "$RUN/argocd/home"
    touch "$RUN/argocd/ssh/ssh_known_hosts"
    # Bound to the node address only; protected mode would refuse the controller's connections from its namespace.
    start argocd-redis redis-server --bind "$NODE_IP" --port "$ARGOCD_REDIS_PORT" --protected-mode no --save '' \
        --appendonly no
    kubectl_admin apply --server-side --force-conflicts --field-manager=gigstack-cluster -f "$dir/crds" >/dev/null
    # kubectl wait errors out (rather than waits) while a new CRD has no status yet: poll it.
    wait_for argocd-crds 60 kubectl_admin wait --for=condition=Established --timeout=5s \
        crd/applications.argoproj.io crd/appprojects.argoproj.io
    # What Argo CD's install.yaml holds that these two components read, and the repository's own AppProject
    # with this machine's git URL added to its sources.
    { cat <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $ARGOCD_NAMESPACE}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cm, namespace: $ARGOCD_NAMESPACE, labels: {app.kubernetes.io/part-of: argocd}}
data:
  timeout.reconciliation: 180s
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cmd-params-cm, namespace: $ARGOCD_NAMESPACE, labels: {app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-rbac-cm, namespace: $ARGOCD_NAMESPACE, labels: {app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: Secret
metadata: {name: argocd-secret, namespace: $ARGOCD_NAMESPACE, labels: {app.kubernetes.io/part-of: argocd}}
stringData: {server.secretkey: "$(openssl rand -hex 32)"}
---
EOF
      sed "s#^    - https://github.com/gigstack/gigstack.git#&\n    - $GIT_URL#" "$REPO_ROOT/gitops/argocd/appproject-marketplace.yaml"
    } | kubectl_admin apply --server-side --force-conflicts --field-manager=gigstack-cluster -f - >/dev/null
    local env=(env HOME="$RUN/argocd/home" TMPDIR="$RUN/argocd/tmp" PATH="$dir:$PATH"
        KUBECONFIG="$RUN/admin.kubeconfig" ARGOCD_FAKE_IN_CLUSTER=true ARGOCD_GPG_ENABLED=false
        ARGOCD_SSH_DATA_PATH="$RUN/argocd/ssh" ARGOCD_TLS_DATA_PATH="$RUN/argocd/tls"
        ARGOCD_GNUPGHOME="$RUN/argocd/gpg")
    start argocd-repo-server "${env[@]}" ARGOCD_BINARY_NAME=argocd-repo-server "$dir/argocd" \
        --address "$NODE_IP" --port 8081 --metrics-address "$NODE_IP" --metrics-port 8084 --disable-tls \
        --redis "$NODE_IP:$ARGOCD_REDIS_PORT" --loglevel warn
    # The application-controller binds its metrics server to 0.0.0.0 (no flag changes it): it runs in a network
    # namespace of its own on the bridge (10.213.0.2), where "all interfaces" is that one address.
    if [[ ! -e /run/netns/$ARGOCD_NETNS ]]; then
        # `ip netns add` bind-mounts /run/netns over itself when it is not a mount point yet, which hides the
        # namespaces containerd pinned there before: down undoes that bind first.
        mountpoint -q /run/netns || touch "$RUN/netns-bind-created"
        ip netns add "$ARGOCD_NETNS"
        ip link add gsargo0 type veth peer name eth0 netns "$ARGOCD_NETNS"
        ip link set gsargo0 master "$BRIDGE" up
        ip -n "$ARGOCD_NETNS" addr add "$ARGOCD_IP/24" dev eth0
        ip -n "$ARGOCD_NETNS" link set eth0 up
        ip -n "$ARGOCD_NETNS" link set lo up
    fi
    start argocd-application-controller ip netns exec "$ARGOCD_NETNS" "${env[@]}" \
        ARGOCD_BINARY_NAME=argocd-application-controller \
        "$dir/argocd" --namespace "$ARGOCD_NAMESPACE" --repo-server "$NODE_IP:8081" --repo-server-plaintext \
        --redis "$NODE_IP:$ARGOCD_REDIS_PORT" --metrics-port 8082 \
        --status-processors 4 --operation-processors 2 --app-resync 180 --loglevel warn
    # The Application the marketplace ApplicationSet would generate for this cluster, pointed at the overlay.
    kubectl_admin apply --server-side --force-conflicts --field-manager=gigstack-cluster -f - >/dev/null <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $APPLICATION
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/part-of: gigstack, gigstack.io/environment: local}
spec:
  project: marketplace
  source: {repoURL: "$GIT_URL", targetRevision: main, path: environments/local}
  destination: {server: "https://kubernetes.default.svc", namespace: gigstack}
  revisionHistoryLimit: 10
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [SkipDryRunOnMissingResource=true, PruneLast=true, ApplyOutOfSyncOnly=true]
    retry: {limit: -1, backoff: {duration: 5s, factor: 2, maxDuration: 1m}}
  ignoreDifferences:
    - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
EOF
}

# --- up / down ----------------------------------------------------------------------------------------------

up() {
    local t0 t
    t0=$(now_ms)
    mkdir -p "$RUN" "$LOGS" "$PIDS"
    "$REPO_ROOT/scripts/install/kubernetes.sh" kube-apiserver kube-controller-manager kube-scheduler kubelet \
        kube-proxy kubectl
    "$REPO_ROOT/scripts/install/coredns.sh" >/dev/null
    make_pki
    network_up
    t=$(now_ms); etcd_up; apiserver_up; log "control plane" "ready in $(( $(now_ms) - t )) ms"
    controllers_up
    monitoring_crds_up
    t=$(now_ms); containerd_up
    "$REPO_ROOT/scripts/cluster/docker.sh" start
    pause_image
    import_images "$PAUSE_IMAGE"
    kubelet_up; log "node" "registered in $(( $(now_ms) - t )) ms"
    proxy_up
    dns_up
    wait_for kubelet 120 node_ready
    log "cluster" "up in $(( $(now_ms) - t0 )) ms (kubectl: eval \"\$($0 env)\")"
}

node_ready() {
    [[ $(kubectl_admin get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

stop_process() {
    local name="$1" pid
    [[ -f $PIDS/$name.pid ]] || return 0
    pid="$(cat "$PIDS/$name.pid")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [[ $waited -lt 40 ]]; do sleep 0.25; waited=$((waited + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDS/$name.pid"
}

# The node's containers and sandboxes: killed and deleted through containerd; the network namespaces their
# sandboxes ran in are collected from their specs and removed (the veths go with them).
remove_containers() {
    [[ -S $CONTAINERD_SOCKET ]] || return 0
    local id netns
    for id in $(ctr_k8s containers ls -q 2>/dev/null); do
        netns="$(ctr_k8s containers info "$id" 2>/dev/null | python3 -c '
import json, sys
spec = json.load(sys.stdin).get("Spec") or {}
for ns in (spec.get("linux") or {}).get("namespaces") or []:
    if ns.get("type") == "network" and ns.get("path"):
        print(ns["path"])' 2>/dev/null || true)"
        [[ -n $netns ]] && echo "$netns" >> "$RUN/netns"
        ctr_k8s tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
        ctr_k8s tasks delete -f "$id" >/dev/null 2>&1 || true
        ctr_k8s containers delete "$id" >/dev/null 2>&1 || true
    done
}

remove_shims() {
    # Shims started by this containerd carry its socket in their command line.
    local pid
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCKET" || true); do
        kill -9 "$pid" 2>/dev/null || true
    done
}

remove_iptables() {
    # kube-proxy's own cleanup removes every chain and rule it created (iptables and nftables modes).
    [[ -x $BIN/kube-proxy ]] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
    # What kubelet and kube-proxy leave besides (KUBE-FIREWALL and the canary/hint chains, IPv4 and IPv6): the
    # built-in chains' jumps into KUBE-* first, then those chains. No other program here names chains KUBE-*.
    local ipt table chain rule
    for ipt in iptables ip6tables; do
        command -v "$ipt" >/dev/null || continue
        for table in filter nat mangle; do
            while read -r rule; do
                [[ -n $rule ]] && eval "$ipt -t $table ${rule/#-A/-D}" 2>/dev/null || true
            done < <("$ipt" -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -v '^-A KUBE-' || true)
            for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do
                "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
            done
            for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do
                "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
            done
        done
    done
}

down() {
    [[ -d $RUN ]] || { ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"; return 0; }
    local name
    for name in argocd-application-controller argocd-repo-server argocd-redis git-daemon coredns kube-proxy kubelet \
        kube-scheduler kube-controller-manager; do
        stop_process "$name"
    done
    remove_containers
    stop_process containerd
    remove_shims
    stop_process kube-apiserver
    stop_process etcd
    [[ -e /run/netns/$ARGOCD_NETNS ]] && ip netns delete "$ARGOCD_NETNS"
    [[ -f $RUN/netns-bind-created ]] && { umount -l /run/netns 2>/dev/null || true; }
    local netns
    if [[ -f $RUN/netns ]]; then
        while read -r netns; do
            # Only the namespaces the CNI pinned (/run/netns/cni-*); containers name theirs by /proc paths.
            [[ $netns == /run/netns/* || $netns == /var/run/netns/* ]] || continue
            while mountpoint -q "$netns" 2>/dev/null; do umount -l "$netns" 2>/dev/null || break; done
            rm -f "$netns" 2>/dev/null || true
        done < "$RUN/netns"
    fi
    remove_iptables
    ip route del "$SERVICE_CIDR" dev "$BRIDGE" 2>/dev/null || true
    ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
    # Mounts under our paths (pod volumes, overlay rootfs, shm), deepest first.
    local mount
    for mount in $(awk -v a="$RUN" -v b="$IMAGE_STORE" '$2 ~ "^"a || $2 ~ "^"b || $2 ~ "^/var/lib/kubelet" {print $2}' \
        /proc/mounts | sort -r); do
        umount -l "$mount" 2>/dev/null || true
    done
    local controller
    for controller in /sys/fs/cgroup/*/; do
        [[ -d ${controller}${CGROUP_ROOT#/} ]] || continue
        find "${controller}${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    if [[ -f $RUN/sysctls ]]; then
        sysctl -q -p "$RUN/sysctls" >/dev/null 2>&1 || true
    fi
    if [[ -f $RUN/created-paths ]]; then
        local path
        while read -r path; do rm -rf "$path"; done < "$RUN/created-paths"
    fi
    rm -rf "$RUN"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    import) shift; import_images "$@" ;;
    gitops) git_up; argocd_up ;;
    env) echo "export KUBECONFIG=$RUN/admin.kubeconfig; alias kubectl=$KUBECTL" ;;
    status)
        # RSS per process (the stores' are listed by `python -m scripts.cluster.stores status`) and the pods' memory
        # as their cgroup counts it (page cache included).
        total=0
        for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy coredns \
            git-daemon argocd-redis argocd-repo-server argocd-application-controller; do
            if running "$name"; then
                rss=$(( $(ps -o rss= -p "$(cat "$PIDS/$name.pid")") / 1024 ))
                total=$(( total + rss ))
                log "$name" "running (pid $(cat "$PIDS/$name.pid"), RSS $rss MiB)"
            else
                log "$name" "-"
            fi
        done
        log "processes" "RSS $total MiB"
        pods=/sys/fs/cgroup/memory$CGROUP_ROOT/memory.usage_in_bytes
        [[ -f $pods ]] && log "pods (cgroup)" "$(( $(cat "$pods") / 1048576 )) MiB" ;;
    *) echo "usage: $0 up|down|import IMAGE...|env|status" >&2; exit 2 ;;
esac
