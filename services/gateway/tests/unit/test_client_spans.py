"""The downstream call's client span under an unsampled parent is made directly (adapters/client_spans.py),
and it is the span the SDK's tracer would have started there, apart from its fresh span id; wherever the SDK
might record the span, nothing is made and the caller goes through the tracer."""

from __future__ import annotations

import pytest
from gateway_service.adapters import client_spans
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags, TraceState

ATTRIBUTES = {"http.request.method": "GET", "peer.service": "auth"}
STATE = TraceState([("vendor", "value")])


def _provider(monkeypatch: pytest.MonkeyPatch, sampler: Sampler) -> TracerProvider:
    # The process's provider is installed once per process; the module asks for it through this function.
    provider = TracerProvider(sampler=sampler)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    return provider


@pytest.fixture
def edge_provider(monkeypatch: pytest.MonkeyPatch) -> TracerProvider:
    # configure_tracing's sampler at the eks overlay's ratio
    return _provider(monkeypatch, ParentBased(TraceIdRatioBased(0.1)))


def _parent(*, sampled: bool, random: bool = True, remote: bool = False) -> NonRecordingSpan:
    flags = (TraceFlags.SAMPLED if sampled else 0) | (TraceFlags.RANDOM_TRACE_ID if random else 0)
    context = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C,
        0xB7AD6B7169203331,
        is_remote=remote,
        trace_flags=TraceFlags(flags),
        trace_state=STATE,
    )
    return NonRecordingSpan(context)


@pytest.mark.parametrize("random", [True, False])
def test_under_an_unsampled_parent_it_is_the_span_the_tracer_would_start(
    edge_provider: TracerProvider, random: bool
) -> None:
    with trace.use_span(_parent(sampled=False, random=random)):
        made = client_spans.unrecorded_child("GET", SpanKind.CLIENT, ATTRIBUTES)
        started = edge_provider.get_tracer("reference").start_span(
            "GET", kind=SpanKind.CLIENT, attributes=ATTRIBUTES
        )
    assert made is not None
    assert not started.is_recording()
    mine, theirs = made.get_span_context(), started.get_span_context()
    assert (mine.trace_id, mine.trace_flags, mine.trace_state, mine.is_remote) == (
        theirs.trace_id,
        theirs.trace_flags,
        theirs.trace_state,
        theirs.is_remote,
    )
    assert not mine.trace_flags.sampled
    assert mine.span_id not in (0, _parent(sampled=False).get_span_context().span_id)


def test_a_sampled_parent_gets_the_tracer(edge_provider: TracerProvider) -> None:
    with trace.use_span(_parent(sampled=True)):
        assert client_spans.unrecorded_child("GET", SpanKind.CLIENT, ATTRIBUTES) is None


def test_a_remote_parent_or_none_gets_the_tracer(edge_provider: TracerProvider) -> None:
    assert client_spans.unrecorded_child("GET", SpanKind.CLIENT, ATTRIBUTES) is None
    with trace.use_span(_parent(sampled=False, remote=True)):
        assert client_spans.unrecorded_child("GET", SpanKind.CLIENT, ATTRIBUTES) is None


def test_a_sampler_that_would_record_gets_the_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not parent-based: the SDK would record a child of an unsampled parent, so nothing is made here.
    provider = _provider(monkeypatch, ALWAYS_ON)
    with trace.use_span(_parent(sampled=False)):
        assert client_spans.unrecorded_child("GET", SpanKind.CLIENT, ATTRIBUTES) is None
        assert provider.get_tracer("reference").start_span("GET").is_recording()


def test_without_the_sdk_nothing_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", trace.NoOpTracerProvider)
    with trace.use_span(_parent(sampled=False)):
        assert client_spans.unrecorded_child("GET", SpanKind.CLIENT, ATTRIBUTES) is None
