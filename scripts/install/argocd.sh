#!/usr/bin/env bash
# Build Argo CD (Apache-2.0) from the Go module proxy for the one-node cluster's GitOps loop
# (docs/local-cluster.md, ADR 0023), idempotently: cached in ${GIGSTACK_CACHE:-~/.cache/gigstack}/argocd-<version>/.
#   argocd      one binary; it acts as each component by ARGOCD_BINARY_NAME (argocd-repo-server,
#               argocd-application-controller); no UI assets (argocd-server is not run here)
#   kustomize   what the repo-server runs to render a kustomize Application (a shim to kubectl's embedded one)
#   crds/       the CRDs of this release (manifests/crds of the module), with its LICENSE
# Why a wrapper module: argo-cd's go.mod carries a replace block (k8s.io staging modules, CVE pins) and
# `go install pkg@version` refuses modules with replace directives; the wrapper copies that block.
# v3.2.11 is the newest release that builds here: 3.3+ replace gitops-engine with a nested directory that the
# module zip lacks, and later ones need a newer Go.
# With --print-dir, prints the cache directory on stdout.
set -euo pipefail

VERSION="v3.2.11"            # keep in step with docs/adr/0023
KUSTOMIZE_VERSION="v5.7.1"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="$CACHE/argocd-$VERSION"
MODULE="github.com/argoproj/argo-cd/v3"

build_argocd() {
    [[ -x $DEST/argocd && -f $DEST/crds/SOURCE ]] && return 0
    command -v go >/dev/null || { echo "go is required to build Argo CD" >&2; exit 1; }
    local work="$DEST/wrapper"
    rm -rf "$work"
    mkdir -p "$work"
    cd "$work"
    go mod init local/gigstack-argocd >/dev/null 2>&1
    go mod edit -require "$MODULE@$VERSION"
    local info gomod dir
    info="$(go mod download -json "$MODULE@$VERSION")"
    gomod="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")"
    dir="$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$info")"
    # Copy the replace block: every `old[@v] => new@v` of argo-cd's go.mod.
    local replace
    while read -r replace; do
        [[ -n $replace ]] && go mod edit -replace "$replace"
    done < <(go mod edit -json "$gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    new = r["New"]["Path"] + ("@" + r["New"]["Version"] if r["New"].get("Version") else "")
    print(f"{old}={new}")
')
    printf '//go:build tools\npackage tools\nimport _ "%s/cmd"\n' "$MODULE" > tools.go
    echo "  resolving Argo CD $VERSION's dependencies" >&2
    go mod tidy >&2
    echo "  building argocd $VERSION from the Go module proxy (cold: minutes, ~2 GB)" >&2
    nice -n 15 go build -trimpath -o "$DEST/argocd.tmp" \
        -ldflags "-s -w -X $MODULE/common.version=${VERSION#v}" "$MODULE/cmd"
    mv -f "$DEST/argocd.tmp" "$DEST/argocd"
    rm -rf "$DEST/crds"
    mkdir -p "$DEST/crds"
    cp "$dir"/manifests/crds/*-crd.yaml "$DEST/crds/"
    cp "$dir/LICENSE" "$DEST/crds/LICENSE"
    chmod -R u+w "$DEST/crds"
    echo "$MODULE@$VERSION manifests/crds" > "$DEST/crds/SOURCE"
}

# kubectl v1.34.4 (scripts/install/kubernetes.sh) embeds kustomize v5.7.1, the version Argo CD v3.2.11 ships
# with: a two-verb shim (what the repo-server runs: `kustomize build DIR [flags]`, `kustomize version`) instead
# of a second build.
build_kustomize() {
    [[ -x $DEST/kustomize ]] && return 0
    "$REPO_ROOT/scripts/install/kubernetes.sh" kubectl
    cat > "$DEST/kustomize.tmp" <<EOF
#!/bin/sh
# kustomize for Argo CD's repo-server: kubectl's embedded kustomize (written by scripts/install/argocd.sh).
case "\$1" in
    build) shift; exec "$CACHE/kubernetes-v1.34.4/bin/kubectl" kustomize "\$@" ;;
    version) echo "$KUSTOMIZE_VERSION" ;;
    *) echo "kustomize shim: only build and version" >&2; exit 2 ;;
esac
EOF
    chmod +x "$DEST/kustomize.tmp"
    mv -f "$DEST/kustomize.tmp" "$DEST/kustomize"
}

mkdir -p "$DEST"
build_argocd
build_kustomize
[[ ${1:-} == --print-dir ]] && echo "$DEST"
exit 0
