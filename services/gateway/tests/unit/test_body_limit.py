"""RequestSizeLimitMiddleware at the ASGI level: declared, chunked, drained and endless bodies."""

from __future__ import annotations

import json
from typing import Any

from gateway_service.entrypoints.body_limit import DRAIN_FACTOR, RequestSizeLimitMiddleware
from starlette.types import Message, Receive, Scope, Send

LIMIT = 100


class RecordingApp:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers}


async def _run(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[RecordingApp, list[Message]]:
    app = RecordingApp()
    middleware = RequestSizeLimitMiddleware(app, max_bytes=LIMIT)
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(_scope(headers), receive, send)
    return app, sent


def _status(sent: list[Message]) -> int:
    return int(sent[0]["status"])


async def test_declared_length_over_the_limit_is_refused_unread() -> None:
    app, sent = await _run([(b"content-length", b"101")], [b"x" * 101])
    assert _status(sent) == 413
    assert app.bodies == []
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"


async def test_chunked_body_within_the_limit_is_replayed_whole() -> None:
    app, sent = await _run([(b"transfer-encoding", b"chunked")], [b"a" * 60, b"b" * 40])
    assert _status(sent) == 200
    assert app.bodies == [b"a" * 60 + b"b" * 40]


async def test_chunked_body_over_the_limit_is_drained_then_refused() -> None:
    app, sent = await _run([(b"transfer-encoding", b"chunked")], [b"a" * 60, b"b" * 60, b"c" * 60])
    assert _status(sent) == 413
    assert app.bodies == []
    assert (b"connection", b"close") not in sent[0]["headers"]  # fully read: connection stays usable


async def test_endless_chunked_body_is_cut_off_with_connection_close() -> None:
    chunks = [b"z" * 50] * (DRAIN_FACTOR * LIMIT // 50 + 10)
    app, sent = await _run([(b"transfer-encoding", b"chunked")], chunks)
    assert _status(sent) == 413
    assert app.bodies == []
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_bodyless_requests_pass_straight_through() -> None:
    app, sent = await _run([], [b""])
    assert _status(sent) == 200
    assert app.bodies == [b""]
