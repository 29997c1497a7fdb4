"""The realtime suites' stack: the chat process and two gateway processes on real Redis, RabbitMQ and
FerretDB, with real python-socketio clients (test_realtime_e2e.py, test_realtime_faults.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio
from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.adapters.redis_sessions import RedisSessionStore
from gateway_service.adapters.socketio_redis import reconnecting
from gateway_service.service_layer.sessions import SessionService
from gigstack_testinfra.net import LOOPBACK, free_port
from redis.asyncio import Redis
from servicekit.events import EventBus, EventEnvelope
from servicekit.security import InternalTokenIssuer

ACCESS_SECRET = "realtime-e2e-access-token-key-0123456789abcdef"
SOCKETIO_PATH = "/api/v1/gateway/socket.io"
PUSHED_EVENTS = ("message.created", "message.updated", "offer.updated", "presence.changed", "realtime.resync")


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    module: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing in flight is finished or acked."""
        self.popen.kill()
        self.popen.wait(timeout=10)

    async def respawn(self) -> None:
        """The same module, environment and port again (the gateway keeps its CHAT_SERVICE_URL)."""
        self.popen = _spawn(self.module, self.env, self.port)
        await _wait_live(self.url, self.popen)


def _process(name: str, module: str, env: dict[str, str]) -> Process:
    port = free_port()
    return Process(name, port, _spawn(module, env, port), module, env)


def _spawn(module: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    full = {**os.environ, **env, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING", "PORT": str(port)}
    return subprocess.Popen([sys.executable, "-m", module], env=full)


async def _wait_live(url: str, popen: subprocess.Popen[bytes], timeout: float = 180.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                raise AssertionError(f"{url} exited with {popen.returncode}")
            try:
                if (await client.get(f"{url}/health/ready", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never became ready")


@contextmanager
def _stopped_at_exit(processes: list[Process]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in processes:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()


@dataclass
class Stack:
    gateways: list[Process]
    chat: Process
    sessions: SessionService
    bus: EventBus
    redis: Redis
    env: dict[str, str]
    internal_private_pem: str = ""
    extra: list[Process] = field(default_factory=list)

    async def user(self, name: str) -> tuple[str, str, str]:
        """A registered user (directory replica fed by the account event) and a live session's token."""
        user_id = str(uuid.uuid4())
        payload = {"user_id": user_id, "username": name, "email": f"{name}@example.test", "country": "NO"}
        await self.bus.publish(
            EventEnvelope.new(type="auth.account.created.v1", producer="auth", payload=payload)
        )
        tokens = await self.sessions.start(user_id=user_id, device_id=None)
        return user_id, tokens.access_token, tokens.session_id

    async def wait_known(self, token: str, username: str) -> None:
        async with httpx.AsyncClient(base_url=self.gateways[0].url) as client:
            for _ in range(100):
                response = await client.get(
                    f"/api/v1/gateway/chat/conversations/with/{username}", headers=auth(token)
                )
                if response.status_code == 200:
                    return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{username} never reached chat's directory")

    def chat_client(self, user_id: str) -> httpx.AsyncClient:
        """Straight to the chat process as `user_id` (an internal token as the gateway mints it): sends that
        do not need the gateway, e.g. while its Redis is down."""
        token = InternalTokenIssuer(self.internal_private_pem).issue(
            "chat", subject=user_id, extra={"email_verified": True}
        )
        return httpx.AsyncClient(base_url=self.chat.url, headers=auth(token), timeout=10)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def realtime_stack(
    redis_url: str,
    amqp_url: str,
    mongodb_url: str,
    internal_keypair: tuple[str, str],
    *,
    chat_env: dict[str, str] | None = None,
) -> AsyncIterator[Stack]:
    private_pem, public_pem = internal_keypair
    chat = _process(
        "chat",
        "chat_service",
        {
            "MONGODB_URL": mongodb_url,
            "AMQP_URL": amqp_url,
            "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
            "UNREAD_SWEEP_INTERVAL_SECONDS": "3600",
            # No file messages in these suites: the object store is named but never called.
            "OBJECT_STORE_BUCKET": "realtime-tests-unused",
            "OBJECT_STORE_ENDPOINT": "http://127.0.0.1:9",
            **(chat_env or {}),
        },
    )
    env = {
        "REDIS_URL": redis_url,
        "AMQP_URL": amqp_url,
        "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
        "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
        "ACCESS_TOKEN_SECRET": ACCESS_SECRET,
        "CHAT_SERVICE_URL": chat.url,
        "REALTIME_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "3",
        "RATE_LIMIT_PER_IP_PER_MINUTE": "100000",
        "RATE_LIMIT_PER_ACCOUNT_PER_MINUTE": "100000",
    }
    gateways = [_process(f"gateway-{index}", "gateway_service", env) for index in range(2)]
    processes = [chat, *gateways]
    redis = Redis.from_url(redis_url, **reconnecting())  # survives the Redis restart test
    sessions = SessionService(
        RedisSessionStore(redis),
        Hs256AccessTokenCodec(ACCESS_SECRET, ttl_seconds=900),
        refresh_ttl_seconds=3600,
        session_lifetime_seconds=86400,
        refresh_reuse_grace_seconds=5,
    )
    bus = EventBus(amqp_url, service_name="tests-auth")
    with _stopped_at_exit(processes):
        for process in processes:
            await _wait_live(process.url, process.popen)
        await bus.connect()
        try:
            yield Stack(
                gateways=gateways,
                chat=chat,
                sessions=sessions,
                bus=bus,
                redis=redis,
                env=env,
                internal_private_pem=private_pem,
            )
        finally:
            await bus.close()
            await redis.aclose()


@dataclass
class Listener:
    client: socketio.AsyncClient
    events: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [data for event, data, _ in self.events if event == name]

    async def wait_for(
        self, name: str, predicate: Any = None, within: float = 5.0
    ) -> tuple[dict[str, Any], float]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event, data, at in self.events:
                if event == name and (predicate is None or predicate(data)):
                    return data, at
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {name} within {within}s; got {[e for e, _, _ in self.events]}")


@asynccontextmanager
async def connected(url: str, token: str | None) -> AsyncIterator[Listener]:
    client = socketio.AsyncClient(reconnection=False)
    listener = Listener(client)
    for name in PUSHED_EVENTS:

        async def record(data: dict[str, Any], name: str = name) -> None:
            listener.events.append((name, data, time.monotonic()))

        client.on(name, record)
    await client.connect(
        url, socketio_path=SOCKETIO_PATH, transports=["websocket"], auth={"token": token} if token else None
    )
    try:
        yield listener
    finally:
        if client.connected:
            await client.disconnect()
