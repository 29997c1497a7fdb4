#!/usr/bin/env bash
# Build the Gigstack OpenTelemetry Collector from observability/collector/builder.yaml with the official builder.
# Idempotent: the binary is cached under ${GIGSTACK_CACHE:-~/.cache/gigstack}/otelcol-<release>/ together with the
# hash of the manifest it was built from; a changed manifest rebuilds, an unchanged one returns at once.
# With --print-path, prints the binary's path on stdout (how scripts/devstack finds it).
set -euo pipefail

OTELCOL_VERSION="0.165.0"  # the builder's release; every module in the manifest carries the same one
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
MANIFEST="$REPO_ROOT/observability/collector/builder.yaml"
DEST="$CACHE/otelcol-$OTELCOL_VERSION"
BINARY="$DEST/otelcol-gigstack"
STAMP="$DEST/manifest.sha256"

want="$(sha256sum "$MANIFEST" | cut -d' ' -f1)"
if [[ -x $BINARY && -f $STAMP && "$(cat "$STAMP")" == "$want" ]]; then
    [[ ${1:-} == --print-path ]] && echo "$BINARY"
    exit 0
fi

mkdir -p "$DEST"
export GOBIN="$DEST/tools"
nice -n 10 go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION" >&2
work="$DEST/build"
rm -rf "$work"
# The builder writes its generated module and the binary into output_path; keep both out of the repository.
# output_path in the manifest is overridden by a copy of it naming the cache directory.
sed "s#^  output_path: .*#  output_path: $work#" "$MANIFEST" > "$DEST/builder.yaml"
nice -n 10 "$GOBIN/builder" --config="$DEST/builder.yaml" >&2
mv "$work/otelcol-gigstack" "$BINARY"
rm -rf "$work"
echo "$want" > "$STAMP"
[[ ${1:-} == --print-path ]] && echo "$BINARY"
exit 0
