#!/usr/bin/env bash
# A private dockerd for image builds and test containers (Debian docker.io), touching nothing of the host's
# network configuration: no iptables chains, no ip_forward change, no docker0. Containers sit on a dedicated
# bridge (gsdock0, 10.213.1.0/24) that has no route anywhere; a published port is bound to 127.0.0.1 and
# relayed by docker-proxy. Builds use the host network namespace (`docker build --network=host`) to reach the
# package registries. Images persist in the cache's data root.
#   docker.sh start | stop | env      (`eval "$(scripts/cluster/docker.sh env)"` points a shell's docker at it)
set -euo pipefail

CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
RUN_DIR="${GIGSTACK_DOCKER_RUN:-/run/gigstack-docker}"
DATA_ROOT="$CACHE/docker"
SOCKET="$RUN_DIR/docker.sock"
BRIDGE=gsdock0
BRIDGE_ADDRESS=10.213.1.1/24
PIDFILE="$RUN_DIR/dockerd.pid"
LOG="$CACHE/dockerd.log"
# Debian's 20.10 client: it drives the daemon's BuildKit without the buildx plugin.
DOCKER=/usr/bin/docker

running() {
    [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
    running && return 0
    command -v dockerd >/dev/null || { echo "dockerd missing: scripts/install/images.sh installs docker.io" >&2; exit 1; }
    mkdir -p "$RUN_DIR" "$DATA_ROOT"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$BRIDGE_ADDRESS" dev "$BRIDGE"
        ip link set "$BRIDGE" up
    fi
    dockerd \
        --host "unix://$SOCKET" \
        --data-root "$DATA_ROOT" \
        --exec-root "$RUN_DIR/exec" \
        --pidfile "$PIDFILE" \
        --bridge="$BRIDGE" --ip=127.0.0.1 \
        --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
        --userland-proxy=true \
        --storage-driver=overlay2 \
        >>"$LOG" 2>&1 &
    local waited=0
    until DOCKER_HOST="unix://$SOCKET" "$DOCKER" version >/dev/null 2>&1; do
        sleep 0.5
        waited=$((waited + 1))
        if [[ $waited -gt 120 ]]; then
            echo "dockerd did not start; see $LOG" >&2
            exit 1
        fi
    done
}

stop() {
    if running; then
        local pid
        pid="$(cat "$PIDFILE")"
        kill "$pid"
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [[ $waited -lt 60 ]]; do
            sleep 0.5
            waited=$((waited + 1))
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    # Whatever the daemon left mounted (overlay layers, netns, its containerd's state) under our own paths only.
    local mount
    for mount in $(awk -v a="$RUN_DIR" -v b="$DATA_ROOT" '$2 ~ "^"a || $2 ~ "^"b {print $2}' /proc/mounts | sort -r); do
        umount -l "$mount" 2>/dev/null || true
    done
    rm -rf "$RUN_DIR"
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link delete "$BRIDGE"
    fi
    # Directories dockerd and its containerd create at fixed paths whatever the flags; removed only when empty,
    # so nothing another daemon still uses goes away.
    rmdir /run/docker/plugins /run/docker /run/containerd/s /run/containerd 2>/dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) echo "export DOCKER_HOST=unix://$SOCKET DOCKER_BUILDKIT=1; alias docker=$DOCKER" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
