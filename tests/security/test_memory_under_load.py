"""The real auth process stays under its pod memory limit while 50 requests (25 sign-ups, 25 sign-ins) hash
at once.

Each argon2id hash holds 64 MiB for its duration; every one of these requests is reachable without an
account. RSS is read from /proc/<pid>/status every 20 ms while the burst runs.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceProcess
from servicekit.security import InternalTokenIssuer
from stack import migrate_auth

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# gitops/base/services/auth/deployment.yaml: resources.limits.memory
POD_MEMORY_LIMIT_MIB = 320
CONCURRENT_SIGNUPS = 25
CONCURRENT_SIGNINS = 25


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


async def _sample_peak(pid: int, stop: asyncio.Event) -> float:
    peak = 0.0
    while not stop.is_set():
        peak = max(peak, _rss_mib(pid))
        await asyncio.sleep(0.02)
    return peak


async def test_concurrent_hashing_stays_under_the_pod_memory_limit(
    mariadb_url: str, amqp_url: str, internal_keypair: tuple[str, str], tmp_path: Path
) -> None:
    private_pem, public_pem = internal_keypair
    await migrate_auth(mariadb_url)
    port = free_port()
    env = {
        "ENVIRONMENT": "test",
        "HOST": LOOPBACK,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": mariadb_url,
        "AMQP_URL": amqp_url,
        "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
    }
    auth = ServiceProcess("auth", [sys.executable, "-m", "auth_service"], env, port, tmp_path / "auth.log")
    issuer = InternalTokenIssuer(private_pem)
    auth.start()
    try:
        await auth.wait_ready(timeout=90)
        assert auth.pid is not None
        baseline = _rss_mib(auth.pid)

        async with httpx.AsyncClient(base_url=auth.base_url, timeout=120, trust_env=False) as client:

            async def call(path: str, body: dict[str, str]) -> int:
                headers = {"Authorization": f"Bearer {issuer.issue('auth')}", "X-Device-Id": "load-device"}
                return (await client.post(f"/api/v1/auth/{path}", json=body, headers=headers)).status_code

            suffixes = [uuid.uuid4().hex[:10] for _ in range(CONCURRENT_SIGNUPS)]
            signups = [
                call(
                    "signup", {"username": f"load{s}", "email": f"load{s}@example.com", "password": "x" * 12}
                )
                for s in suffixes
            ]
            signins = [
                call("signin", {"email_or_username": f"nobody{index}", "password": "y" * 12})
                for index in range(CONCURRENT_SIGNINS)
            ]
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample_peak(auth.pid, stop))
            started = time.monotonic()
            statuses = await asyncio.gather(*signups, *signins)
            elapsed = time.monotonic() - started
            stop.set()
            peak = await sampler
    finally:
        await asyncio.to_thread(auth.terminate, 15.0)

    print(f"auth RSS: baseline {baseline:.0f} MiB, peak {peak:.0f} MiB over {elapsed:.1f} s")
    assert statuses.count(202) == CONCURRENT_SIGNUPS
    assert statuses.count(401) == CONCURRENT_SIGNINS
    assert peak < POD_MEMORY_LIMIT_MIB, f"peak RSS {peak:.0f} MiB (baseline {baseline:.0f} MiB)"
