"""Realtime at the gateway: a Socket.IO server (python-socketio) with a Redis-backed manager.

- Handshake: the access token (`auth={"token": ...}` or `Authorization: Bearer ...`) is verified like any
  request's, session liveness included; no token, an expired one or a revoked session -> refused.
- Each socket joins its user's room. Events from the bus (`gateway.realtime`, one queue shared by the
  replicas) become pushes to the rooms of the users they name (domain/pushes.py); the Redis manager carries
  each emit to whichever replica holds that user's sockets, so no replica needs to know where anyone is.
- Presence with heartbeats and a TTL (adapters/presence.py); `presence.changed` goes to the sockets that
  asked to watch that user (`presence.watch`).
- Every heartbeat re-checks each local socket's session: a revoked session's sockets are disconnected.
- Transport: WebSocket only, so no sticky sessions are needed behind a load balancer (docs/adr/0019).
- Redis restarts: a push that cannot reach Redis is given back to the broker (pushed again later); a
  replica whose subscription was interrupted sends its sockets `realtime.resync` (fetch after your last
  seen `seq`), because Redis pub/sub keeps nothing for an absent subscriber; presence sweeps wait one TTL
  after an outage, since every replica's entries went stale together (adapters/socketio_redis.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import socketio
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge
from servicekit.domain_errors import DomainError
from servicekit.events import EventEnvelope, EventHandler, HandBackEventError

from gateway_service.adapters.presence import RedisPresence
from gateway_service.adapters.socketio_redis import RealtimeUnavailable, ResilientRedisManager
from gateway_service.domain.presence_watch import InvalidWatchRequestError, watch_list, watch_refusal
from gateway_service.domain.pushes import (
    PRESENCE_CHANGED,
    RESYNC,
    presence_room,
    pushes_for,
    user_room,
)
from gateway_service.domain.sessions import AccessClaims
from gateway_service.service_layer.sessions import SessionService

logger = logging.getLogger(__name__)

SOCKETIO_PATH = "/api/v1/gateway/socket.io"
# How long a push waits before giving its event back while Redis is unreachable (the broker redelivers it).
REDIS_OUTAGE_BACKOFF_SECONDS = 1.0
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Realtime:
    server: socketio.AsyncServer
    sessions: SessionService
    presence: RedisPresence
    heartbeat_seconds: float
    # This replica's sockets: the claims they connected with (for the revocation check and presence).
    local: dict[str, AccessClaims] = field(default_factory=dict)
    pushes: Counter | None = None
    # When this replica last found Redis unreachable (monotonic): presence sweeps wait a TTL after it.
    last_redis_outage: float = float("-inf")

    def instrument(self, registry: CollectorRegistry) -> None:
        """`gateway_realtime_sockets` (this replica) and `gateway_realtime_pushes_total{event}`."""
        sockets = Gauge(
            "gateway_realtime_sockets", "Socket.IO connections on this replica", registry=registry
        )
        sockets.set_function(lambda: len(self.local))
        self.pushes = Counter(
            "gateway_realtime_pushes_total",
            "Realtime pushes emitted, per event name",
            ["event"],
            registry=registry,
        )

    async def push_event(self, envelope: EventEnvelope) -> None:
        """Emit each push to its users' rooms; a failure (Redis down) raises, so the broker redelivers."""
        for push in pushes_for(envelope.type, envelope.payload):
            for user_id in push.user_ids:
                await self.server.emit(push.event, push.data, room=user_room(user_id))
            if self.pushes is not None:
                self.pushes.labels(event=push.event).inc(len(push.user_ids))

    async def heartbeat_once(self) -> None:
        try:
            await self._heartbeat()
        except Exception:
            self.last_redis_outage = time.monotonic()
            raise

    async def _heartbeat(self) -> None:
        for sid, claims in list(self.local.items()):
            try:
                await self.sessions.ensure_live(claims)
            except DomainError:
                logger.info("disconnecting a socket whose session ended")
                await self.server.disconnect(sid)
        local = {sid: claims.user_id for sid, claims in self.local.items()}
        for user_id in await self.presence.refresh(local):
            await self._announce(user_id, online=True)
        # After an outage every replica's entries are stale at once, not dead: sweeping now would take the
        # users of replicas that have not refreshed yet offline. One TTL later, only the dead stay stale.
        if time.monotonic() - self.last_redis_outage < self.presence.ttl_seconds:
            return
        for user_id in await self.presence.sweep():
            await self._announce(user_id, online=False)

    async def resync_local_sockets(self) -> None:
        """This replica's subscription was interrupted: its sockets may have missed pushes (docs/adr/0019)."""
        self.last_redis_outage = time.monotonic()
        await self.server.emit(RESYNC, {}, ignore_queue=True)

    async def _announce(self, user_id: str, *, online: bool) -> None:
        await self.server.emit(
            PRESENCE_CHANGED, {"user_id": user_id, "online": online}, room=presence_room(user_id)
        )


