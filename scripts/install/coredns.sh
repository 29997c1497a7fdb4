#!/usr/bin/env bash
# Build CoreDNS (Apache-2.0) from the Go module proxy for the one-node cluster's DNS (docs/local-cluster.md,
# ADR 0023), idempotently: cached in ${GIGSTACK_CACHE:-~/.cache/gigstack}/coredns-<version>/coredns.
# CoreDNS's go.mod has no replace block, so a plain `go install module@version` builds it.
# With --print-path, prints the binary's path on stdout.
set -euo pipefail

VERSION="v1.15.0"   # keep in step with docs/adr/0023
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
DEST="$CACHE/coredns-$VERSION"
BINARY="$DEST/coredns"

if [[ ! -x $BINARY ]]; then
    command -v go >/dev/null || { echo "go is required to build CoreDNS" >&2; exit 1; }
    mkdir -p "$DEST/tmp"
    echo "  building coredns $VERSION from the Go module proxy (cold: minutes)" >&2
    GOBIN="$DEST/tmp" nice -n 15 go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$VERSION" >&2
    mv -f "$DEST/tmp/coredns" "$BINARY"
    rmdir "$DEST/tmp"
fi
[[ ${1:-} == --print-path ]] && echo "$BINARY"
exit 0
