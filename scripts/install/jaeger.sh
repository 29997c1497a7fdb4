#!/usr/bin/env bash
# Build Jaeger v2 (Apache-2.0) from the Go module proxy through a wrapper module.
# Idempotent: cached under ${GIGSTACK_CACHE:-~/.cache/gigstack}/jaeger-<version>/.
# With --print-path, prints the binary's path on stdout (how scripts/devstack finds it).
# Why a wrapper module: jaeger's own go.mod carries a `replace` for sarama, and `go install pkg@version` refuses
# modules with replace directives; the wrapper repeats that replace and builds the command as a tool dependency.
set -euo pipefail

JAEGER_VERSION="v1.75.0"  # the Go module version that ships the v2 binary (cmd/jaeger)
SARAMA_VERSION="v1.33.0"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
DEST="$CACHE/jaeger-$JAEGER_VERSION"
BINARY="$DEST/jaeger"

if [[ -x $BINARY ]]; then
    [[ ${1:-} == --print-path ]] && echo "$BINARY"
    exit 0
fi

work="$DEST/wrapper"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
go mod init gigstack.local/jaeger-wrapper >&2
go mod edit -replace "github.com/Shopify/sarama=github.com/Shopify/sarama@$SARAMA_VERSION"
nice -n 10 go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" >&2
nice -n 10 go mod tidy >&2
nice -n 10 go build -trimpath -ldflags "-s -w" -o "$BINARY.tmp" github.com/jaegertracing/jaeger/cmd/jaeger >&2
mv "$BINARY.tmp" "$BINARY"
[[ ${1:-} == --print-path ]] && echo "$BINARY"
exit 0
