#!/usr/bin/env bash
# Try the real Pulumi engine on this machine: `pulumi preview` of the minikube stack against a local file
# backend, with the kubernetes provider rendering manifests to a directory instead of talking to a cluster.
# Prerequisite: platform/scripts/build-pulumi-cli.sh (CLI + Python language host from the Go module proxy).
# Every step's output goes to $WORK/logs/<step>.log; docs/platform/real-engine.md records what happened here.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PULUMI_HOME_DIR="${PULUMI_HOME_DIR:-$HOME/.cache/gigstack/pulumi}"
WORK="${WORK:-$PULUMI_HOME_DIR/preview}"
# The language host buildable here (sdk v3.79.0, see build-pulumi-cli.sh) predates `toolchain: uv` and runs
# `python -m pip list` to find plugins; the uv workspace venv has no pip. A throwaway venv with pip that sees
# the workspace's site-packages through a .pth file stands in (nothing is installed into the workspace).
SHIM_VENV="$WORK/venv"
export PATH="$SHIM_VENV/bin:$PULUMI_HOME_DIR/bin:$PATH"
export PULUMI_HOME="$WORK/home"                 # plugins and credentials stay out of ~/.pulumi
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-preview-only}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
mkdir -p "$WORK/state" "$WORK/rendered" "$WORK/logs" "$PULUMI_HOME"
if [[ ! -x "$SHIM_VENV/bin/python" ]]; then
  python3 -m venv "$SHIM_VENV"
  site="$("$SHIM_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  "$REPO_ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' >"$site/gigstack-workspace.pth"
  echo "$REPO_ROOT/platform/src" >>"$site/gigstack-workspace.pth"
fi

# The committed stack file plus the render directory (the committed file stays untouched).
CONFIG_FILE="$WORK/Pulumi.minikube.yaml"
python3 - "$REPO_ROOT/environments/minikube/Pulumi.minikube.yaml" "$CONFIG_FILE" "$WORK/rendered" <<'PY'
import sys, yaml
source, target, rendered = sys.argv[1:]
data = yaml.safe_load(open(source))
data["config"]["gigstack:minikube"]["renderYamlToDirectory"] = rendered
yaml.safe_dump(data, open(target, "w"), sort_keys=False)
PY

step() {
  local name="$1"; shift
  echo "== $name: $*"
  ( cd "$REPO_ROOT" && timeout "${STEP_TIMEOUT:-300}" "$@" ) >"$WORK/logs/$name.log" 2>&1
  local rc=$?
  echo "   exit $rc (log: $WORK/logs/$name.log)"
  tail -n 15 "$WORK/logs/$name.log" | sed 's/^/   | /'
  return $rc
}

step version pulumi version
step login pulumi login "file://$WORK/state"
step stack-init pulumi stack init minikube --non-interactive || step stack-select pulumi stack select minikube
step plugins pulumi plugin ls
step preview pulumi preview --stack minikube --config-file "$CONFIG_FILE" --non-interactive --diff
echo "rendered files: $(find "$WORK/rendered" -type f | wc -l)"
