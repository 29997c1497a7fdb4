"""`python -m auth_service migrate`, then `python -m auth_service`, as real processes (as `make up` does)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra.net import free_port
from gigstack_testinfra.processes import ServiceProcess
from servicekit.security import InternalTokenIssuer

pytestmark = pytest.mark.integration


async def test_migrate_then_serve(
    mariadb_url: str, amqp_url: str, internal_keypair: tuple[str, str], tmp_path: Path
) -> None:
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": mariadb_url,
        "AMQP_URL": amqp_url,
        "INTERNAL_TOKEN_PUBLIC_KEY": internal_keypair[1],
    }
    migrated = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "auth_service", "migrate"],
        # Only the database URL: the PreSync hook must not need the broker or the token key.
        env={"DATABASE_URL": mariadb_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr.decode()

    port = free_port()
    service = ServiceProcess(
        "auth",
        [sys.executable, "-m", "auth_service"],
        env | {"PORT": str(port), "HOST": "127.0.0.1"},
        port,
        tmp_path / "auth.log",
    )
    service.start()
    try:
        await service.wait_ready(timeout=60)
        token = InternalTokenIssuer(internal_keypair[0]).issue("auth")
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            response = await client.post(
                "/api/v1/auth/signup",
                json={"username": "alice", "email": "alice@example.com", "password": "long enough"},
                headers={"Authorization": f"Bearer {token}", "X-Device-Id": "laptop-1"},
            )
        assert response.status_code == 202
    finally:
        exit_code = service.terminate(timeout=30)
    assert exit_code == 0, service.log_tail()
