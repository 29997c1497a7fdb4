"""OpenTelemetry tracing: provider setup, FastAPI/httpx instrumentation and W3C trace-context propagation.

The tracer provider is process-wide by OpenTelemetry's design, so `configure_tracing` installs it once per
process; later calls (tests build many apps) keep the first provider. Spans are exported over OTLP/HTTP only
when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise they are still created (so logs carry trace ids and
trace context still propagates downstream) but go nowhere.

What a configuration does not use is not imported (startup CPU, issue 14; docs/adr/0024-*.md): the OTLP
exporter only when an endpoint is set, and the httpx instrumentation only in a service that calls out through
httpx, which says so with `instrument_httpx()` (the storefront's gateway client, order's Stripe client).

A public edge (the gateway) does not continue a client's trace: `instrument_app(app, public_edge=True)`
removes `traceparent`, `tracestate` and `baggage` before OpenTelemetry reads them, so every request starts a
trace of our own (our trace id, our sampling decision, no client baggage forwarded to services), and a
well-formed client `traceparent` is kept only as a span link for debugging (docs/adr/0022-*.md).

A public edge also decides each request's sampling itself, before OpenTelemetry's server middleware
(`UnsampledRequestBypass`): that middleware builds the request's attributes, extracts context, wraps `send`
and parses metric attributes whatever the sampler then says, which with the eks overlay's sampler (0.1) is
for nothing on nine requests in ten. The edge draws the root trace id from the provider's own id generator
and asks the provider's own sampler, exactly as the SDK would for that root span; a request not sampled runs
under a non-recording span with that trace id (logs and the downstream `traceparent` carry it, sampled flag
off), one that is sampled goes through OpenTelemetry's middleware, whose root span gets the drawn trace id
(so the sampler's decision is the same one). ADR 0024, amendment "gwtrace".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware, get_host_port_url_tuple
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from servicekit.settings import ServiceSettings

__all__ = [
    "EdgeTraceIds",
    "RootSampling",
    "UnsampledRequestBypass",
    "configure_tracing",
    "current_span_id",
    "current_trace_id",
    "extract_trace_context",
    "flush_traces",
    "inject_trace_headers",
    "instrument_app",
    "instrument_httpx",
]

# Probes and scrapes would otherwise produce a span every few seconds per pod and drown real traffic.
_UNTRACED_URLS = "/health/live$,/health/ready$,/metrics$"
_EXPORT_TIMEOUT_SECONDS = 10


def configure_tracing(settings: ServiceSettings) -> None:
    """Install the process's tracer provider (once), exporting over OTLP when an endpoint is configured."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    resource = Resource.create(
        {
            "service.name": settings.service_name,
            "deployment.environment.name": settings.environment,
        }
    )
    sampler = ParentBased(TraceIdRatioBased(settings.otel_traces_sampler_arg))
    ids = EdgeTraceIds()
    provider = TracerProvider(resource=resource, sampler=sampler, id_generator=ids)
    if settings.otel_exporter_otlp_endpoint:
        # Imported here: the exporter and its protobuf encoders cost ~0.3 s of CPU and ~3.8 MiB, for nothing
        # in a process that exports no spans (tests, the local stack without a collector).
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(
                    endpoint=_traces_endpoint(settings.otel_exporter_otlp_endpoint),
                    timeout=_EXPORT_TIMEOUT_SECONDS,
                )
            )
        )
    trace.set_tracer_provider(provider)
    global _process_root_sampling  # one per process, like the provider it describes
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true":
        _process_root_sampling = RootSampling(
            provider=provider,
            sampler=sampler,
            ids=ids,
            samples_every_root=settings.otel_traces_sampler_arg >= 1.0,
        )


