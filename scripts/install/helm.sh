#!/usr/bin/env bash
# Build the Helm CLI from the Go module proxy (no chart repository or get.helm.sh needed), idempotently.
# tests/platform render the vendored charts with it (tests/platform/vendor/README.md). Cached in
# ${GIGSTACK_CACHE:-~/.cache/gigstack}/helm-<version>/helm. `--print-path` prints the binary's path.
set -euo pipefail

HELM_VERSION="v3.21.4"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
BIN_DIR="$CACHE/helm-$HELM_VERSION"

if [[ ! -x "$BIN_DIR/helm" ]]; then
    command -v go >/dev/null || { echo "helm.sh: go is required to build helm" >&2; exit 1; }
    mkdir -p "$BIN_DIR"
    GOBIN="$BIN_DIR.tmp" GOFLAGS="${GOFLAGS:--p=1}" nice -n 10 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    mv "$BIN_DIR.tmp/helm" "$BIN_DIR/helm"
    rmdir "$BIN_DIR.tmp"
fi
if [[ "${1:-}" == "--print-path" ]]; then
    echo "$BIN_DIR/helm"
fi
