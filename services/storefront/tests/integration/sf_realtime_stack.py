"""A real gateway process (Redis-backed Socket.IO, pushes from RabbitMQ) for the storefront's realtime tests,
and a way to serve an ASGI app on loopback (uniquely named: sys.path is shared by every suite in a run)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
import uvicorn
from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.adapters.redis_sessions import RedisSessionStore
from gateway_service.service_layer.sessions import SessionService
from gigstack_testinfra.net import LOOPBACK, free_port
from redis.asyncio import Redis

ACCESS_SECRET = "storefront-proxy-access-token-key-0123456789abcdef"


def gateway_env(redis_url: str, amqp_url: str, internal_keypair: tuple[str, str]) -> dict[str, str]:
    private_pem, public_pem = internal_keypair
    return {
        "REDIS_URL": redis_url,
        "AMQP_URL": amqp_url,
        "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
        "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
        "ACCESS_TOKEN_SECRET": ACCESS_SECRET,
        "REALTIME_HEARTBEAT_SECONDS": "0.3",
        "SESSION_LIVENESS_CACHE_SECONDS": "0",
        "SHUTDOWN_GRACE_SECONDS": "1",
    }


def gateway_sessions(redis: Redis) -> SessionService:
    """Sessions written straight into the gateway's Redis, as auth's sign-in would have them made."""
    return SessionService(
        RedisSessionStore(redis),
        Hs256AccessTokenCodec(ACCESS_SECRET, ttl_seconds=900),
        refresh_ttl_seconds=3600,
        session_lifetime_seconds=86400,
        refresh_reuse_grace_seconds=5,
    )


class GatewayProcess:
    """`python -m gateway_service` on a fixed loopback port: killed and started again on the same address."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = {**os.environ, **env, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING", "PORT": str(port)}
        self.url = f"http://{LOOPBACK}:{port}"
        self.popen: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        # Popen returns at once (fork/exec); the wait for readiness below is the async part.
        self.popen = subprocess.Popen([sys.executable, "-m", "gateway_service"], env=self.env)  # noqa: ASYNC220
        await wait_ready(self.url, self.popen)

    def kill(self) -> None:
        """SIGKILL: its sockets drop without a goodbye, as in a crash."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=15)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()


@asynccontextmanager
async def running_gateway(env: dict[str, str]) -> AsyncIterator[GatewayProcess]:
    gateway = GatewayProcess(env, free_port())
    try:
        await gateway.start()
        yield gateway
    finally:
        gateway.stop()


async def wait_ready(url: str, popen: subprocess.Popen[bytes], timeout: float = 120.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            assert popen.poll() is None, f"gateway exited with {popen.returncode}"
            try:
                if (await client.get(f"{url}/health/ready", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the gateway never became ready")


@asynccontextmanager
async def serve(app: Any, lifespan: Literal["on", "off"] = "off") -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app, host=LOOPBACK, port=port, log_config=None, lifespan=lifespan, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(15):
            while not server.started:
                assert not task.done(), "uvicorn stopped before starting"
                await asyncio.sleep(0.02)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
