"""The realtime websocket proxy: the browser's Socket.IO client talks to the storefront, never the gateway.

The browser must never hold an access token (it lives in the server-side session), yet the gateway's
Socket.IO handshake is authenticated with one. So the browser connects to
``/realtime/socket.io/?EIO=4&transport=websocket`` on the storefront's own origin (CSP
``connect-src 'self'``), the storefront finds the session from the ``sf_session`` cookie, opens the upstream
websocket to the gateway's ``/api/v1/gateway/socket.io/`` with ``Authorization: Bearer <access token>`` and
pumps frames both ways unchanged. Engine.IO's own ping/pong passes through, so a dead peer on either side is
noticed by the other end's protocol timers; whichever side closes, the other side is closed too.

Only the websocket transport exists (the gateway serves no long-polling, docs/adr/0019), so there is no
sticky-session concern here either: each browser socket is one upstream socket.

Refusals happen before the browser's websocket is accepted (the browser sees HTTP 403): no session, a
foreign ``Origin`` (cross-site websocket hijacking), a transport other than websocket, this process at its
connection cap, or a gateway that cannot be reached in time. A session whose token the gateway rejects is
refused by the gateway itself, at the Socket.IO level (``connect_error`` in the browser).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter
from prometheus_client import CollectorRegistry, Gauge
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

logger = logging.getLogger(__name__)

BROWSER_PATH = "/realtime/socket.io/"
GATEWAY_SOCKETIO_PATH = "/api/v1/gateway/socket.io/"
# The query parameters the Engine.IO client sends on a websocket-only connection; nothing else is forwarded.
FORWARDED_QUERY = ("EIO", "transport")
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011

# The access token of the browser's session, refreshed if needed; None when there is no valid session.
TokenSource = Callable[[WebSocket], Awaitable[str | None]]


@dataclass(frozen=True)
class ProxySettings:
    gateway_url: str
    connect_timeout_seconds: float = 5.0
    close_timeout_seconds: float = 2.0
    # Socket.IO packets from the browser are tiny (connect, acks, presence.watch); pushes can carry a message.
    max_frame_bytes: int = 1024 * 1024
    max_connections: int = 2000


@dataclass
class RealtimeProxy:
    settings: ProxySettings
    token_source: TokenSource
    # Connections this process carries now (a gauge for metrics and the cap).
    open_connections: int = field(default=0)

    def upstream_url(self, websocket: WebSocket) -> str:
        base = urlsplit(self.settings.gateway_url)
        scheme = "wss" if base.scheme == "https" else "ws"
        query = urlencode(
            [(key, websocket.query_params[key]) for key in FORWARDED_QUERY if key in websocket.query_params]
        )
        return f"{scheme}://{base.netloc}{base.path.rstrip('/')}{GATEWAY_SOCKETIO_PATH}?{query}"

    async def handle(self, websocket: WebSocket) -> None:
        """The websocket endpoint (a bound method: Starlette would treat a callable object as raw ASGI)."""
        refusal = self._refusal(websocket)
        if refusal is not None:
            logger.info("realtime proxy refused a connection: %s", refusal)
            await websocket.close(code=POLICY_VIOLATION)
            return
        token = await self.token_source(websocket)
        if token is None:
            logger.info("realtime proxy refused a connection: no valid session")
            await websocket.close(code=POLICY_VIOLATION)
            return
        if self.open_connections >= self.settings.max_connections:
            logger.warning("realtime proxy at its cap of %d connections", self.settings.max_connections)
            await websocket.close(code=TRY_AGAIN_LATER)
            return
        self.open_connections += 1
        try:
            await self._proxy(websocket, token)
        finally:
            self.open_connections -= 1

    def _refusal(self, websocket: WebSocket) -> str | None:
        if websocket.query_params.get("transport") != "websocket":
            return "only the websocket transport is served"
        origin = websocket.headers.get("origin")
        # Browsers always send Origin on a websocket handshake; a page on another site must not ride the
        # session cookie (SameSite=Lax already withholds it cross-site; this is the second lock).
        if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
            return f"foreign origin {origin!r}"
        return None

    async def _proxy(self, websocket: WebSocket, token: str) -> None:
        try:
            upstream = await connect(
                self.upstream_url(websocket),
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=self.settings.connect_timeout_seconds,
                close_timeout=self.settings.close_timeout_seconds,
                max_size=self.settings.max_frame_bytes,
                # Engine.IO pings through the tunnel already; no second keepalive layer.
                ping_interval=None,
                compression=None,
                proxy=None,
            )
        except (OSError, TimeoutError, InvalidHandshake) as error:
            logger.warning("realtime proxy could not reach the gateway: %r", error)
            await websocket.close(code=INTERNAL_ERROR)
            return
        try:
            await websocket.accept()
            await _pump_both_ways(websocket, upstream)
        finally:
            await upstream.close()
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=_browser_close_code(upstream))


async def _pump_both_ways(websocket: WebSocket, upstream: ClientConnection) -> None:
    """Until either side closes: the first pump to finish cancels the other."""
    to_upstream = asyncio.create_task(_browser_to_upstream(websocket, upstream))
    to_browser = asyncio.create_task(_upstream_to_browser(upstream, websocket))
    try:
        await asyncio.wait({to_upstream, to_browser}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (to_upstream, to_browser):
            task.cancel()
        for task in (to_upstream, to_browser):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _browser_to_upstream(websocket: WebSocket, upstream: ClientConnection) -> None:
    with contextlib.suppress(WebSocketDisconnect, ConnectionClosed):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await upstream.send(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send(message["bytes"])


async def _upstream_to_browser(upstream: ClientConnection, websocket: WebSocket) -> None:
    with contextlib.suppress(ConnectionClosed, WebSocketDisconnect, RuntimeError):
        async for frame in upstream:
            if isinstance(frame, str):
                await websocket.send_text(frame)
            else:
                await websocket.send_bytes(frame)


def _browser_close_code(upstream: ClientConnection) -> int:
    """The gateway's close code when it is one a server may send on; otherwise a normal closure."""
    code = upstream.close_code
    if code is None or code in (1005, 1006, 1015) or not (1000 <= code <= 4999):
        return 1000
    return code


