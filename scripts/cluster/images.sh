#!/usr/bin/env bash
# Build every service image from its own Dockerfile on this machine, with the locally made bases
# (scripts/cluster/base-image.sh) passed as the Dockerfiles' base-image build arguments.
#   images.sh [TAG]     builds gigstack/<service>:TAG (default: dev) for each services/*/Dockerfile
# Uses the private dockerd of scripts/cluster/docker.sh (started here when not running; left running).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TAG="${1:-dev}"
DOCKER=/usr/bin/docker
"$REPO_ROOT/scripts/cluster/docker.sh" start
eval "$("$REPO_ROOT/scripts/cluster/docker.sh" env)"
read -r python_image uv_image < <("$REPO_ROOT/scripts/cluster/base-image.sh")

for dockerfile in "$REPO_ROOT"/services/*/Dockerfile; do
    service="$(basename "$(dirname "$dockerfile")")"
    start=$(date +%s)
    # The context goes as a tar made by docker_context.py (.dockerignore applied as current Docker does; this
    # client's matcher drops services/*/pyproject.toml), with the Dockerfile minus its `# syntax=` line.
    (cd "$REPO_ROOT" && uv run --frozen python -m scripts.cluster.docker_context "$dockerfile") \
        | "$DOCKER" build --quiet --network=host \
            --build-arg "PYTHON_IMAGE=${python_image%:*}" --build-arg "PYTHON_TAG=${python_image##*:}" \
            --build-arg "UV_IMAGE=${uv_image%:*}" --build-arg "UV_TAG=${uv_image##*:}" \
            -t "gigstack/$service:$TAG" - >/dev/null
    echo "  gigstack/$service:$TAG built in $(( $(date +%s) - start ))s"
done
