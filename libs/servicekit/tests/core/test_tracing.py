"""W3C trace context survives a round trip through HTTP-style and AMQP-style (bytes) headers."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from servicekit.tracing import current_span_id, current_trace_id, extract_trace_context, inject_trace_headers


def test_injected_headers_extract_to_the_same_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    headers: dict[str, Any] = {}
    with tracer.start_as_current_span("publish") as span:
        inject_trace_headers(headers)
        publisher = span.get_span_context()
        assert current_trace_id() == format(publisher.trace_id, "032x")
        assert current_span_id() == format(publisher.span_id, "016x")

    assert headers["traceparent"].startswith("00-")
    remote = trace.get_current_span(extract_trace_context(headers)).get_span_context()
    assert remote.trace_id == publisher.trace_id
    assert remote.span_id == publisher.span_id
    assert remote.is_remote


def test_bytes_and_mixed_case_header_values_are_understood() -> None:
    tracer = TracerProvider().get_tracer("test")
    headers: dict[str, Any] = {}
    with tracer.start_as_current_span("publish") as span:
        inject_trace_headers(headers)
        trace_id = span.get_span_context().trace_id

    amqp_headers = {"Traceparent": headers["traceparent"].encode(), "x-delivery-count": 2}
    remote = trace.get_current_span(extract_trace_context(amqp_headers)).get_span_context()
    assert remote.trace_id == trace_id


def test_no_trace_outside_spans_and_empty_headers_give_an_invalid_context() -> None:
    assert current_trace_id() is None
    assert current_span_id() is None
    remote = trace.get_current_span(extract_trace_context({})).get_span_context()
    assert not remote.is_valid
