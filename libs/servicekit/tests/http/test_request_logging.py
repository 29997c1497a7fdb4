"""Logs written while handling a request carry the request's trace id and the client's correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import httpx
from fastapi import APIRouter, FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from servicekit.logging import configure_logging
from servicekit.tracing import current_trace_id

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


async def test_handler_and_access_logs_have_trace_id_and_correlation_id(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    router = APIRouter()
    seen_trace_ids: list[str | None] = []

    @router.get("/api/v1/reviews/{review_id}")
    async def get_review(review_id: str) -> dict[str, str]:
        seen_trace_ids.append(current_trace_id())
        logging.getLogger("review.api").info("review read", extra={"review_id": review_id})
        return {"id": review_id}

    app = build_app(router, require_internal_token=False)
    stream = io.StringIO()
    configure_logging("order", "INFO", stream=stream)
    try:
        response = await make_client(app).get(
            "/api/v1/reviews/r-5", headers={"X-Correlation-ID": "client-req-1"}
        )
    finally:
        configure_logging("order", "INFO")

    assert response.status_code == 200
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    handler_record = next(r for r in records if r["message"] == "review read")
    access_record = next(r for r in records if r["message"] == "request handled")

    trace_id = seen_trace_ids[0]
    assert trace_id is not None
    assert len(trace_id) == 32
    for record in (handler_record, access_record):
        assert record["correlation_id"] == "client-req-1"
        assert record["trace_id"] == trace_id
        assert record["service"] == "order"
    assert access_record["http_route"] == "/api/v1/reviews/{review_id}"
    assert access_record["http_status"] == 200
    assert access_record["http_method"] == "GET"


async def test_traceparent_from_the_caller_continues_its_trace(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    router = APIRouter()
    seen: list[str | None] = []

    @router.get("/api/v1/ping")
    async def ping() -> dict[str, str]:
        seen.append(current_trace_id())
        return {"ok": "yes"}

    caller_trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await make_client(build_app(router, require_internal_token=False)).get(
        "/api/v1/ping", headers={"traceparent": f"00-{caller_trace_id}-00f067aa0ba902b7-01"}
    )
    assert seen == [caller_trace_id]


async def test_api_requests_are_traced_but_probes_and_scrapes_are_not(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    router = APIRouter()

    @router.get("/api/v1/metrics-report")
    async def report() -> dict[str, str]:
        return {"ok": "yes"}

    app = build_app(router, require_internal_token=False)
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        client = make_client(app)
        for path in ("/health/live", "/health/ready", "/metrics", "/api/v1/metrics-report"):
            assert (await client.get(path)).status_code == 200
    finally:
        exporter.shutdown()

    server_spans = [span for span in exporter.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert [span.attributes.get("http.route") for span in server_spans if span.attributes] == [
        "/api/v1/metrics-report"
    ]
