#!/usr/bin/env bash
# Build FerretDB v1 through a wrapper module (see docs/local-development.md).
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but that binary panics at start because
# build/version/version.txt is not in the module zip. The plain wrapper-module recipe is not enough with recent Go
# toolchains (1.26 records FerretDB itself as the main module, so the version check still runs): we copy the module
# next to the wrapper, add version.txt and point a `replace` at the copy.
# Idempotent: does nothing when a binary that starts is already cached.
set -euo pipefail

VERSION="${FERRETDB_VERSION:-v1.24.2}"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
BINARY="$CACHE/ferretdb-$VERSION"
SRC="$CACHE/ferretdb-src"

binary_works() {
    # A healthy binary prints its version; the broken `go install` build panics here already.
    [[ -x "$BINARY" ]] && "$BINARY" --version >/dev/null 2>&1
}

if binary_works; then
    exit 0
fi

command -v go >/dev/null || { echo "go is required to build FerretDB" >&2; exit 1; }
# Start from a clean wrapper module each time we have to build (only when no working binary is cached).
rm -rf "$SRC"
mkdir -p "$SRC"
cd "$SRC"
go mod init local/fdb >/dev/null 2>&1
go get "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION" >/dev/null 2>&1
module_dir="$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)"
cp -r "$module_dir" ferretdb-module
chmod -R u+w ferretdb-module
echo "$VERSION" > ferretdb-module/build/version/version.txt
go mod edit -replace github.com/FerretDB/FerretDB=./ferretdb-module
# Build next to the target and rename, so a concurrent reader never sees half a binary.
go build -o "$BINARY.tmp.$$" github.com/FerretDB/FerretDB/cmd/ferretdb
mv -f "$BINARY.tmp.$$" "$BINARY"
binary_works || { echo "FerretDB build at $BINARY does not start" >&2; exit 1; }
