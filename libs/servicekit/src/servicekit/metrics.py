"""Prometheus metrics: HTTP RED metrics, event-consumer and outbox metrics, all on a per-app registry.

A registry per app (instead of prometheus-client's global one) lets tests build many apps in one process and
keeps `/metrics` of one app free of another's series. The collector objects are created once per registry and
reused, so several consumers or relays of one service can each build their own `ConsumerMetrics`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.applications import Starlette

__all__ = [
    "CONTENT_TYPE_LATEST",
    "ConsumerMetrics",
    "ConsumerOutcome",
    "HttpMetrics",
    "OutboxMetrics",
    "create_registry",
    "get_app_registry",
    "render_metrics",
]

ConsumerOutcome = Literal["processed", "failed", "retried", "handed_back", "dead_lettered", "duplicate"]

# Latency buckets sized for internal APIs: most calls are milliseconds, timeouts are seconds.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# How many label sets HttpMetrics keeps its children for (routes are templates; methods come from clients).
MAX_REMEMBERED_LABEL_SETS = 4096
_HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_CollectorT = TypeVar("_CollectorT", bound=Collector)
_collectors_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, Collector]] = (
    weakref.WeakKeyDictionary()
)


def _shared_collector(
    registry: CollectorRegistry, name: str, build: Callable[[], _CollectorT]
) -> _CollectorT:
    """Return the collector called `name` on `registry`, building it the first time it is asked for."""
    collectors = _collectors_by_registry.setdefault(registry, {})
    existing = collectors.get(name)
    if existing is None:
        existing = build()
        collectors[name] = existing
    return existing  # type: ignore[return-value]


def create_registry(*, process_metrics: bool = True) -> CollectorRegistry:
    """A fresh registry, with the process/runtime collectors a scrape of one service process should show."""
    registry = CollectorRegistry(auto_describe=True)
    if process_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry


def get_app_registry(app: Starlette) -> CollectorRegistry:
    """The registry `create_service_app` attached to `app` (lifespan hooks build consumer metrics on it)."""
    registry = getattr(app.state, "metrics_registry", None)
    if not isinstance(registry, CollectorRegistry):
        raise LookupError("app has no metrics registry; build it with servicekit.http.create_service_app")
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus text exposition format (serve with `CONTENT_TYPE_LATEST`)."""
    return generate_latest(registry)


class HttpMetrics:
    """RED metrics for the HTTP server; `route` is the route template, never the raw path (bounded labels)."""

    def __init__(self, registry: CollectorRegistry, *, service: str) -> None:
        self.service = service
        self.requests_total = _shared_collector(
            registry,
            "http_requests_total",
            lambda: Counter(
                "http_requests_total",
                "HTTP requests handled, by route template and status code.",
                ["service", "method", "route", "status"],
                registry=registry,
            ),
        )
        self.request_duration_seconds = _shared_collector(
            registry,
            "http_request_duration_seconds",
            lambda: Histogram(
                "http_request_duration_seconds",
                "Time from request start to the end of the response body.",
                ["service", "method", "route"],
                buckets=_HTTP_BUCKETS,
                registry=registry,
            ),
        )
        self.requests_in_progress = _shared_collector(
            registry,
            "http_requests_in_progress",
            lambda: Gauge(
                "http_requests_in_progress",
                "HTTP requests currently being handled.",
                ["service", "method"],
                registry=registry,
            ),
        )

        # The children of each label set, looked up once: `labels()` validates, stringifies and takes a lock
        # on every call, three times per request (docs/benchmarks.md, "Gateway overhead, fourth pass"). The
        # same children prometheus-client keeps itself, so the series and values are identical; bounded,
        # because the method label comes from the client (past the bound, `labels()` as before).
        self._observed: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._in_progress: dict[str, Gauge] = {}

    def observe(self, *, method: str, route: str, status: int, duration_seconds: float) -> None:
        key = (method, route, status)
        children = self._observed.get(key)
        if children is None:
            children = (
                self.requests_total.labels(self.service, method, route, str(status)),
                self.request_duration_seconds.labels(self.service, method, route),
            )
            if len(self._observed) < MAX_REMEMBERED_LABEL_SETS:
                self._observed[key] = children
        children[0].inc()
        children[1].observe(duration_seconds)

    def in_progress_gauge(self, method: str) -> Gauge:
        """The in-progress gauge's child for `method` (the caller increments and decrements it)."""
        gauge = self._in_progress.get(method)
        if gauge is None:
            gauge = self.requests_in_progress.labels(self.service, method)
            if len(self._in_progress) < MAX_REMEMBERED_LABEL_SETS:
                self._in_progress[method] = gauge
        return gauge

    @contextmanager
    def in_progress(self, method: str) -> Iterator[None]:
        gauge = self.in_progress_gauge(method)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()


