#!/usr/bin/env bash
# Install the Kubernetes control plane the cluster tests run (docs/local-cluster.md, ADR 0009), idempotently:
#   etcd from Debian (etcd-server) and Kubernetes binaries built from the Go module proxy through a wrapper module,
#   cached in ${GIGSTACK_CACHE:-~/.cache/gigstack}/kubernetes-$VERSION/bin. Does nothing when all are cached.
# Usage: kubernetes.sh [COMPONENT...]   default: kube-apiserver (what the fast tier of `make test` needs).
#        `make cluster-up` asks for the node components too (kube-controller-manager kube-scheduler kubelet kube-proxy).
# Also caches the CRDs of the pinned addons listed in scripts/cluster/addon-crds.txt (from their Go modules).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

VERSION="${KUBERNETES_VERSION:-v1.34.4}"   # keep in step with docs/adr/0009 and tests/cluster
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
BIN="$CACHE/kubernetes-$VERSION/bin"
SRC="$CACHE/kubernetes-$VERSION/src"
COMPONENTS=("$@")
[[ ${#COMPONENTS[@]} -gt 0 ]] || COMPONENTS=(kube-apiserver)

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_etcd() {
    if command -v etcd >/dev/null || [[ -x /usr/bin/etcd ]]; then
        return 0
    fi
    # policy-rc.d keeps Debian from starting its own etcd: the tests run theirs on their own loopback ports.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        created_policy=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server \
        || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
             && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server; }
    if [[ $created_policy -eq 1 ]]; then
        as_root rm -f "$policy"
    fi
}

# The wrapper module: k8s.io/kubernetes is not meant to be required (its go.mod points every staging repository at
# ./staging/src/... with v0.0.0), so the wrapper replaces each of those with the published v0.<minor>.<patch>.
prepare_wrapper() {
    if [[ -f $SRC/go.sum && -f $SRC/tools.go ]]; then
        return 0
    fi
    rm -rf "$SRC"
    mkdir -p "$SRC"
    cd "$SRC"
    go mod init local/gigstack-kubernetes >/dev/null 2>&1
    go mod edit -require "k8s.io/kubernetes@$VERSION"
    local staging_version="v0.${VERSION#v1.}"
    local gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    local module
    for module in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod"); do
        go mod edit -replace "$module=$module@$staging_version"
    done
    # A tools file so `go mod tidy` keeps every command's dependencies.
    {
        echo '//go:build tools'
        echo 'package tools'
        echo 'import ('
        local name
        for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
            echo "    _ \"k8s.io/kubernetes/cmd/$name\""
        done
        echo ')'
    } > tools.go
    go mod tidy >/dev/null
}

binary_works() {
    local ask=(--version)
    [[ $1 == kubectl ]] && ask=(version --client)   # kubectl has no --version flag
    # Output captured first: with pipefail, `grep -q` closing the pipe early would fail kubectl's two-line answer.
    local said
    [[ -x "$BIN/$1" ]] && said="$("$BIN/$1" "${ask[@]}" 2>/dev/null)" && grep -q "$VERSION" <<<"$said"
}

build_component() {
    local name="$1"
    if binary_works "$name"; then
        return 0
    fi
    command -v go >/dev/null || { echo "go is required to build $name" >&2; exit 1; }
    prepare_wrapper
    mkdir -p "$BIN"
    cd "$SRC"
    local minor="${VERSION#v1.}"
    minor="${minor%%.*}"
    echo "  building $name $VERSION from the Go module proxy (cold: minutes)"
    # Build next to the target and rename, so a concurrent reader never sees half a binary.
    go build -trimpath -o "$BIN/$name.tmp.$$" -ldflags "-s -w \
        -X k8s.io/component-base/version.gitVersion=$VERSION \
        -X k8s.io/component-base/version.gitMajor=1 \
        -X k8s.io/component-base/version.gitMinor=$minor" "k8s.io/kubernetes/cmd/$name"
    mv -f "$BIN/$name.tmp.$$" "$BIN/$name"
    binary_works "$name" || { echo "$name at $BIN does not report $VERSION" >&2; exit 1; }
}

# The CRD files of each addon, copied out of its Go module (downloaded through the Go module proxy) with its LICENSE.
install_addon_crds() {
    local table="$REPO_ROOT/scripts/cluster/addon-crds.txt"
    local addon chart chart_version module module_version pattern
    while read -r addon chart chart_version module module_version pattern; do
        [[ -z $addon || $addon == \#* ]] && continue
        local target="$CACHE/addon-crds/$addon-$module_version"
        [[ -f $target/SOURCE ]] && continue
        command -v go >/dev/null || { echo "go is required to download the $addon CRDs" >&2; exit 1; }
        local dir
        dir="$(go mod download -json "$module@$module_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
        [[ -n $dir ]] || { echo "could not download $module@$module_version" >&2; exit 1; }
        rm -rf "$target.tmp"
        mkdir -p "$target.tmp"
        # shellcheck disable=SC2086 # the pattern is a glob on purpose
        cp $dir/$pattern "$target.tmp/"
        cp "$dir/LICENSE" "$target.tmp/LICENSE"
        chmod -R u+w "$target.tmp"
        printf '%s@%s (%s), CRDs of chart %s %s\n' "$module" "$module_version" "$pattern" "$chart" "$chart_version" \
            > "$target.tmp/SOURCE"
        rm -rf "$target"
        mv "$target.tmp" "$target"
    done < "$table"
}

install_etcd
install_addon_crds
for component in "${COMPONENTS[@]}"; do
    build_component "$component"
done
