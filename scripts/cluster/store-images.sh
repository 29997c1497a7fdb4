#!/usr/bin/env bash
# Build the store images of scripts/cluster/store-images/ (local/<store>:<tag>) from the locally made base with
# Debian's packages, and print the GIGSTACK_TEST_IMAGES value that selects them for the testcontainers backend.
# Uses the private dockerd of scripts/cluster/docker.sh (started here when not running; left running).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER=/usr/bin/docker
HERE="$REPO_ROOT/scripts/cluster/store-images"
"$REPO_ROOT/scripts/cluster/docker.sh" start
eval "$("$REPO_ROOT/scripts/cluster/docker.sh" env)"
read -r python_image _ < <("$REPO_ROOT/scripts/cluster/base-image.sh")

# store   image                          Debian packages
STORES=(
    "postgres local/postgres:15 postgresql-15"
    "mariadb  local/mariadb:10.11 mariadb-server"
    "redis    local/redis:7 redis-server"
    "rabbitmq local/rabbitmq:3.10-management rabbitmq-server"
)
selection=()
for entry in "${STORES[@]}"; do
    read -r store image packages <<<"$entry"
    if ! "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
        "$DOCKER" build --quiet --network=host \
            --build-arg "BASE_IMAGE=${python_image%:*}" --build-arg "BASE_TAG=${python_image##*:}" \
            --build-arg "PACKAGES=$packages" -t "$image" "$HERE/$store" >/dev/null
    fi
    selection+=("$store=$image")
done
(IFS=,; echo "${selection[*]}")