class ConsumerMetrics:
    """Metrics an event consumer records: outcomes per message, handling time and sampled queue depth."""

    def __init__(self, registry: CollectorRegistry, *, service: str) -> None:
        self.service = service
        self.events_consumed_total = _shared_collector(
            registry,
            "events_consumed_total",
            lambda: Counter(
                "events_consumed_total",
                "Events taken from a queue, by outcome (processed|failed|retried|dead_lettered|duplicate).",
                ["service", "queue", "event_type", "outcome"],
                registry=registry,
            ),
        )
        self.event_handling_seconds = _shared_collector(
            registry,
            "event_handling_seconds",
            lambda: Histogram(
                "event_handling_seconds",
                "Time spent in the event handler, including its transaction.",
                ["service", "queue", "event_type"],
                buckets=_HANDLING_BUCKETS,
                registry=registry,
            ),
        )
        self.queue_messages_ready = _shared_collector(
            registry,
            "queue_messages_ready",
            lambda: Gauge(
                "queue_messages_ready",
                "Messages waiting in the queue (consumer lag), sampled periodically.",
                ["queue"],
                registry=registry,
            ),
        )

    def record_outcome(self, *, queue: str, event_type: str, outcome: ConsumerOutcome) -> None:
        self.events_consumed_total.labels(self.service, queue, event_type, outcome).inc()

    def observe_handling(self, *, queue: str, event_type: str, seconds: float) -> None:
        self.event_handling_seconds.labels(self.service, queue, event_type).observe(seconds)

    @contextmanager
    def time_handling(self, *, queue: str, event_type: str) -> Iterator[None]:
        """Observe the duration of the enclosed handler call, whether it succeeds or raises."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe_handling(queue=queue, event_type=event_type, seconds=time.perf_counter() - started)

    def set_queue_depth(self, *, queue: str, messages_ready: int) -> None:
        self.queue_messages_ready.labels(queue).set(messages_ready)


class OutboxMetrics:
    """Metrics an outbox relay records: events still waiting to be published and events published."""

    def __init__(self, registry: CollectorRegistry, *, service: str) -> None:
        self.service = service
        self.outbox_pending_events = _shared_collector(
            registry,
            "outbox_pending_events",
            lambda: Gauge(
                "outbox_pending_events",
                "Events staged in the outbox and not yet published.",
                ["service"],
                registry=registry,
            ),
        )
        self.outbox_published_total = _shared_collector(
            registry,
            "outbox_published_total",
            lambda: Counter(
                "outbox_published_total",
                "Events published from the outbox (confirmed by the broker).",
                ["service"],
                registry=registry,
            ),
        )

        self.events_unroutable_total = _shared_collector(
            registry,
            "events_unroutable_total",
            lambda: Counter(
                "events_unroutable_total",
                "Publications the broker returned because no queue is bound for their event type.",
                ["service", "event_type"],
                registry=registry,
            ),
        )
        # The alert reads this gauge, not the counter: it exists at 0 from the first sample (a counter's
        # series appears only with its first parked event, which `increase()` cannot see), and it stays
        # up until the rows are replayed, also across restarts.
        self.outbox_parked_events = _shared_collector(
            registry,
            "outbox_parked_events",
            lambda: Gauge(
                "outbox_parked_events",
                "Outbox events set aside (parked) and not replayed yet.",
                ["service"],
                registry=registry,
            ),
        )
        self.outbox_parked_total = _shared_collector(
            registry,
            "outbox_parked_total",
            lambda: Counter(
                "outbox_parked_total",
                "Outbox events set aside after repeated failed publications while the broker was reachable.",
                ["service", "event_type"],
                registry=registry,
            ),
        )

    def record_unroutable(self, event_type: str) -> None:
        self.events_unroutable_total.labels(self.service, event_type).inc()

    def set_parked(self, count: int) -> None:
        self.outbox_parked_events.labels(self.service).set(count)

    def record_parked(self, event_type: str) -> None:
        self.outbox_parked_total.labels(self.service, event_type).inc()

    def set_pending(self, count: int) -> None:
        self.outbox_pending_events.labels(self.service).set(count)

    def record_published(self, count: int = 1) -> None:
        self.outbox_published_total.labels(self.service).inc(count)
