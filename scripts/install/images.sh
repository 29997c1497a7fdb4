#!/usr/bin/env bash
# Install what `make test-images` needs to build and run the service images without a registry, idempotently:
# Debian's docker.io (dockerd, its 20.10 client, containerd, runc) and debootstrap. Their services are never
# started by the install; scripts/cluster/docker.sh runs a private dockerd when asked.
set -euo pipefail

PACKAGES=(docker.io debootstrap)

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

policy=/usr/sbin/policy-rc.d
created_policy=0
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
