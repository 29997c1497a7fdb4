"""RED metrics on each app's own registry, labelled by route template; consumer and outbox metrics."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families
from servicekit.metrics import (
    ConsumerMetrics,
    HttpMetrics,
    OutboxMetrics,
    create_registry,
    get_app_registry,
    render_metrics,
)

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


def _router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/gigs")

    @router.get("/{gig_id}")
    async def get_gig(gig_id: int) -> dict[str, int]:
        return {"id": gig_id}

    @router.post("/{gig_id}/explode")
    async def explode(gig_id: int) -> None:
        raise RuntimeError("boom")

    return router


def _samples(exposition: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]


@pytest.fixture
def app(build_app: AppFactory) -> FastAPI:
    return build_app(_router(), require_internal_token=False)


async def test_requests_are_counted_by_route_template_not_raw_path(
    app: FastAPI, make_client: ClientFactory
) -> None:
    client = make_client(app)
    for gig_id in (1, 2, 3):
        assert (await client.get(f"/api/v1/gigs/{gig_id}")).status_code == 200
    await client.post("/api/v1/gigs/9/explode")
    await client.get("/no/such/route/123")

    exposition = (await client.get("/metrics")).text

    totals = {
        (labels["method"], labels["route"], labels["status"]): value
        for labels, value in _samples(exposition, "http_requests_total")
        if labels["service"] == "order"
    }
    assert totals[("GET", "/api/v1/gigs/{gig_id}", "200")] == 3
    assert totals[("POST", "/api/v1/gigs/{gig_id}/explode", "500")] == 1
    assert totals[("GET", "unmatched", "404")] == 1
    assert not any(route == "/api/v1/gigs/1" for _, route, _ in totals)

    durations = _samples(exposition, "http_request_duration_seconds_count")
    assert ({"service": "order", "method": "GET", "route": "/api/v1/gigs/{gig_id}"}, 3.0) in durations
    in_progress = _samples(exposition, "http_requests_in_progress")
    # Only the /metrics request itself is in flight while the exposition is rendered.
    assert sum(value for _, value in in_progress) == 1


async def test_metrics_exposition_has_prometheus_content_type_and_process_metrics(
    app: FastAPI, make_client: ClientFactory
) -> None:
    response = await make_client(app).get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "process_cpu_seconds_total" in response.text or "python_info" in response.text


async def test_each_app_has_its_own_registry(build_app: AppFactory, make_client: ClientFactory) -> None:
    first, second = build_app(_router()), build_app(_router())
    assert get_app_registry(first) is not get_app_registry(second)

    await make_client(first).get("/api/v1/gigs/1")
    second_exposition = render_metrics(get_app_registry(second)).decode()
    assert not [s for s in _samples(second_exposition, "http_requests_total") if s[0]["route"] != "/metrics"]


def test_consumer_metrics_record_outcomes_handling_time_and_depth() -> None:
    registry = create_registry(process_metrics=False)
    metrics = ConsumerMetrics(registry, service="notification")
    # A second consumer of the same service shares the collectors instead of failing on duplicate names.
    other = ConsumerMetrics(registry, service="notification")

    metrics.record_outcome(
        queue="notification.email", event_type="auth.account.created.v1", outcome="processed"
    )
    other.record_outcome(
        queue="notification.email", event_type="auth.account.created.v1", outcome="processed"
    )
    metrics.record_outcome(
        queue="notification.email", event_type="auth.account.created.v1", outcome="dead_lettered"
    )
    with metrics.time_handling(queue="notification.email", event_type="auth.account.created.v1"):
        pass
    metrics.set_queue_depth(queue="notification.email", messages_ready=7)

    exposition = render_metrics(registry).decode()
    consumed = {
        labels["outcome"]: value
        for labels, value in _samples(exposition, "events_consumed_total")
        if labels["queue"] == "notification.email" and labels["service"] == "notification"
    }
    assert consumed == {"processed": 2, "dead_lettered": 1}
    assert _samples(exposition, "event_handling_seconds_count")[0][1] == 1
    assert _samples(exposition, "queue_messages_ready") == [({"queue": "notification.email"}, 7.0)]


def test_outbox_metrics_record_pending_and_published() -> None:
    registry = create_registry(process_metrics=False)
    metrics = OutboxMetrics(registry, service="order")
    metrics.set_pending(4)
    metrics.record_published(3)
    metrics.record_published()

    exposition = render_metrics(registry).decode()
    assert _samples(exposition, "outbox_pending_events") == [({"service": "order"}, 4.0)]
    assert _samples(exposition, "outbox_published_total") == [({"service": "order"}, 4.0)]


def test_http_metrics_count_the_same_past_the_bound_of_remembered_label_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Children are looked up once per label set, up to a bound; past it, every request is still counted."""
    monkeypatch.setattr("servicekit.metrics.MAX_REMEMBERED_LABEL_SETS", 2)
    registry = create_registry(process_metrics=False)
    metrics = HttpMetrics(registry, service="svc")
    requests = [("GET", "/a", 200), ("GET", "/a", 200), ("POST", "/b", 201), ("PUT", "/c", 409)] * 3
    for method, route, status in requests:
        metrics.observe(method=method, route=route, status=status, duration_seconds=0.01)
        for method_seen in ("GET", "BREW", "PROPFIND"):
            gauge = metrics.in_progress_gauge(method_seen)
            gauge.inc()
            gauge.dec()
    exposition = render_metrics(registry).decode()
    totals = {
        (labels["method"], labels["route"], labels["status"]): value
        for labels, value in _samples(exposition, "http_requests_total")
    }
    assert totals == {("GET", "/a", "200"): 6, ("POST", "/b", "201"): 3, ("PUT", "/c", "409"): 3}
    durations = {
        labels["route"]: value
        for labels, value in _samples(exposition, "http_request_duration_seconds_count")
    }
    assert durations == {"/a": 6, "/b": 3, "/c": 3}
    in_progress = {
        labels["method"]: value for labels, value in _samples(exposition, "http_requests_in_progress")
    }
    assert in_progress == {"GET": 0, "BREW": 0, "PROPFIND": 0}
    assert len(metrics._observed) == 2
    assert len(metrics._in_progress) == 2
