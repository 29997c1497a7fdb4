"""A client that leaves mid-body is counted as 499 (client closed request), logged quietly, never a 500.

Driven at the ASGI level: httpx's in-process transport cannot disconnect halfway through a body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from prometheus_client.parser import text_string_to_metric_families
from servicekit.metrics import render_metrics
from starlette.types import Message

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


def _router(reached: list[bytes]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/uploads")

    @router.post("")
    async def upload(request: Request) -> dict[str, int]:
        body = await request.body()  # raises ClientDisconnect when the client leaves mid-body
        reached.append(body)
        return {"bytes": len(body)}

    return router


async def _post_then_disconnect(app: FastAPI) -> list[Message]:
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"title": "lo', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/uploads",
        "raw_path": b"/api/v1/uploads",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"40")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return sent


def _request_counts(app: FastAPI) -> dict[str, float]:
    exposition = render_metrics(app.state.metrics_registry).decode()
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["route"] == "/api/v1/uploads"
    }


async def test_a_client_leaving_mid_body_is_a_499_not_a_500(
    build_app: AppFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    reached: list[bytes] = []
    app = build_app(_router(reached), require_internal_token=False)
    with caplog.at_level(logging.DEBUG):
        sent = await _post_then_disconnect(app)

    assert reached == []  # the handler never got a truncated body
    assert sent == []  # nobody is left to answer; above all no 500
    assert _request_counts(app) == {"499": 1.0}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not [record for record in caplog.records if record.exc_info]
    handled = [record for record in caplog.records if record.getMessage() == "request handled"]
    assert [getattr(record, "http_status", None) for record in handled] == [499]

    # The same route still answers (and counts) a client that stays.
    response = await make_client(app).post("/api/v1/uploads", json={"title": "logo"})
    assert response.status_code == 200
    assert _request_counts(app) == {"499": 1.0, "200": 1.0}
