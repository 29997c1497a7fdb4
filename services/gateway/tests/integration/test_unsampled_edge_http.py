"""The real gateway on uvicorn, with the edge's root sampling at a ratio of one half (ADR 0024, "gwtrace").

Every proxied request still sends the service a `traceparent` of its own trace; its sampled flag is set
exactly for the requests whose server span the gateway recorded, whose client span is the one named in that
`traceparent`; the requests not sampled leave no span at all. The test session's provider samples everything,
so the test swaps the sampler the edge asks (the one `configure_tracing` installed decides in production).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from servicekit import tracing

REQUESTS = 60


async def test_sampled_and_unsampled_requests_both_carry_their_trace_downstream(
    start_gateway: Any, upstream_log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = await start_gateway()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    installed = tracing._process_root_sampling
    if installed is None or installed.provider is not provider:
        # Another test of this session installed the process's provider first (OpenTelemetry allows one
        # per process, and `configure_tracing` keeps it): describe that provider instead. Its own id
        # generator then names a sampled request's trace, which changes nothing checked here.
        installed = tracing.RootSampling(
            provider=provider, sampler=provider.sampler, ids=tracing.EdgeTraceIds()
        )
    half = dataclasses.replace(
        installed, sampler=ParentBased(TraceIdRatioBased(0.5)), samples_every_root=False
    )
    monkeypatch.setattr(tracing, "_process_root_sampling", half)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        for _ in range(REQUESTS):
            response = await gateway.get("/api/v1/gateway/gig/echo")
            assert response.status_code == 200, response.text
        spans = exporter.get_finished_spans()
    finally:
        exporter.shutdown()

    echo = "/api/v1/gig/echo"
    traceparents = [headers["traceparent"] for path, _, headers in upstream_log.calls if path == echo]
    assert len(traceparents) == REQUESTS
    by_trace: dict[int, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    flags_seen = set()
    trace_ids = set()
    for traceparent in traceparents:
        version, trace_hex, parent_hex, flags = traceparent.split("-")
        assert version == "00"
        trace_id = int(trace_hex, 16)
        trace_ids.add(trace_id)
        flags_seen.add(flags)
        recorded = by_trace.get(trace_id, [])
        if flags == "03":
            # The gateway's server span (the in-process upstream records its own below the client span).
            server = [span for span in recorded if span.kind == SpanKind.SERVER and span.parent is None]
            client = [span for span in recorded if span.kind == SpanKind.CLIENT]
            assert [span.name for span in server] == ["GET /api/v1/gateway/gig/echo"]
            assert [format(span.context.span_id, "016x") for span in client] == [parent_hex]
            assert client[0].parent is not None
            assert client[0].parent.span_id == server[0].context.span_id
        else:
            assert flags == "02"  # not sampled; the random-trace-id flag as the SDK sets it
            assert recorded == []
    assert len(trace_ids) == REQUESTS
    assert flags_seen == {"02", "03"}  # 60 requests at one half: both kinds (all alike: p = 2^-59)
