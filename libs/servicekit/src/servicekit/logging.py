"""Structured JSON logging and the request correlation id.

Every log line is one JSON object carrying the service name, the active OpenTelemetry trace/span ids and the
correlation id, so logs can be joined with traces (Tempo/Jaeger) and with the logs of other services that
handled the same client request or event chain.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "CORRELATION_ID_HEADER",
    "ServiceJsonFormatter",
    "bind_correlation_id",
    "configure_logging",
    "correlation_id_var",
    "get_correlation_id",
    "new_correlation_id",
]

CORRELATION_ID_HEADER = "X-Correlation-ID"

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Extra fields whose names suggest credentials are masked: a careless `extra={"password": p}` in a log call
# must not put a secret into a log pipeline that many people can read.
_SENSITIVE_KEY = re.compile(
    r"password|passwd|passphrase|secret|token|authorization|api[_-]?key|private[_-]?key|cookie|dsn", re.I
)
_REDACTED = "[redacted]"

# Marks the handler this module installs so repeated configuration replaces it instead of stacking handlers
# (tests build many apps in one process).
_HANDLER_MARKER = "_servicekit_json_handler"


def get_correlation_id() -> str | None:
    """The correlation id of the request or event being handled, if any."""
    return correlation_id_var.get()


def new_correlation_id() -> str:
    """A fresh correlation id for work that did not arrive with one."""
    return uuid.uuid4().hex


@contextmanager
def bind_correlation_id(correlation_id: str | None) -> Iterator[str]:
    """Set the correlation id for the enclosed block (a request, an event handler) and restore it after.

    A missing id is replaced by a fresh one so every unit of work can be followed in the logs.
    """
    value = correlation_id or new_correlation_id()
    token = correlation_id_var.set(value)
    try:
        yield value
    finally:
        correlation_id_var.reset(token)


class ServiceJsonFormatter(JsonFormatter):
    """JSON formatter adding service, trace and correlation fields, with credential-like extras masked."""

    def __init__(self, service_name: str) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
        self._service_name = service_name

    def add_fields(
        self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["service"] = self._service_name
        # Formatting runs synchronously in the logging call, so the current span and context are the caller's.
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            log_record["trace_id"] = format(span_context.trace_id, "032x")
            log_record["span_id"] = format(span_context.span_id, "016x")
        else:
            log_record["trace_id"] = None
            log_record["span_id"] = None
        log_record["correlation_id"] = correlation_id_var.get()
        # uvicorn attaches an ANSI-coloured copy of its messages; it is noise in JSON.
        log_record.pop("color_message", None)
        for key in list(log_record):
            if _SENSITIVE_KEY.search(key):
                log_record[key] = _REDACTED


_FRAME_DUMPING_LOGGERS = ("aiormq", "aio_pika", "pamqp")


def configure_logging(service_name: str, level: str = "INFO", *, stream: IO[str] | None = None) -> None:
    """Send all logging (including uvicorn's) as JSON lines to stdout; safe to call more than once.

    `stream` exists for tests; services leave it unset.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARKER, False):
            root.removeHandler(existing)
            existing.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    setattr(handler, _HANDLER_MARKER, True)
    handler.setFormatter(ServiceJsonFormatter(service_name))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn installs its own plain-text handlers unless told otherwise; route its records through ours.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # servicekit's request middleware logs every request with route template, status and duration, so
    # uvicorn's access line would only duplicate it (with the raw path).
    access_logger = logging.getLogger("uvicorn.access")
    access_logger.handlers.clear()
    access_logger.propagate = False
    # The AMQP client libraries log every frame at DEBUG, message bodies included (reset tokens, OTPs):
    # LOG_LEVEL=DEBUG must not turn the logs into a copy of the queues.
    for name in _FRAME_DUMPING_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
