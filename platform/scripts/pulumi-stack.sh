#!/usr/bin/env bash
# Run a pulumi command against a stack with its config file from environments/<stack>/ (Pulumi reads one
# stackConfigDir only; see docs/adr/0002-stack-config-location.md).
#   platform/scripts/pulumi-stack.sh minikube preview
#   platform/scripts/pulumi-stack.sh eks up --yes
#   platform/scripts/pulumi-stack.sh eks config set --secret smtpPassword
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stack="${1:?usage: $0 <minikube|eks> <pulumi command> [args...]}"
shift
config_file="$REPO_ROOT/environments/$stack/Pulumi.$stack.yaml"
[[ -f "$config_file" ]] || { echo "no stack config $config_file" >&2; exit 2; }
cd "$REPO_ROOT"
exec pulumi "$@" --stack "$stack" --config-file "$config_file"
