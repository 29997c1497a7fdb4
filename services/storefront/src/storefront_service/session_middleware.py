"""Loads the visitor's server-side session before a page runs and saves it before the answer starts.

Pure ASGI: the session is put in ``request.state.session`` for HTTP and websocket connections alike (the
realtime proxy authenticates by it), and the save happens when the response starts, so a new or rotated id
still reaches the browser in ``Set-Cookie``. Probes, metrics and static files skip it: they need no session
and must not create one per hit.
"""

from __future__ import annotations

import logging
from http.cookies import SimpleCookie

from redis.exceptions import RedisError
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storefront_service import gateway_client
from storefront_service.sessions import (
    COOKIE_NAME,
    DEVICE_COOKIE_MAX_AGE,
    DEVICE_COOKIE_NAME,
    SessionStore,
    new_token,
)

logger = logging.getLogger(__name__)

_SKIPPED_PREFIXES = ("/static/", "/media/gigs/", "/health/", "/metrics")
_UNAVAILABLE = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Unavailable - Gigstack</title>"
    b"<h1>We will be right back</h1><p>Gigstack is unavailable for a moment. Please try again shortly.</p>"
)


def cookie_header(name: str, value: str, *, max_age: int, secure: bool) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["max-age"] = max_age
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


class SessionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(_SKIPPED_PREFIXES):
            await self._app(scope, receive, send)
            return
        deps = scope["app"].state.deps
        store: SessionStore = deps.sessions
        secure: bool = deps.settings.secure_cookies
        connection = HTTPConnection(scope)
        try:
            session = await store.load(connection.cookies.get(COOKIE_NAME)) or store.new()
        except RedisError:
            logger.exception("session store unreachable")
            if scope["type"] == "http":
                await _send_unavailable(send)
            return
        scope.setdefault("state", {})["session"] = session
        device = connection.cookies.get(DEVICE_COOKIE_NAME)
        new_device = device is None or len(device) != 43
        if new_device:
            device = new_token()
        client = scope.get("client")
        ip_token = gateway_client.client_ip.set(client[0] if client else None)
        device_token = gateway_client.device_id.set(device)

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Signed-in sessions slide on every page view; anonymous ones are written when they change.
                if session.dirty or session.signed_in:
                    await store.save(session)
                headers = MutableHeaders(scope=message)
                if session.is_new:
                    headers.append(
                        "set-cookie",
                        cookie_header(COOKIE_NAME, session.id, max_age=store.idle_seconds, secure=secure),
                    )
                if new_device and device is not None:
                    headers.append(
                        "set-cookie",
                        cookie_header(
                            DEVICE_COOKIE_NAME, device, max_age=DEVICE_COOKIE_MAX_AGE, secure=secure
                        ),
                    )
            await send(message)

        try:
            await self._app(scope, receive, send_with_session if scope["type"] == "http" else send)
        finally:
            gateway_client.client_ip.reset(ip_token)
            gateway_client.device_id.reset(device_token)


async def _send_unavailable(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"retry-after", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": _UNAVAILABLE})
