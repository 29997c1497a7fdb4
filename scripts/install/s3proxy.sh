#!/usr/bin/env bash
# Fetch s3proxy (org.gaul:s3proxy, jar-with-dependencies, Apache-2.0) from Maven Central, idempotently.
# It is the local S3-compatible object store of `make up` and the test fixtures (gigstack_testinfra.servers.s3proxy):
# unlike moto it checks request signatures and the expiry of presigned URLs (docs/adr/0017).
# Cached as ${GIGSTACK_CACHE:-~/.cache/gigstack}/s3proxy-<version>/s3proxy.jar. `--print-path` prints the jar's path.
set -euo pipefail

S3PROXY_VERSION="2.6.0"  # keep in sync with gigstack_testinfra.servers.s3proxy
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
DIR="$CACHE/s3proxy-$S3PROXY_VERSION"
JAR="$DIR/s3proxy.jar"

if [[ ! -s "$JAR" ]]; then
    command -v mvn >/dev/null || { echo "s3proxy.sh: maven is required to fetch s3proxy" >&2; exit 1; }
    mkdir -p "$DIR"
    rm -rf "$DIR.tmp"
    # dependency:copy resolves through the local Maven repository, so a second machine-wide fetch is free.
    mvn -q -B -Dstyle.color=never dependency:copy \
        -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" \
        -DoutputDirectory="$DIR.tmp" -Dmdep.stripVersion=true -Dmdep.stripClassifier=true >&2
    mv "$DIR.tmp/s3proxy.jar" "$JAR"
    rm -rf "$DIR.tmp"
fi
if [[ "${1:-}" == "--print-path" ]]; then
    echo "$JAR"
fi
