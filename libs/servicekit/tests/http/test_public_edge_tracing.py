"""A public edge starts its own trace: a client's traceparent, tracestate and baggage are not continued."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import APIRouter, FastAPI
from opentelemetry import baggage, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from servicekit.http import create_service_app
from servicekit.settings import ServiceSettings
from servicekit.tracing import current_trace_id

ClientFactory = Callable[[FastAPI], httpx.AsyncClient]

CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_HEADERS = {
    "traceparent": f"00-{CLIENT_TRACE_ID}-00f067aa0ba902b7-01",
    "tracestate": "vendor=client-chosen",
    "baggage": "user_id=someone-else,role=admin",
}


def _edge(settings: ServiceSettings, seen: list[dict[str, object]]) -> FastAPI:
    router = APIRouter()

    @router.get("/api/v1/edge")
    async def edge() -> dict[str, str]:
        seen.append({"trace_id": current_trace_id(), "baggage": dict(baggage.get_all())})
        return {"ok": "yes"}

    return create_service_app(
        settings,
        title="edge",
        version="1",
        routers=[router],
        require_internal_token=False,
        public_edge=True,
    )


async def test_the_edge_starts_its_own_trace_and_drops_client_baggage(
    service_settings: ServiceSettings, make_client: ClientFactory
) -> None:
    seen: list[dict[str, object]] = []
    response = await make_client(_edge(service_settings, seen)).get("/api/v1/edge", headers=CLIENT_HEADERS)

    assert response.status_code == 200
    assert seen[0]["trace_id"] is not None
    assert seen[0]["trace_id"] != CLIENT_TRACE_ID
    assert seen[0]["baggage"] == {}


async def test_the_client_trace_is_kept_only_as_a_link(
    service_settings: ServiceSettings, make_client: ClientFactory
) -> None:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[dict[str, object]] = []
    try:
        client = make_client(_edge(service_settings, seen))
        await client.get("/api/v1/edge", headers=CLIENT_HEADERS)
        await client.get("/api/v1/edge", headers={"traceparent": "00-not-a-trace-context-01"})
    finally:
        exporter.shutdown()

    server_spans = [span for span in exporter.get_finished_spans() if span.kind == SpanKind.SERVER]
    linked, malformed = server_spans
    assert linked.parent is None
    assert [format(link.context.trace_id, "032x") for link in linked.links] == [CLIENT_TRACE_ID]
    assert malformed.parent is None
    assert list(malformed.links) == []


async def test_an_internal_service_still_continues_its_caller_trace(
    service_settings: ServiceSettings, make_client: ClientFactory
) -> None:
    router = APIRouter()
    seen: list[str | None] = []

    @router.get("/api/v1/inner")
    async def inner() -> dict[str, str]:
        seen.append(current_trace_id())
        return {"ok": "yes"}

    app = create_service_app(
        service_settings, title="inner", version="1", routers=[router], require_internal_token=False
    )
    await make_client(app).get("/api/v1/inner", headers=CLIENT_HEADERS)
    assert seen == [CLIENT_TRACE_ID]
