"""JSON log lines carry service, trace/span ids of the active span and the correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from servicekit.logging import bind_correlation_id, configure_logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("review", "INFO", stream=stream)
    yield stream
    configure_logging("review", "INFO")


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_record_inside_a_span_has_its_trace_and_span_ids(log_stream: io.StringIO) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handle") as span:
        logging.getLogger("review.handlers").info("review stored", extra={"review_id": "r-1"})
        context = span.get_span_context()

    (record,) = _lines(log_stream)
    assert record["trace_id"] == format(context.trace_id, "032x")
    assert record["span_id"] == format(context.span_id, "016x")
    assert record["message"] == "review stored"
    assert record["level"] == "INFO"
    assert record["logger"] == "review.handlers"
    assert record["service"] == "review"
    assert record["review_id"] == "r-1"
    assert "timestamp" in record


def test_record_outside_a_span_has_null_trace_fields_and_the_bound_correlation_id(
    log_stream: io.StringIO,
) -> None:
    with bind_correlation_id("corr-77"):
        logging.getLogger("review").warning("slow query")
    logging.getLogger("review").warning("after")

    inside, after = _lines(log_stream)
    assert inside["trace_id"] is None
    assert inside["span_id"] is None
    assert inside["correlation_id"] == "corr-77"
    assert after["correlation_id"] is None


def test_credential_like_extras_are_masked(log_stream: io.StringIO) -> None:
    logging.getLogger("review").info("login", extra={"password": "hunter2", "api_key": "k-123", "user": "u1"})
    (record,) = _lines(log_stream)
    assert record["password"] == "[redacted]"
    assert record["api_key"] == "[redacted]"
    assert record["user"] == "u1"
    assert "hunter2" not in log_stream.getvalue()


def test_configuring_twice_does_not_duplicate_lines(log_stream: io.StringIO) -> None:
    configure_logging("review", "INFO", stream=log_stream)
    logging.getLogger("review").info("once")
    assert len(_lines(log_stream)) == 1


def test_exceptions_are_logged_with_traceback(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("bad state")
    except ValueError:
        logging.getLogger("review").exception("failed")
    (record,) = _lines(log_stream)
    assert "ValueError: bad state" in str(record["exc_info"])


def test_debug_level_does_not_log_amqp_frames() -> None:
    # aiormq logs every frame (message bodies with reset tokens and OTPs) at DEBUG.
    stream = io.StringIO()
    configure_logging("review", "DEBUG", stream=stream)
    try:
        logging.getLogger("aiormq.connection").debug("frame body: otp=739154")
        logging.getLogger("aio_pika.queue").debug("message body: token=abc")
        logging.getLogger("review.handlers").debug("own debug line")
    finally:
        configure_logging("review", "INFO")
    assert "739154" not in stream.getvalue()
    assert "token=abc" not in stream.getvalue()
    assert "own debug line" in stream.getvalue()
