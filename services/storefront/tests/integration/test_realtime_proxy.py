"""The realtime websocket proxy against a REAL gateway process (Redis-backed Socket.IO, events from RabbitMQ).

The storefront is the real app (create_app) served by uvicorn, with its sessions in Redis. A python-socketio
AsyncClient plays the browser: it connects to the storefront's `/realtime/socket.io/` with only the
`sf_session` cookie; the proxy opens the gateway's socket with that session's bearer token. A chat event
published on the bus reaches the client through both hops; an acked client->server call (`presence.watch`)
proves frames flow the other way; the gateway dropping a revoked session's socket closes the browser's; the
browser leaving closes the upstream socket. Connections without a valid session are refused, and so is one
from another site's page (Origin).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from gateway_service.service_layer.sessions import SessionService
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.plugin import RedisWithServiceUsers
from redis.asyncio import Redis
from servicekit.events import EventBus, EventEnvelope
from starlette.applications import Starlette
from starlette.websockets import WebSocket
from storefront_service.entrypoints.app import create_app
from storefront_service.realtime import ProxySettings, RealtimeProxy, realtime_route
from storefront_service.sessions import SessionStore, SignedInUser
from storefront_service.settings import StorefrontSettings

# --import-mode=importlib: the shared gateway helpers live beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sf_realtime_stack import gateway_env, gateway_sessions, running_gateway, serve

pytestmark = pytest.mark.integration

PROXY_PATH = "/realtime/socket.io"


@asynccontextmanager
async def _bare_proxy(gateway_url: str, tokens: dict[str, str]) -> AsyncIterator[tuple[str, RealtimeProxy]]:
    """The proxy alone on a bare app, `tokens` mapping a cookie to a token (for the unreachable gateway)."""

    async def token_source(websocket: WebSocket) -> str | None:
        return tokens.get(websocket.cookies.get("sf_session", ""))

    proxy = RealtimeProxy(ProxySettings(gateway_url=gateway_url, connect_timeout_seconds=2.0), token_source)
    async with serve(Starlette(routes=[realtime_route(proxy)])) as url:
        yield url, proxy


@dataclass
class Stack:
    gateway_url: str
    storefront_url: str
    storefront: Any  # the FastAPI app
    sessions: SessionService
    storefront_sessions: SessionStore
    bus: EventBus

    @property
    def proxy(self) -> RealtimeProxy:
        proxy: RealtimeProxy = self.storefront.state.realtime_proxy
        return proxy

    async def signed_in(self, name: str) -> tuple[str, str, dict[str, str]]:
        """A user with a live gateway session held by a storefront session: (user id, gateway session id,
        the browser's Cookie header)."""
        user_id = str(uuid.uuid4())
        tokens = await self.sessions.start(user_id=user_id, device_id=None)
        session = self.storefront_sessions.new()
        session.user = SignedInUser(
            id=user_id, username=name, email=f"{name}@example.test", email_verified=True
        )
        session.set_tokens(tokens.access_token, tokens.refresh_token, 900)
        await self.storefront_sessions.save(session)
        return user_id, tokens.session_id, {"Cookie": f"sf_session={session.id}"}


@pytest.fixture
async def stack(
    redis_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    redis_with_service_users: RedisWithServiceUsers,
) -> AsyncIterator[Stack]:
    redis = Redis.from_url(redis_url)
    sessions = gateway_sessions(redis)
    bus = EventBus(amqp_url, service_name="tests-chat")
    async with running_gateway(gateway_env(redis_url, amqp_url, internal_keypair)) as gateway:
        gateway_url = gateway.url
        await bus.connect()
        app = create_app(
            StorefrontSettings(
                environment="test",
                redis_url=redis_with_service_users.url("storefront"),
                gateway_url=gateway_url,
                log_level="WARNING",
            )
        )
        try:
            async with serve(app, lifespan="on") as storefront_url:
                yield Stack(
                    gateway_url=gateway_url,
                    storefront_url=storefront_url,
                    storefront=app,
                    sessions=sessions,
                    storefront_sessions=app.state.deps.sessions,
                    bus=bus,
                )
        finally:
            await bus.close()
            await redis.aclose()


@dataclass
class Browser:
    client: socketio.AsyncClient
    events: list[tuple[str, Any]] = field(default_factory=list)

    async def wait_for(self, name: str, within: float = 5.0) -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event, data in self.events:
                if event == name:
                    return data
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {name} within {within}s; got {self.events}")


@asynccontextmanager
async def browser(url: str, headers: dict[str, str]) -> AsyncIterator[Browser]:
    client = socketio.AsyncClient(reconnection=False)
    seen = Browser(client)
    for name in ("message.created", "presence.changed"):

        async def record(data: Any, name: str = name) -> None:
            seen.events.append((name, data))

        client.on(name, record)
    try:
        await client.connect(
            url, socketio_path=PROXY_PATH, transports=["websocket"], headers=headers, wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        await client.shutdown()  # closes the HTTP session a refused client keeps
        raise
    try:
        yield seen
    finally:
        if client.connected:
            await client.disconnect()


async def _eventually(predicate: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def test_the_proxy_between_a_browser_and_a_real_gateway(stack: Stack) -> None:
    """One test, one gateway process: starting the gateway is most of the time (~25 s on 2 shared cores)."""
    await _frames_flow_both_ways_and_either_sides_close_closes_the_other(stack)
    await _connections_without_a_valid_session_are_refused(stack)


async def _frames_flow_both_ways_and_either_sides_close_closes_the_other(stack: Stack) -> None:
    alice, alice_session, alice_cookie = await stack.signed_in("alice")
    bob, _, bob_cookie = await stack.signed_in("bob")
    url = stack.storefront_url
    async with browser(url, alice_cookie) as a, browser(url, bob_cookie) as b:
        assert stack.proxy.open_connections == 2
        async with httpx.AsyncClient(trust_env=False) as http:
            metrics = (await http.get(f"{stack.storefront_url}/metrics", timeout=5)).text
        assert "storefront_realtime_connections 2.0" in metrics
        # Browser -> gateway with an ack back: alice asks about bob, who is online through the proxy too.
        assert await a.client.call("presence.watch", [bob], timeout=5) == {bob: True}

        # Gateway -> browser: a chat event on the bus becomes a push to bob's room only.
        message = {"id": "m-1", "conversation_id": "c-1", "sender_id": alice, "text": "hi bob", "seq": 1}
        await stack.bus.publish(
            EventEnvelope.new(
                type="chat.message.created.v1",
                producer="chat",
                payload={"participants": [bob], "message": message},
            )
        )
        pushed = await b.wait_for("message.created")
        assert pushed["text"] == "hi bob"
        assert [e for e, _ in a.events if e == "message.created"] == []

        # The browser leaves: the proxy closes its upstream socket, so the gateway sees bob go offline.
        await b.client.disconnect()
        offline = await a.wait_for("presence.changed")
        assert offline == {"user_id": bob, "online": False}
        await _eventually(lambda: stack.proxy.open_connections == 1)

        # The gateway closes (alice's session revoked): the proxy closes alice's browser socket.
        await stack.sessions.end(alice_session)
        await _eventually(lambda: not a.client.connected)
        await _eventually(lambda: stack.proxy.open_connections == 0)


async def _connections_without_a_valid_session_are_refused(stack: Stack) -> None:
    _, revoked_session, revoked_cookie = await stack.signed_in("revoked")
    await stack.sessions.end(revoked_session)
    _, _, live_cookie = await stack.signed_in("live")
    anonymous = stack.storefront_sessions.new()
    await stack.storefront_sessions.save(anonymous)  # a real session, but nobody signed in
    refused: dict[str, bool] = {}
    cases = {
        "no cookie": {},
        "unknown cookie": {"Cookie": "sf_session=" + "x" * 43},
        "anonymous session": {"Cookie": f"sf_session={anonymous.id}"},
        "revoked session": revoked_cookie,
        "foreign origin": {**live_cookie, "Origin": "https://evil.example"},
    }
    for case, headers in cases.items():
        try:
            async with browser(stack.storefront_url, headers):
                refused[case] = False
        except socketio.exceptions.ConnectionError:
            refused[case] = True
    assert refused == dict.fromkeys(cases, True)

    # The same live session connects, from the storefront's own origin too.
    origin = {"Origin": stack.storefront_url}
    async with browser(stack.storefront_url, {**live_cookie, **origin}) as live:
        assert live.client.connected

    # A gateway that is not there: refused within the connect timeout, not left hanging.
    tokens = {"cookie-live": "any-token"}
    async with _bare_proxy(f"http://{LOOPBACK}:{free_port()}", tokens) as (dead_url, dead_proxy):
        started = time.monotonic()
        with pytest.raises(socketio.exceptions.ConnectionError):
            async with browser(dead_url, {"Cookie": "sf_session=cookie-live"}):
                pass
        assert time.monotonic() - started < 5
        assert dead_proxy.open_connections == 0
