#!/usr/bin/env bash
# The base images of this machine's image builds, made without a registry (none is reachable here):
#   local/python:3.11-bookworm  Debian bookworm minbase (debootstrap) with Debian's python3 (3.11), laid out like the
#                               official python image where the Dockerfiles depend on it (/usr/local/bin/python3.11),
#                               trusting this host's CA bundle.
#   local/uv:<version>          the uv binary uv installed on this machine, in a scratch image (as ghcr.io/astral-sh/uv).
# Needs a running dockerd (scripts/cluster/docker.sh start). Idempotent: an existing image is kept.
# The root filesystem is cached in ${GIGSTACK_CACHE:-~/.cache/gigstack}/bookworm-rootfs.tar.
set -euo pipefail

CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
PYTHON_IMAGE="${PYTHON_IMAGE:-local/python:3.11-bookworm}"
UV_VERSION="$(uv --version | awk '{print $2}')"
UV_IMAGE="local/uv:$UV_VERSION"
ROOTFS_TAR="$CACHE/bookworm-rootfs.tar"
DOCKER="${DOCKER:-/usr/bin/docker}"

make_rootfs() {
    [[ -s $ROOTFS_TAR ]] && return 0
    local dir
    dir="$(mktemp -d "$CACHE/bookworm-rootfs.XXXXXX")"
    # ca-certificates: uv reaches PyPI over TLS during image builds; tzdata keeps zoneinfo working.
    # Its progress goes to stderr: this script's stdout is the image names its callers read (images.sh), and
    # debootstrap's "I: ..." lines there made a fresh machine's first build name its base image "I:".
    debootstrap --variant=minbase --include=python3,ca-certificates,tzdata bookworm "$dir" http://deb.debian.org/debian >&2
    ln -sf /usr/bin/python3.11 "$dir/usr/local/bin/python3.11"
    ln -sf /usr/bin/python3.11 "$dir/usr/local/bin/python3"
    ln -sf /usr/bin/python3.11 "$dir/usr/local/bin/python"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$dir"
}

image_exists() {
    "$DOCKER" image inspect "$1" >/dev/null 2>&1
}

import_python_image() {
    image_exists "$PYTHON_IMAGE" && return 0
    make_rootfs
    "$DOCKER" import "$ROOTFS_TAR" local/bookworm:rootfs >/dev/null
    # This machine reaches the package registries through a TLS-intercepting egress proxy: the image trusts what
    # the host trusts (its CA bundle), and uv is told to read that bundle instead of its built-in roots.
    local context
    context="$(mktemp -d)"
    cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
    cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM local/bookworm:rootfs
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
DOCKERFILE
    DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$PYTHON_IMAGE" "$context" >/dev/null
    rm -rf "$context"
}

build_uv_image() {
    image_exists "$UV_IMAGE" && return 0
    local context
    context="$(mktemp -d)"
    cp "$(command -v uv)" "$context/uv"
    printf 'FROM scratch\nCOPY uv /uv\nENTRYPOINT ["/uv"]\n' > "$context/Dockerfile"
    DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$UV_IMAGE" "$context" >/dev/null
    rm -rf "$context"
}

if [[ ${1:-} == rootfs ]]; then
    make_rootfs
    exit 0
fi
import_python_image
build_uv_image
echo "$PYTHON_IMAGE $UV_IMAGE"
