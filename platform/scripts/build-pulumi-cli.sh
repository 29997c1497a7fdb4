#!/usr/bin/env bash
# Build the Pulumi CLI and the Python language host from the Go module proxy (no GitHub release downloads here).
# Output: $PULUMI_HOME_DIR/bin/{pulumi,pulumi-language-python} (default ~/.cache/gigstack/pulumi).
# The CLI's pkg module has `replace` lines, so it cannot be `go install`ed; a wrapper module requires pkg and sdk
# at the same version. The language host module has no tags, so it is pinned to the commit of the CLI's tag.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-v3.259.0}"
# Commit of tag pkg/v3.259.0 (from https://proxy.golang.org/github.com/pulumi/pulumi/pkg/v3/@v/v3.259.0.info).
# v3.260.0 is the newest version whose .info the proxy serves here, but its .zip answers
# 403 "This module version is not available", so v3.259.0 is the newest buildable one.
PULUMI_COMMIT="${PULUMI_COMMIT:-a05d88f24d05726fa3beae771bfdedb0c0c6a94a}"
PULUMI_HOME_DIR="${PULUMI_HOME_DIR:-$HOME/.cache/gigstack/pulumi}"
export GOFLAGS="${GOFLAGS:--p=1} -buildvcs=false"

mkdir -p "$PULUMI_HOME_DIR/bin" "$PULUMI_HOME_DIR/src/cli" "$PULUMI_HOME_DIR/src/langhost"

build_cli() {
  cd "$PULUMI_HOME_DIR/src/cli"
  [[ -f go.mod ]] || go mod init local/pulumi-cli
  # `go get` of the command package records every module it needs; pkg's own `replace` lines do not apply
  # to a dependency, which is why sdk/v3 is pinned to the same version explicitly.
  go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@${PULUMI_VERSION}" "github.com/pulumi/pulumi/sdk/v3@${PULUMI_VERSION}"
  nice -n 10 go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}" \
    -o "$PULUMI_HOME_DIR/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

# The newest sdk/v3 release that still carries the Python language host as a package (from v3.80.0 on it is
# a separate, untagged module, and this proxy answers 403 to commit queries for it).
LEGACY_LANGHOST_SDK="${LEGACY_LANGHOST_SDK:-v3.79.0}"

build_language_host() {
  cd "$PULUMI_HOME_DIR/src/langhost"
  [[ -f go.mod ]] || go mod init local/pulumi-langhost
  if go get "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@${PULUMI_COMMIT}"; then
    nice -n 10 go build -o "$PULUMI_HOME_DIR/bin/pulumi-language-python" \
      github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
  else
    echo "commit ${PULUMI_COMMIT} not served; falling back to sdk/v3@${LEGACY_LANGHOST_SDK}" >&2
    go get "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python@${LEGACY_LANGHOST_SDK}"
    nice -n 10 go build -o "$PULUMI_HOME_DIR/bin/pulumi-language-python" \
      github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
    # That host starts programs through this script, shipped next to it in the same module.
    install -m 0755 "$(go env GOMODCACHE)/github.com/pulumi/pulumi/sdk/v3@${LEGACY_LANGHOST_SDK}/python/cmd/pulumi-language-python-exec" \
      "$PULUMI_HOME_DIR/bin/pulumi-language-python-exec"
  fi
}

case "${1:-all}" in
  cli) build_cli ;;
  langhost) build_language_host ;;
  all) build_cli; build_language_host ;;
  *) echo "usage: $0 [cli|langhost|all]" >&2; exit 2 ;;
esac
ls -l "$PULUMI_HOME_DIR/bin"
