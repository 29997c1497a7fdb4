"""A public edge decides sampling before OpenTelemetry's server middleware; unsampled requests skip it.

What must not change for any request: a trace id in the request's context (logs), the downstream
`traceparent` (same trace id, sampled flag exactly when the server span is recorded), the sampler's decision
(the provider's own, on the request's trace id), excluded URLs untraced. The tests run OpenTelemetry's real
middleware on a provider of their own (the process-wide one is the test session's, sampling everything).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from opentelemetry.context import Context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from servicekit.http import create_service_app
from servicekit.settings import ServiceSettings
from servicekit.tracing import (
    EdgeTraceIds,
    RootSampling,
    UnsampledRequestBypass,
    UntrustedTraceContextMiddleware,
    current_span_id,
    current_trace_id,
    inject_trace_headers,
)
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import Receive, Scope, Send

EXCLUDED = "/health/live$,/health/ready$,/metrics$"
REQUESTS = 300


class CountingOpenTelemetryMiddleware(OpenTelemetryMiddleware):
    """OpenTelemetry's middleware, counting the requests that enter it."""

    entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        CountingOpenTelemetryMiddleware.entered += 1
        await super().__call__(scope, receive, send)


class Edge:
    """The edge's trace layers as `instrument_app(public_edge=True)` stacks them, on a provider of its own."""

    def __init__(self, rate: float, *, bypass: bool, every_root: bool = False) -> None:
        self.exporter = InMemorySpanExporter()
        ids = EdgeTraceIds()
        self.sampler = ParentBased(TraceIdRatioBased(rate))
        self.provider = TracerProvider(sampler=self.sampler, id_generator=ids, shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("downstream")
        self.seen: list[dict[str, str | None]] = []
        middleware: Any = CountingOpenTelemetryMiddleware(
            self.handler,
            excluded_urls=EXCLUDED,
            tracer_provider=self.provider,
            exclude_spans=["receive", "send"],
        )
        if bypass:
            sampling = RootSampling(self.provider, self.sampler, ids, samples_every_root=every_root)
            middleware = UnsampledRequestBypass(middleware, sampling)
        self.app = UntrustedTraceContextMiddleware(ServerErrorMiddleware(middleware))
        CountingOpenTelemetryMiddleware.entered = 0

    async def handler(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the gateway does with the context: log ids, a client span, `traceparent` downstream."""
        logged = {"trace_id": current_trace_id(), "span_id": current_span_id()}
        with self.tracer.start_as_current_span("GET downstream", kind=SpanKind.CLIENT):
            headers: dict[str, Any] = {}
            inject_trace_headers(headers)
        self.seen.append({**logged, "traceparent": headers.get("traceparent")})
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    def server_spans(self) -> dict[str, ReadableSpan]:
        spans = self.exporter.get_finished_spans()
        return {format(s.context.trace_id, "032x"): s for s in spans if s.kind == SpanKind.SERVER}

    def sampled(self, trace_id: str) -> bool:
        verdict = self.sampler.should_sample(Context(), int(trace_id, 16), "HTTP", SpanKind.SERVER)
        return verdict.decision is not Decision.DROP


async def _get(edge: Edge, path: str, count: int, **headers: str) -> None:
    transport = httpx.ASGITransport(app=edge.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        for _ in range(count):
            assert (await client.get(path, headers=headers)).status_code == 200


async def test_unsampled_requests_skip_the_middleware_and_keep_their_trace_context() -> None:
    edge = Edge(0.5, bypass=True)
    await _get(edge, "/api/v1/gateway/auth/me", REQUESTS, traceparent=f"00-{'ab' * 16}-{'cd' * 8}-01")

    spans = edge.server_spans()
    sampled = [seen for seen in edge.seen if seen["trace_id"] in spans]
    # The provider's sampler decided, on each request's own trace id (never the client's).
    assert all(edge.sampled(str(seen["trace_id"])) == (seen["trace_id"] in spans) for seen in edge.seen)
    assert 0.35 * REQUESTS < len(sampled) < 0.65 * REQUESTS
    assert CountingOpenTelemetryMiddleware.entered == len(sampled)
    for seen in edge.seen:
        trace_id, span_id, traceparent = seen["trace_id"], seen["span_id"], str(seen["traceparent"])
        assert trace_id is not None
        assert trace_id != "ab" * 16
        assert span_id is not None
        version, parent_trace_id, parent_span_id, flags = traceparent.split("-")
        assert (version, parent_trace_id) == ("00", trace_id)
        assert parent_span_id != span_id  # the client span's, a child of the server span
        # Sampled flag exactly when the server span was recorded; the random-trace-id flag either way, as the
        # SDK sets it.
        assert flags == ("03" if trace_id in spans else "02")
        if trace_id in spans:
            assert format(spans[trace_id].context.span_id, "016x") == span_id
            assert spans[trace_id].parent is None


@pytest.mark.parametrize("bypass", [False, True])
async def test_unsampled_traceparent_is_what_the_middleware_alone_gives(bypass: bool) -> None:
    edge = Edge(0.0, bypass=bypass)
    await _get(edge, "/api/v1/gateway/auth/me", 20)

    assert edge.server_spans() == {}
    assert CountingOpenTelemetryMiddleware.entered == (0 if bypass else 20)
    assert len({seen["trace_id"] for seen in edge.seen}) == 20
    assert {str(seen["traceparent"]).rsplit("-", 1)[1] for seen in edge.seen} == {"02"}


@pytest.mark.parametrize(("bypass", "every_root"), [(False, False), (True, False), (True, True)])
async def test_every_request_is_recorded_at_ratio_one(bypass: bool, every_root: bool) -> None:
    edge = Edge(1.0, bypass=bypass, every_root=every_root)
    await _get(edge, "/api/v1/gateway/auth/me", 20)

    spans = edge.server_spans()
    assert sorted(spans) == sorted(str(seen["trace_id"]) for seen in edge.seen)
    assert {str(seen["traceparent"]).rsplit("-", 1)[1] for seen in edge.seen} == {"03"}
    assert {span.name for span in spans.values()} == {"GET /api/v1/gateway/auth/me"}


async def test_excluded_urls_stay_untraced() -> None:
    edge = Edge(0.0, bypass=True)
    await _get(edge, "/health/live", 3)

    assert [seen["trace_id"] for seen in edge.seen] == [None, None, None]
    assert CountingOpenTelemetryMiddleware.entered == 3


def test_the_public_edge_decides_in_front_of_opentelemetrys_middleware(
    service_settings: ServiceSettings,
) -> None:
    app = create_service_app(
        service_settings,
        title="edge",
        version="1",
        routers=[APIRouter()],
        require_internal_token=False,
        public_edge=True,
    )
    stack: Any = app.build_middleware_stack()
    assert isinstance(stack, UntrustedTraceContextMiddleware)
    assert isinstance(stack.app, ServerErrorMiddleware)
    assert isinstance(stack.app.app, UnsampledRequestBypass)
    assert isinstance(stack.app.app.app, OpenTelemetryMiddleware)