def instrument_httpx() -> None:
    """Trace every outgoing httpx call of the process (a client span, trace context in its headers); once.

    Called by a service that calls out through httpx, when it builds that client. The instrumentation (and
    httpx) cost ~0.3 s of CPU to import, which the services that never use httpx no longer pay at startup;
    the gateway's downstream hop is its own HTTP links (gateway_service.adapters.http_link) and opens its
    own client spans (ADR 0024).
    """
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def _traces_endpoint(base: str) -> str:
    # OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL by specification; the exporter only appends the
    # signal path itself when it reads the variable on its own, which it does not when given `endpoint=`.
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def flush_traces(timeout_seconds: float = 5.0) -> None:
    """Export spans still buffered (called at shutdown so the last requests' traces are not lost)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(timeout_millis=int(timeout_seconds * 1000))


def instrument_app(app: FastAPI, *, public_edge: bool = False) -> None:
    """Trace every request except probes and scrapes; the span wraps the whole middleware stack.

    One server span per request: the instrumentation's extra internal spans for each ASGI `receive` and
    `send` message (two or three per request) say nothing the server span does not, and cost a measurable
    share of every service's per-request CPU (docs/benchmarks.md, gateway overhead).
    With `public_edge`, incoming trace context is not trusted (see the module docstring).
    """
    if not public_edge:
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls=_UNTRACED_URLS, exclude_spans=["receive", "send"]
        )
        return
    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls=_UNTRACED_URLS,
        exclude_spans=["receive", "send"],
        server_request_hook=_link_client_trace,
    )
    # The instrumentation builds its middleware around the app's stack; the header filter must sit outside
    # it, or OpenTelemetry would already have extracted the client's context.
    instrumented = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return UntrustedTraceContextMiddleware(_bypass_unsampled(instrumented()))

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def _bypass_unsampled(stack: ASGIApp) -> ASGIApp:
    # The instrumentation's stack is ServerErrorMiddleware -> OpenTelemetryMiddleware -> ...; the sampling
    # decision goes right in front of OpenTelemetry's middleware. Another shape is left as it is.
    if isinstance(stack, ServerErrorMiddleware) and isinstance(stack.app, OpenTelemetryMiddleware):
        stack.app = UnsampledRequestBypass(stack.app)
    return stack


# The root trace id a public edge drew and had sampled for the request it is serving: the id generator hands
# it to the SDK for that request's server span (the next root span started in the request's context).
_drawn_trace_id: ContextVar[int | None] = ContextVar("gigstack_drawn_trace_id", default=None)


class EdgeTraceIds(RandomIdGenerator):
    """The SDK's random ids, except a root trace id the edge already drew, handed out once in its request."""

    def generate_trace_id(self) -> int:
        drawn = _drawn_trace_id.get()
        if drawn is not None:
            _drawn_trace_id.set(None)
            return drawn
        return super().generate_trace_id()

    def draw_trace_id(self) -> int:
        return super().generate_trace_id()


@dataclass(frozen=True)
class RootSampling:
    """The provider `configure_tracing` installed, with its sampler and id generator."""

    provider: TracerProvider
    sampler: Sampler
    ids: EdgeTraceIds
    # A ratio of 1 (minikube, the benchmark's default): every root is sampled, nothing to decide up front.
    samples_every_root: bool = False


_process_root_sampling: RootSampling | None = None
_EMPTY_CONTEXT = Context()