def realtime_route(proxy: RealtimeProxy) -> WebSocketRoute:
    """A plain Starlette route on purpose: FastAPI's include_router does not give it the page routers' CSRF
    dependency (which reads a form and has no meaning for a websocket); the Origin check stands in for it."""
    return WebSocketRoute(BROWSER_PATH, proxy.handle, name="realtime")


async def session_access_token(websocket: WebSocket) -> str | None:
    """The TokenSource of the app: the session the SessionMiddleware loaded from the ``sf_session`` cookie.

    An access token past its refresh time is refreshed first (the gateway refuses an expired one at the
    handshake), and the session saved, since no HTTP response will do it for a websocket.
    """
    # Imported here: the proxy above stays usable (and testable) without the app around it.
    from storefront_service.gateway_client import GatewayError, GatewayUnavailable, SignedOutError

    session = getattr(websocket.state, "session", None)
    if session is None or not session.signed_in:
        return None
    deps = websocket.app.state.deps
    if time.time() >= session.access_expires_at:
        try:
            # Any signed-in call refreshes an expired token before it is sent (gateway_client.py).
            await deps.gateway.call("auth.me", session=session)
        except (SignedOutError, GatewayError, GatewayUnavailable):
            return None
        finally:
            if session.dirty:
                await deps.sessions.save(session)
    token: str | None = session.access_token
    return token


async def _app_endpoint(websocket: WebSocket) -> None:
    """One RealtimeProxy per app (``app.state.realtime_proxy``), built on first use from its settings."""
    state = websocket.app.state
    proxy: RealtimeProxy | None = getattr(state, "realtime_proxy", None)
    if proxy is None:
        proxy = RealtimeProxy(
            ProxySettings(gateway_url=state.deps.settings.gateway_url), session_access_token
        )
        state.realtime_proxy = proxy
        _instrument(proxy, getattr(state, "metrics_registry", None))
    await proxy.handle(websocket)


def _instrument(proxy: RealtimeProxy, registry: object) -> None:
    """`storefront_realtime_connections`: the websockets this replica carries now (its cap is per replica)."""
    if isinstance(registry, CollectorRegistry):
        gauge = Gauge(
            "storefront_realtime_connections",
            "Browser websockets proxied to the gateway by this replica",
            registry=registry,
        )
        gauge.set_function(lambda: proxy.open_connections)


router = APIRouter()
router.routes.append(WebSocketRoute(BROWSER_PATH, _app_endpoint, name="realtime"))
