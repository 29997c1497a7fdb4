#!/usr/bin/env bash
# Fetch axe-core (MPL-2.0, Deque) from the npm registry, idempotently: the accessibility engine the browser tier
# (tests/browser) injects into every page it visits. Only the tarball of a pinned version is downloaded and its
# sha512 checked against the registry's integrity for that version (no npm install, no node_modules).
# Cached as ${GIGSTACK_CACHE:-~/.cache/gigstack}/axe-core-<version>/axe.min.js. `--print-path` prints its path.
set -euo pipefail

AXE_CORE_VERSION="4.14.1"  # keep in sync with tests/browser/axe.py
# `npm view axe-core@4.14.1 dist.integrity`
AXE_CORE_INTEGRITY="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
DIR="$CACHE/axe-core-$AXE_CORE_VERSION"
SCRIPT="$DIR/axe.min.js"

if [[ ! -s "$SCRIPT" ]]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    curl -fsSL --retry 3 --max-time 120 -o "$tmp/axe-core.tgz" \
        "https://registry.npmjs.org/axe-core/-/axe-core-$AXE_CORE_VERSION.tgz"
    actual="sha512-$(openssl dgst -sha512 -binary "$tmp/axe-core.tgz" | base64 -w0)"
    if [[ "$actual" != "$AXE_CORE_INTEGRITY" ]]; then
        echo "axe-core.sh: integrity mismatch for axe-core $AXE_CORE_VERSION ($actual)" >&2
        exit 1
    fi
    tar -xzf "$tmp/axe-core.tgz" -C "$tmp" package/axe.min.js package/LICENSE
    mkdir -p "$DIR"
    cp "$tmp/package/LICENSE" "$DIR/LICENSE"
    # Written last (atomically): its presence is what marks the cache as complete.
    cp "$tmp/package/axe.min.js" "$SCRIPT.tmp"
    mv "$SCRIPT.tmp" "$SCRIPT"
fi
if [[ "${1:-}" == "--print-path" ]]; then
    echo "$SCRIPT"
fi
