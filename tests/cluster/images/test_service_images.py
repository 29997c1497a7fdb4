"""Every service image, built for real from its Dockerfile (scripts/cluster/images.sh), runs as the non-root
UID with a read-only root filesystem, the way the manifests run it (runAsNonRoot, readOnlyRootFilesystem).

Run by `make test-images` (it needs the private dockerd of scripts/cluster/docker.sh and a few minutes cold).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gigstack_testinfra.net import LOOPBACK, free_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCKER = "/usr/bin/docker"
SOCKET = os.environ.get("GIGSTACK_DOCKER_RUN", "/run/gigstack-docker") + "/docker.sock"
TAG = "dev"
SERVICE_UID = "10001"
SERVICES = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/Dockerfile"))
BUILD_TIMEOUT_SECONDS = 1500


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKER, *args],
        env={**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


@pytest.fixture(scope="module")
def built_images() -> list[str]:
    started = time.monotonic()
    subprocess.run(
        [str(REPO_ROOT / "scripts" / "cluster" / "images.sh"), TAG],
        check=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    print(f"images built in {time.monotonic() - started:.0f}s")
    return [f"gigstack/{service}:{TAG}" for service in SERVICES]


@pytest.mark.parametrize("service", SERVICES)
def test_image_declares_the_numeric_non_root_user(built_images: list[str], service: str) -> None:
    config = json.loads(docker("image", "inspect", f"gigstack/{service}:{TAG}").stdout)[0]["Config"]
    assert config["User"] == f"{SERVICE_UID}:{SERVICE_UID}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_package_loads_as_non_root_on_a_read_only_root(built_images: list[str], service: str) -> None:
    probe = (
        f"import os, {service}_service.settings\n"
        f"assert os.getuid() == {SERVICE_UID}, os.getuid()\n"
        "try:\n"
        "    open('/app/probe', 'w')\n"
        "except OSError as error:\n"
        "    print('read-only:', error.errno)\n"
        "else:\n"
        "    raise SystemExit('the root filesystem is writable')\n"
    )
    result = docker(
        "run", "--rm", "--read-only", "--network=none", "--cap-drop=ALL", "--security-opt=no-new-privileges",
        "--entrypoint", "python", f"gigstack/{service}:{TAG}", "-c", probe,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "read-only: 30" in result.stdout  # EROFS


@pytest.mark.parametrize("service", SERVICES)
def test_workspace_sources_ship_compiled(built_images: list[str], service: str) -> None:
    """servicekit's and the service's own modules have valid bytecode in the image (issue 14, startup).

    uv compiles site-packages only and both are installed editable; on the read-only root a missing or stale
    .pyc would be compiled again at every container start. `find_spec` + the cache check is what the import
    system itself does (checked-hash: the source hash must match).
    """
    probe = (
        "import importlib.util, pathlib, sys\n"
        "roots = ['/app/libs/servicekit/src', '/app/services/" + service + "/src']\n"
        "missing = []\n"
        "for root in roots:\n"
        "    for source in pathlib.Path(root).rglob('*.py'):\n"
        "        cached = pathlib.Path(importlib.util.cache_from_source(str(source)))\n"
        "        data = cached.read_bytes() if cached.exists() else b''\n"
        "        flags = int.from_bytes(data[4:8], 'little') if data else 0\n"
        "        valid = flags & 1 and data[8:16] == importlib.util.source_hash(source.read_bytes())\n"
        "        if not valid:\n"
        "            missing.append(str(source))\n"
        "print(len(missing), missing[:5])\n"
        "sys.exit(1 if missing else 0)\n"
    )
    result = docker(
        "run", "--rm", "--read-only", "--network=none", "--entrypoint", "python", f"gigstack/{service}:{TAG}",
        "-c", probe,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def gateway_container(
    built_images: list[str], redis_url: str, internal_keypair: tuple[str, str]
) -> Iterator[tuple[int, str]]:
    """The gateway image's own entrypoint, read-only and non-root, on the host's loopback (host network)."""
    private_pem, public_pem = internal_keypair
    port = free_port()
    name = f"gigstack-gateway-test-{port}"
    docker(
        "run", "--detach", f"--name={name}", "--read-only", "--network=host", "--cap-drop=ALL",
        "--security-opt=no-new-privileges", "--tmpfs=/tmp",
        "-e", f"HOST={LOOPBACK}", "-e", f"PORT={port}", "-e", f"REDIS_URL={redis_url}",
        "-e", "ACCESS_TOKEN_SECRET=image-test-access-token-key-0123456789abcdef",
        "-e", f"AUTH_SERVICE_URL=http://{LOOPBACK}:9", "-e", "CORS_ORIGINS=http://app.gigstack.test",
        "-e", f"INTERNAL_TOKEN_PRIVATE_KEY={private_pem}", "-e", f"INTERNAL_TOKEN_PUBLIC_KEY={public_pem}",
        f"gigstack/gateway:{TAG}",
    )  # fmt: skip
    try:
        yield port, name
    finally:
        docker("rm", "--force", name, check=False)


def _live(port: int) -> bool:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/health/live", timeout=2) as response:
        return bool(response.status == 200)


def test_gateway_image_serves_its_liveness_probe(gateway_container: tuple[int, str]) -> None:
    port, name = gateway_container
    try:
        wait_until(lambda: _live(port), timeout=60, what="gateway container /health/live")
    except TimeoutError:
        logs = docker("logs", name, check=False)
        pytest.fail(f"the gateway image never answered /health/live:\n{(logs.stdout + logs.stderr)[-3000:]}")
