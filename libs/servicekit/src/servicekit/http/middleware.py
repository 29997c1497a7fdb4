"""ASGI middleware every service app runs: RED metrics, correlation id, request log and the last-resort 500.

Written as plain ASGI (not Starlette's BaseHTTPMiddleware) so streaming responses are not buffered and context
variables set here are visible to the endpoint and to the handlers of errors raised in it.
"""

from __future__ import annotations

import logging
import re
import time

from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.errors import internal_error_response, log_unexpected_error
from servicekit.logging import CORRELATION_ID_HEADER, bind_correlation_id
from servicekit.metrics import HttpMetrics

__all__ = [
    "CLIENT_CLOSED_REQUEST",
    "HttpMetricsMiddleware",
    "RequestContextMiddleware",
    "route_template",
    "sanitized_correlation_id",
]

logger = logging.getLogger("servicekit.http.access")

# Incoming ids are echoed into logs and headers; anything but a short token-like string is replaced, which
# keeps log lines unforgeable and header values valid.
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes arrive every few seconds from every kubelet/Prometheus; logging them is noise.
_QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
UNMATCHED_ROUTE = "unmatched"
# nginx's "client closed request": the client left before the answer, so no status was ever sent. Counted
# apart from 5xx because a client that went away (a cancelled upload, a closed tab) is not a server error.
CLIENT_CLOSED_REQUEST = 499
# Set in the scope by RequestContextMiddleware (inner) for HttpMetricsMiddleware (outer) to read: the scope
# dict is shared down the stack, and no response message exists to carry the status.
_CLIENT_CLOSED_SCOPE_KEY = "gigstack.client_closed"


def sanitized_correlation_id(value: str | None) -> str | None:
    """`value` when it is a safe correlation id to log and echo, else None (the caller generates one)."""
    return value if value and _VALID_CORRELATION_ID.match(value) else None


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/v1/gigs/{gig_id}`), never the raw path.

    Raw paths would create one time series per id and let any client inflate the metrics store; requests that
    matched no route share one label.
    """
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class HttpMetricsMiddleware:
    """Counts requests and measures latency per method, route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        status = 500
        started = time.perf_counter()

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        # inc/dec around the call rather than `metrics.in_progress()`: a generator context manager per request
        # for the same two calls.
        in_progress = self.metrics.in_progress_gauge(method)
        in_progress.inc()
        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            in_progress.dec()
            if scope.get(_CLIENT_CLOSED_SCOPE_KEY):
                status = CLIENT_CLOSED_REQUEST
            self.metrics.observe(
                method=method,
                route=route_template(scope),
                status=status,
                duration_seconds=time.perf_counter() - started,
            )


class RequestContextMiddleware:
    """Binds the correlation id (`X-Correlation-ID` in and out), logs each request, turns crashes into 500s.

    Unexpected exceptions are answered here rather than by Starlette's outermost error middleware so the
    response still carries the correlation id and the log record still has the request's trace and ids.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, CORRELATION_ID_HEADER.lower().encode())
        with bind_correlation_id(sanitized_correlation_id(incoming)) as correlation_id:
            scope.setdefault("state", {})["correlation_id"] = correlation_id
            response_started = False
            status = 500
            started = time.perf_counter()

            async def send_with_correlation_id(message: Message) -> None:
                nonlocal response_started, status
                if message["type"] == "http.response.start":
                    response_started = True
                    status = message["status"]
                    MutableHeaders(scope=message)[CORRELATION_ID_HEADER] = correlation_id
                await send(message)

            try:
                await self.app(scope, receive, send_with_correlation_id)
            except ClientDisconnect:
                # Raised when the app reads the body of a request whose client already left: nothing to
                # answer and nobody to answer to, and no fault of ours, so no ERROR, no traceback, no 500.
                status = CLIENT_CLOSED_REQUEST
                scope[_CLIENT_CLOSED_SCOPE_KEY] = True
                trace.get_current_span().set_attribute("http.response.status_code", status)
                logger.info(
                    "client closed the request before the answer",
                    extra={"http_method": scope["method"], "http_route": route_template(scope)},
                )
            except Exception as error:
                log_unexpected_error(scope["method"], scope["path"], error)
                if response_started:
                    # Headers are gone; the server can only drop the connection.
                    raise
                await internal_error_response()(scope, receive, send_with_correlation_id)
            finally:
                if scope["path"] not in _QUIET_PATHS:
                    logger.info(
                        "request handled",
                        extra={
                            "http_method": scope["method"],
                            "http_route": route_template(scope),
                            "http_status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        },
                    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
