#!/usr/bin/env bash
# Offline validation of the GitOps manifests, images and pipeline definitions (tests/manifests):
# kustomize builds of both overlays and the Argo CD objects, strict kubernetes-validate at the
# platform's Kubernetes version, CRD schemas from ../shared/schemas, checkov, yamllint, actionlint,
# coverage/exposure/overlay-diff checks. Installs its tools idempotently:
#   - workspace group "manifests" (kubernetes-validate, jsonschema, yamllint) via uv sync;
#   - checkov as an isolated uv tool in ~/.cache/gigstack (its dependency tree does not fit the lock);
#   - actionlint from the Go module proxy into ~/.cache/gigstack/bin (when Go is installed).
# Usage: scripts/validate-manifests.sh [extra pytest args]
set -euo pipefail

cd "$(dirname "$0")/.."
tools_home="${HOME}/.cache/gigstack"
checkov_version="3.3.30"
actionlint_module="github.com/rhysd/actionlint/cmd/actionlint@v1.7.7"

command -v kubectl >/dev/null || { echo "kubectl (with built-in kustomize) is required" >&2; exit 1; }
[ -d ../shared/schemas ] || { echo "CRD schemas are expected in ../shared/schemas" >&2; exit 1; }

uv sync --all-packages --all-groups --frozen --quiet

if [ ! -x "${tools_home}/bin/checkov" ]; then
  UV_TOOL_DIR="${tools_home}/uv-tools" UV_TOOL_BIN_DIR="${tools_home}/bin" \
    uv tool install --python 3.11 "checkov==${checkov_version}"
fi
if [ ! -x "${tools_home}/bin/actionlint" ] && command -v go >/dev/null; then
  GOBIN="${tools_home}/bin" go install "${actionlint_module}"
fi

exec uv run pytest tests/manifests -q "$@"