def _bearer(environ: dict[str, Any], auth: object) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    header = environ.get("HTTP_AUTHORIZATION", "")
    if isinstance(header, str) and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def build_realtime(
    *,
    redis_url: str,
    sessions: SessionService,
    presence: RedisPresence,
    cors_origins: list[str],
    heartbeat_seconds: float,
) -> Realtime:
    manager = ResilientRedisManager(redis_url, channel="gw:realtime")
    server = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=cors_origins,
        transports=["websocket"],
        logger=False,
        engineio_logger=False,
    )
    realtime = Realtime(
        server=server, sessions=sessions, presence=presence, heartbeat_seconds=heartbeat_seconds
    )
    manager.on_resubscribed = realtime.resync_local_sockets

    async def connect(sid: str, environ: dict[str, Any], auth: object = None) -> None:
        token = _bearer(environ, auth)
        if token is None:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized: no access token")
        try:
            claims = await sessions.authenticate(token)
        except DomainError as error:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized") from error
        realtime.local[sid] = claims
        await server.enter_room(sid, user_room(claims.user_id))
        if await presence.connected(claims.user_id, sid):
            await realtime._announce(claims.user_id, online=True)

    async def disconnect(sid: str, *_: object) -> None:
        claims = realtime.local.pop(sid, None)
        if claims is not None and await presence.disconnected(claims.user_id, sid):
            await realtime._announce(claims.user_id, online=False)

    async def watch(sid: str, user_ids: object = None) -> dict[str, Any]:
        """Join the presence rooms of the users asked for; answers their current state, or why not."""
        if sid not in realtime.local:
            return {}
        try:
            wanted = watch_list(user_ids)
        except InvalidWatchRequestError as error:
            return watch_refusal(error)
        for user_id in wanted:
            await server.enter_room(sid, presence_room(user_id))
        return await presence.online(wanted)

    server.on("connect", connect)
    server.on("disconnect", disconnect)
    server.on("presence.watch", watch)
    return realtime


def realtime_event_handler(realtime: Realtime) -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        try:
            await realtime.push_event(envelope)
        except RealtimeUnavailable as error:
            # Redis is restarting: wait a little, then give the event back without it counting as a failed
            # attempt, so an outage of any length is retried rather than dead-lettered.
            realtime.last_redis_outage = time.monotonic()
            await asyncio.sleep(REDIS_OUTAGE_BACKOFF_SECONDS)
            raise HandBackEventError(str(error)) from error

    return handle


def heartbeat_hook(realtime: Realtime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        registry = getattr(app.state, "metrics_registry", None)
        if isinstance(registry, CollectorRegistry) and realtime.pushes is None:
            realtime.instrument(registry)

        async def beat() -> None:
            while True:
                await asyncio.sleep(realtime.heartbeat_seconds)
                try:
                    await realtime.heartbeat_once()
                except Exception as error:  # Redis down: the next beat retries; the TTL covers the gap
                    logger.warning("realtime heartbeat failed: %r", error)

        task = asyncio.create_task(beat(), name="gateway:realtime-heartbeat")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for sid in list(realtime.local):
                with contextlib.suppress(Exception):
                    await realtime.server.disconnect(sid)
            manager = realtime.server.manager
            if isinstance(manager, ResilientRedisManager):
                with contextlib.suppress(Exception):
                    await manager.close()

    return hook


class SocketIOMount:
    """ASGI middleware: Socket.IO's path goes to the Socket.IO server, everything else to the app."""

    def __init__(self, app: AsgiApp, realtime: Realtime) -> None:
        self._app = app
        self._socketio: AsgiApp = socketio.ASGIApp(realtime.server, socketio_path=SOCKETIO_PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and str(scope.get("path", "")).startswith(
            SOCKETIO_PATH + "/"
        ):
            await self._socketio(scope, receive, send)
            return
        await self._app(scope, receive, send)
