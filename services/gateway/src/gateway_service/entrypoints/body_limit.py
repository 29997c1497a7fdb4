"""Request-size limit as pure ASGI middleware.

``Content-Length`` over the limit is refused before any byte is read; chunked bodies (no length) are read
up to the limit and refused once they pass it, so a client cannot stream an unbounded body. The accepted
body is replayed to the app, which is fine here: the limit is small (1 MiB by default).

Before answering a chunked 413 the rest of the body is read and discarded, up to ``DRAIN_FACTOR`` times the
limit: most clients only read the answer after sending everything, and closing on them mid-upload makes
them see a connection reset instead of the 413. Past that bound the connection is simply closed.
"""

from __future__ import annotations

import json

from servicekit.errors import error_body
from servicekit.http.middleware import sanitized_correlation_id
from servicekit.logging import new_correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
DRAIN_FACTOR = 8


class RequestSizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self._max_bytes:
                await self._refuse(scope, send, headers)
                return
            if scope["method"] in _METHODS_WITHOUT_BODY or int(declared) == 0:
                await self.app(scope, receive, send)
                return
        elif b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return

        body = bytearray()
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more_body = message.get("more_body", False)
            if len(body) > self._max_bytes:
                drained = not more_body or await self._drain(receive, len(body))
                await self._refuse(scope, send, headers, close=not drained)
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _drain(self, receive: Receive, already_read: int) -> bool:
        """Discard the rest of the body; False when it exceeds the drain bound (or the client left)."""
        remaining_budget = self._max_bytes * DRAIN_FACTOR - already_read
        while remaining_budget > 0:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            remaining_budget -= len(message.get("body", b""))
            if not message.get("more_body", False):
                return remaining_budget >= 0
        return False

    async def _refuse(
        self, scope: Scope, send: Send, headers: dict[bytes, bytes], *, close: bool = True
    ) -> None:
        # This middleware runs outside the one that binds the request's correlation id, so it applies the same
        # rule itself: a client's id is echoed only when it is a safe token, never as raw bytes.
        incoming = headers.get(b"x-correlation-id", b"").decode("latin-1")
        correlation_id = sanitized_correlation_id(incoming) or new_correlation_id()
        payload = json.dumps(
            error_body(
                "payload_too_large",
                f"The request body exceeds {self._max_bytes} bytes",
                correlation_id=correlation_id,
            )
        ).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        if close:
            # The rest of the body was not read, so the connection cannot be reused safely.
            response_headers.append((b"connection", b"close"))
        response_headers.append((b"x-correlation-id", correlation_id.encode("ascii")))
        await send({"type": "http.response.start", "status": 413, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, pass through so the app still sees the client disconnect.
        return await receive()

    return replayed
