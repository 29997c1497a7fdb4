"""The server span of a dispatched request in one lean layer (ADR 0024, amendment "gwasgi", step 2).

In the front dispatch's stack, OpenTelemetry's ASGI middleware and servicekit's trace boundary in front of it
cost ~0.16 ms of CPU per proxied read in-process (against ~0.03 ms for metrics and request context
together, docs/benchmarks.md): besides creating the span, the generic middleware sets every attribute twice,
filters attributes for its own metrics (a no-op here: the gateway sets no OpenTelemetry meter provider),
wraps `send` with `functools.wraps`, looks headers up by decoding every header name each time, and the
trace boundary copies the scope in a layer of its own.

`LeanServerSpan` produces the same span with the same calls into OpenTelemetry where the values come from:
`collect_request_attributes` (the instrumentation's own function) plus `http.route`, the same context
extraction (`asgi_getter`, after the client's trace headers are dropped exactly as
`UntrustedTraceContextMiddleware` drops them), the same span name, kind, start and end, the same
`server_request_hook` (the client-trace link), `set_status_code` on the response start, the global
response propagator, the excluded-URL check, and `trace.use_span` around the rest of the stack (which
records an escaping exception as the middleware's does). It is used only where it can be the same: the
default (old) HTTP semantic conventions, no request or response header capture, no per-message spans and
no OpenTelemetry meter provider; otherwise the dispatch keeps a copy of the instrumentation's middleware.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context, metrics, trace
from opentelemetry.instrumentation._semconv import _StabilityMode
from opentelemetry.instrumentation.asgi import (
    OpenTelemetryMiddleware,
    asgi_getter,
    asgi_setter,
    collect_request_attributes,
    get_host_port_url_tuple,
    set_status_code,
)
from opentelemetry.instrumentation.propagators import get_global_response_propagator
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, set_span_in_context
from servicekit.tracing import without_client_trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LeanServerSpan", "lean_span_applies"]

SpanDetails = Any  # Callable[[Scope], tuple[str, dict[str, str]]]


def lean_span_applies(middleware: OpenTelemetryMiddleware) -> bool:
    """Whether `LeanServerSpan` gives exactly what this instance of the middleware gives."""
    provider = metrics.get_meter_provider()
    return (
        getattr(middleware, "_sem_conv_opt_in_mode", None) is _StabilityMode.DEFAULT
        and not middleware.http_capture_headers_server_request
        and not middleware.http_capture_headers_server_response
        and middleware.exclude_receive_span
        and middleware.exclude_send_span
        # Without a meter provider the middleware's own metrics are no-ops.
        and type(provider).__name__ in ("_ProxyMeterProvider", "NoOpMeterProvider")
    )


class LeanServerSpan:
    """Trace boundary + server span for dispatched requests (module docstring); `app` is the next layer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        middleware: OpenTelemetryMiddleware,
        span_details: SpanDetails,
    ) -> None:
        self.app = app
        self._tracer = middleware.tracer
        self._excluded_urls = middleware.excluded_urls
        self._request_hook = middleware.server_request_hook
        self._span_details = span_details

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The trace boundary as UntrustedTraceContextMiddleware applies it (a copy of the scope without the
        # client's trace headers, a valid traceparent kept for the link), without a layer of its own.
        scope = without_client_trace(scope)
        if not is_http_instrumentation_enabled():
            await self.app(scope, receive, send)
            return
        if self._excluded_urls:
            _, _, url = get_host_port_url_tuple(scope)  # type: ignore[no-untyped-call]
            if self._excluded_urls.url_disabled(url):
                await self.app(scope, receive, send)
                return
        span_name, route_attributes = self._span_details(scope)
        attributes = collect_request_attributes(scope, _StabilityMode.DEFAULT)  # type: ignore[no-untyped-call]
        attributes.update(route_attributes)
        token = None
        if trace.get_current_span() is trace.INVALID_SPAN:
            parent = extract(scope, getter=asgi_getter)  # type: ignore[misc]
            token = context.attach(parent)
            kind = SpanKind.SERVER
        else:
            parent = context.get_current()
            kind = SpanKind.INTERNAL
        span = self._tracer.start_span(name=span_name, context=parent, kind=kind, attributes=attributes)

        async def traced_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_status_code(  # type: ignore[no-untyped-call]
                    span, message["status"], attributes, _StabilityMode.DEFAULT
                )
            propagator = get_global_response_propagator()  # type: ignore[no-untyped-call]
            if propagator:
                propagator.inject(
                    message,
                    context=set_span_in_context(span, context.Context()),
                    setter=asgi_setter,
                )
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                span.end()

        try:
            with trace.use_span(span, end_on_exit=False) as current:
                if callable(self._request_hook):
                    self._request_hook(current, scope)
                await self.app(scope, receive, traced_send)
        finally:
            if token:
                context.detach(token)
            if span.is_recording():
                span.end()