class UnsampledRequestBypass:
    """A public edge's root sampling decision, taken before OpenTelemetry's server middleware (`app`).

    Sampled: the request goes through the middleware, whose server span gets the trace id drawn here.
    Not sampled: the middleware's inner app runs under a non-recording span with the drawn trace id and a
    fresh span id (what the SDK would have made of it), so logs, the request context and the downstream
    `traceparent` see the same ids and flags as before, without the attributes, context extraction, `send`
    wrapper and metric bookkeeping the middleware spends on a span that records nothing. Left to the
    middleware as before: excluded URLs, suppressed instrumentation, a request already inside a span (the
    middleware would start an internal child), and a process whose tracer provider is not the one
    `configure_tracing` installed (`sampling` is for tests that bring their own).
    """

    def __init__(self, app: OpenTelemetryMiddleware, sampling: RootSampling | None = None) -> None:
        self.app = app
        self._sampling = sampling

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sampling = self._sampling or _process_root_sampling
        if (
            sampling is None
            or sampling.samples_every_root
            or scope["type"] != "http"
            or (self._sampling is None and trace.get_tracer_provider() is not sampling.provider)
            or not is_http_instrumentation_enabled()
            or trace.get_current_span().get_span_context().is_valid
        ):
            await self.app(scope, receive, send)
            return
        excluded = self.app.excluded_urls
        # The URL the middleware itself checks against its excluded URLs (the function is untyped).
        url = get_host_port_url_tuple(scope)[2]  # type: ignore[no-untyped-call]
        if excluded is not None and excluded.url_disabled(url):
            await self.app(scope, receive, send)
            return
        ids = sampling.ids
        trace_id = ids.draw_trace_id()
        verdict = sampling.sampler.should_sample(_EMPTY_CONTEXT, trace_id, "HTTP", SpanKind.SERVER)
        if verdict.decision is not Decision.DROP:  # recorded (sampled or not): the middleware's span
            drawn = _drawn_trace_id.set(trace_id)
            try:
                await self.app(scope, receive, send)
            finally:
                _drawn_trace_id.reset(drawn)
            return
        flags = TraceFlags.DEFAULT | (TraceFlags.RANDOM_TRACE_ID if ids.is_trace_id_random() else 0)
        unsampled = SpanContext(
            trace_id,
            ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=verdict.trace_state,
        )
        with trace.use_span(NonRecordingSpan(unsampled), end_on_exit=False):
            await self.app.app(scope, receive, send)


_CLIENT_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
CLIENT_TRACE_SCOPE_KEY = "gigstack.client_trace"


class UntrustedTraceContextMiddleware:
    """Drops the client's trace headers; a valid `traceparent` is remembered in the scope for a span link.

    Honouring them would let any client choose our trace ids (joining or polluting other requests' traces),
    force sampling of every request it sends (the sampled flag), and push arbitrary baggage into every
    downstream service's context.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", ()))
        kept = [(name, value) for name, value in headers if name.lower() not in _CLIENT_TRACE_HEADERS]
        if len(kept) != len(headers):
            scope = dict(scope)
            scope["headers"] = kept
            client_traceparent = next(
                (value for name, value in headers if name.lower() == b"traceparent"), None
            )
            link = _client_span_context(client_traceparent)
            if link is not None:
                scope[CLIENT_TRACE_SCOPE_KEY] = link
        await self.app(scope, receive, send)


def _client_span_context(traceparent: bytes | None) -> SpanContext | None:
    if traceparent is None:
        return None
    match = _TRACEPARENT.match(traceparent.decode("latin-1").strip())
    if match is None:
        return None
    trace_id, span_id = int(match[1], 16), int(match[2], 16)
    if trace_id == 0 or span_id == 0:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.DEFAULT))


def _link_client_trace(span: Span, scope: dict[str, Any]) -> None:
    link = scope.get(CLIENT_TRACE_SCOPE_KEY)
    if isinstance(link, SpanContext) and span.is_recording():
        span.add_link(link, {"gigstack.link": "client"})


def inject_trace_headers(headers: dict[str, Any]) -> None:
    """Add W3C `traceparent`/`tracestate` for the current span to outgoing headers (HTTP or AMQP)."""
    propagate.inject(headers)


class _TextOrBytesGetter(Getter[Mapping[str, Any]]):
    """Reads carrier values that may be bytes (AMQP header tables) as well as str (HTTP)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get(key)
        if value is None:
            # AMQP header names keep the publisher's case; HTTP ones are case-insensitive anyway.
            value = next((v for k, v in carrier.items() if k.lower() == key), None)
        if value is None:
            return None
        if isinstance(value, bytes | bytearray):
            return [bytes(value).decode("latin-1")]
        if isinstance(value, list | tuple):
            return [v.decode("latin-1") if isinstance(v, bytes | bytearray) else str(v) for v in value]
        return [str(value)]

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier.keys())


_getter = _TextOrBytesGetter()


def extract_trace_context(headers: Mapping[str, Any]) -> Context:
    """The remote trace context in incoming headers; use it as the parent of the span handling a message."""
    return propagate.extract(headers, getter=_getter)


def current_trace_id() -> str | None:
    """Hex trace id of the active span, or None outside any recorded trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def current_span_id() -> str | None:
    """Hex span id of the active span, or None outside any recorded trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.span_id, "016x") if span_context.is_valid else None
