"""Realtime end to end with real processes: two gateway processes (no sticky routing: each client is pinned
to one process by its URL, as a non-sticky balancer would do per WebSocket), the chat service process, real
Redis, RabbitMQ and FerretDB, and real python-socketio AsyncClients.

A and B are on different gateway processes, C is connected too: A's message to B over HTTP reaches B's
socket as `message.created` within a second and never reaches C; an offer reaches the buyer; an accept
reaches both as `offer.updated`; a second accept is 409. A third user is refused everything; a handshake
without a valid token is refused; a revoked session's socket is dropped; a SIGKILLed gateway's users
reconnect to the other process and fetch what they missed from their last seen message number.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import socketio
from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.adapters.redis_sessions import RedisSessionStore
from gateway_service.service_layer.sessions import SessionService
from gigstack_testinfra.net import LOOPBACK, free_port
from redis.asyncio import Redis
from servicekit.events import EventBus, EventEnvelope

pytestmark = pytest.mark.integration

ACCESS_SECRET = "realtime-e2e-access-token-key-0123456789abcdef"
SOCKETIO_PATH = "/api/v1/gateway/socket.io"


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


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


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def stack(
    redis_url: str, amqp_url: str, mongodb_url: str, internal_keypair: tuple[str, str]
) -> AsyncIterator[Stack]:
    private_pem, public_pem = internal_keypair
    chat_port = free_port()
    chat = Process(
        "chat",
        chat_port,
        _spawn(
            "chat_service",
            {
                "MONGODB_URL": mongodb_url,
                "AMQP_URL": amqp_url,
                "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
                "UNREAD_SWEEP_INTERVAL_SECONDS": "3600",
            },
            chat_port,
        ),
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
    gateways = []
    for index in range(2):
        port = free_port()
        gateways.append(Process(f"gateway-{index}", port, _spawn("gateway_service", env, port)))
    processes = [chat, *gateways]
    redis = Redis.from_url(redis_url)
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
            yield Stack(gateways=gateways, chat=chat, sessions=sessions, bus=bus, redis=redis, env=env)
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
    for name in ("message.created", "message.updated", "offer.updated", "presence.changed"):

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


def _expires() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


async def test_pushes_reach_only_the_users_concerned_across_gateway_processes(stack: Stack) -> None:
    gw_a, gw_b = stack.gateways
    _alice, alice_token, _ = await stack.user("alice_rt")
    bob, bob_token, _ = await stack.user("bob_rt")
    _carol, carol_token, _ = await stack.user("carol_rt")
    await stack.wait_known(alice_token, "bob_rt")
    await stack.wait_known(alice_token, "carol_rt")
    await stack.wait_known(bob_token, "alice_rt")

    async with (
        connected(gw_a.url, alice_token) as a,
        connected(gw_b.url, bob_token) as b,
        connected(gw_a.url, carol_token) as c,
        httpx.AsyncClient(base_url=gw_a.url) as http_a,
        httpx.AsyncClient(base_url=gw_b.url) as http_b,
    ):
        sent_at = time.monotonic()
        response = await http_a.post(
            "/api/v1/gateway/chat/messages",
            json={"recipient_id": bob, "text": "hello B"},
            headers=auth(alice_token),
        )
        assert response.status_code == 201, response.text
        message = response.json()
        pushed, received_at = await b.wait_for("message.created", lambda d: d["id"] == message["id"])
        assert pushed["text"] == "hello B"
        assert received_at - sent_at < 1.0, f"delivered after {received_at - sent_at:.3f}s"
        await a.wait_for("message.created", lambda d: d["id"] == message["id"])

        # The seller (bob) sends an offer; the buyer (alice) gets it; she accepts; both see the update.
        offer_response = await http_b.post(
            "/api/v1/gateway/chat/messages",
            json={
                "conversation_id": message["conversation_id"],
                "kind": "offer",
                "offer": {
                    "gig_id": "gig-1",
                    "description": "Logo",
                    "price": 9900,
                    "delivery_days": 3,
                    "expires_at": _expires(),
                },
            },
            headers=auth(bob_token),
        )
        assert offer_response.status_code == 201, offer_response.text
        offer = offer_response.json()["offer"]
        await a.wait_for("message.created", lambda d: (d.get("offer") or {}).get("id") == offer["id"])
        url = f"/api/v1/gateway/chat/offers/{offer['id']}/response"
        accepted = await http_a.post(url, json={"action": "accept"}, headers=auth(alice_token))
        assert accepted.status_code == 200, accepted.text
        for side in (a, b):
            update, _ = await side.wait_for("offer.updated", lambda d: d["id"] == offer["id"])
            assert update["status"] == "accepted"
        again = await http_a.post(url, json={"action": "accept"}, headers=auth(alice_token))
        assert again.status_code == 409

        # Authorization matrix through the gateway: carol is refused everything.
        conversation = message["conversation_id"]
        refusals = {
            "read": await http_a.get(
                f"/api/v1/gateway/chat/conversations/{conversation}/messages", headers=auth(carol_token)
            ),
            "post": await http_a.post(
                "/api/v1/gateway/chat/messages",
                json={"conversation_id": conversation, "text": "hi"},
                headers=auth(carol_token),
            ),
            "mark read": await http_a.post(
                f"/api/v1/gateway/chat/conversations/{conversation}/read", json={}, headers=auth(carol_token)
            ),
            "accept": await http_a.post(url, json={"action": "accept"}, headers=auth(carol_token)),
            "no session": await http_a.get("/api/v1/gateway/chat/conversations"),
        }
        assert {k: r.status_code for k, r in refusals.items()} == {
            "read": 404,
            "post": 404,
            "mark read": 404,
            "accept": 404,
            "no session": 401,
        }
        await asyncio.sleep(0.5)
        assert c.events == [] or all(e == "presence.changed" for e, _, _ in c.events), c.events


@pytest.mark.parametrize("token", [None, "not-a-jwt", "revoked"])
async def test_a_handshake_without_a_valid_token_is_refused(stack: Stack, token: str | None) -> None:
    if token == "revoked":
        _, token, session_id = await stack.user("revoked_rt")
        await stack.sessions.end(session_id)
    with pytest.raises(socketio.exceptions.ConnectionError):
        async with connected(stack.gateways[0].url, token):
            pass


async def test_a_revoked_sessions_socket_is_disconnected(stack: Stack) -> None:
    _, token, session_id = await stack.user("dora_rt")
    async with connected(stack.gateways[1].url, token) as listener:
        assert listener.client.connected
        await stack.sessions.end(session_id)
        for _ in range(50):
            if not listener.client.connected:
                break
            await asyncio.sleep(0.1)
        assert not listener.client.connected


async def test_a_killed_gateways_users_reconnect_and_miss_nothing(stack: Stack) -> None:
    gw_a, gw_b = stack.gateways
    _alice, alice_token, _ = await stack.user("alice_kill")
    bob, bob_token, _ = await stack.user("bob_kill")
    await stack.wait_known(alice_token, "bob_kill")
    async with httpx.AsyncClient(base_url=gw_a.url) as http_a:
        async with connected(gw_b.url, bob_token) as b, connected(gw_a.url, alice_token) as watcher:
            first = await http_a.post(
                "/api/v1/gateway/chat/messages",
                json={"recipient_id": bob, "text": "m1"},
                headers=auth(alice_token),
            )
            conversation = first.json()["conversation_id"]
            await b.wait_for("message.created", lambda d: d["text"] == "m1")
            last_seen = max(d["seq"] for d in b.of("message.created"))
            await watcher.client.call("presence.watch", [bob])
            gw_b.popen.send_signal(signal.SIGKILL)  # bob's gateway dies without a goodbye
            gw_b.popen.wait(timeout=10)
            for n in (2, 3):
                sent = await http_a.post(
                    "/api/v1/gateway/chat/messages",
                    json={"conversation_id": conversation, "text": f"m{n}"},
                    headers=auth(alice_token),
                )
                assert sent.status_code == 201
            # Presence: the dead replica's socket stops heartbeating; the TTL takes bob offline.
            offline, _ = await watcher.wait_for(
                "presence.changed", lambda d: d["user_id"] == bob and not d["online"], within=10
            )
            assert offline["online"] is False
        async with connected(gw_a.url, bob_token) as again:
            assert again.client.connected
            missed = await http_a.get(
                f"/api/v1/gateway/chat/conversations/{conversation}/messages",
                params={"after": str(last_seen)},
                headers=auth(bob_token),
            )
            assert [m["text"] for m in missed.json()["items"]] == ["m2", "m3"]
            fourth = await http_a.post(
                "/api/v1/gateway/chat/messages",
                json={"conversation_id": conversation, "text": "m4"},
                headers=auth(alice_token),
            )
            assert fourth.status_code == 201
            await again.wait_for("message.created", lambda d: d["text"] == "m4")
