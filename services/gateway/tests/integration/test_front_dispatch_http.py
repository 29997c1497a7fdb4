"""The front dispatch answers exactly as FastAPI's routing does (entrypoints/front_dispatch.py).

Two gateways served by uvicorn share the same Redis, upstreams and settings; one has the front dispatch on
(the default), the other `FRONT_DISPATCH=false`. Each request goes to both, and everything a client, a
service, Prometheus, the logs and the trace backend see must be the same: status, body, headers (CORS,
correlation id, Retry-After, WWW-Authenticate), what reached the service (principal, forwarded headers),
the metric samples (route template label), the access-log fields and the server span (name, kind,
attributes, status, links, the client span under it and the trace context sent downstream). A spy on
FastAPI's router proves the dispatched requests never reached it, so these tests fail without the dispatch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRouter
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from .conftest import ALICE_PASSWORD, KNOWN_DEVICE, GatewayStarter, UpstreamLog

pytestmark = pytest.mark.integration

GW = "/api/v1/gateway"
ORIGIN = "https://app.example.com"  # allowed by the fixture's CORS_ORIGINS
_VARYING_HEADERS = frozenset({"date", "server"})
# Span attributes that name the connection (each gateway has its own port, each request its own client port).
_CONNECTION_ATTRIBUTES = frozenset(
    {
        "server.port",
        "net.host.port",
        "client.port",
        "net.peer.port",
        "http.host",
        "http.url",
        "url.full",
        "http.server_name",
    }
)


@dataclass
class RouterSpy:
    """Requests under the public prefix that reached FastAPI's router (the dispatch bypasses it)."""

    paths: list[str]


@pytest.fixture
def router_spy(monkeypatch: pytest.MonkeyPatch) -> RouterSpy:
    spy = RouterSpy(paths=[])
    original = APIRouter.__call__

    async def counting(self: APIRouter, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(GW):
            spy.paths.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(APIRouter, "__call__", counting)
    return spy


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@dataclass
class Pair:
    fast: httpx.AsyncClient
    slow: httpx.AsyncClient


@pytest.fixture
async def pair(start_gateway: GatewayStarter) -> Pair:
    # INFO: the access log is part of what must match.
    return Pair(
        fast=await start_gateway(log_level="INFO"),
        slow=await start_gateway(log_level="INFO", front_dispatch=False),
    )


@dataclass
class Seen:
    """One answer and everything it left behind."""

    status: int
    body: bytes
    headers: dict[str, str]
    upstream: list[tuple[str, Any, dict[str, str]]]
    access_log: list[dict[str, Any]]
    server_spans: list[dict[str, Any]]
    routed_by_fastapi: bool


def _upstream_calls(log: UpstreamLog, since: int) -> list[tuple[str, Any, dict[str, str]]]:
    calls = []
    for path, principal, headers in log.calls[since:]:
        claims = {k: v for k, v in principal.claims.items() if k not in ("jti", "iat", "exp", "nbf")}
        calls.append(
            (
                path,
                (principal.subject, principal.session_id, claims),
                {k: v for k, v in headers.items() if k != "traceparent"},
            )
        )
    return calls


def _span_view(span: ReadableSpan, all_spans: list[ReadableSpan]) -> dict[str, Any]:
    children = [
        (child.name, child.kind, dict(child.attributes or {}))
        for child in all_spans
        if child.parent is not None and child.parent.span_id == span.context.span_id
    ]
    return {
        "name": span.name,
        "kind": span.kind,
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
        "attributes": {k: v for k, v in (span.attributes or {}).items() if k not in _CONNECTION_ATTRIBUTES},
        "status": span.status.status_code,
        "links": [
            (format(link.context.trace_id, "032x"), dict(link.attributes or {})) for link in span.links
        ],
        "events": [event.name for event in span.events],
        "parent": span.parent is not None,
        "children": children,
    }


async def _send(
    client: httpx.AsyncClient,
    request: dict[str, Any],
    log: UpstreamLog,
    spy: RouterSpy,
    exporter: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> Seen:
    exporter.clear()
    caplog.clear()
    calls_before, routed_before = len(log.calls), len(spy.paths)
    answer = await client.request(**request)
    finished = list(exporter.get_finished_spans())
    gateway_spans = [
        span
        for span in finished
        if span.kind == SpanKind.SERVER
        and span.instrumentation_scope is not None
        and span.instrumentation_scope.name == "opentelemetry.instrumentation.fastapi"
    ]
    upstream = _upstream_calls(log, calls_before)
    # The trace context sent downstream belongs to the gateway's own server span.
    for (_, _, headers), span in zip(log.calls[calls_before:], gateway_spans, strict=False):
        assert headers["traceparent"].split("-")[1] == format(span.context.trace_id, "032x")
    access = [
        {
            key: getattr(record, key, None)
            for key in ("http_method", "http_route", "http_status", "correlation_id")
        }
        | {"has_duration": isinstance(getattr(record, "duration_ms", None), float)}
        for record in caplog.records
        if record.name == "servicekit.http.access"
    ]
    return Seen(
        status=answer.status_code,
        body=answer.content,
        # A redirect names the server's own address, which differs between the two.
        headers={
            k: v.replace(str(client.base_url).rstrip("/"), "") if k == "location" else v
            for k, v in answer.headers.items()
            if k not in _VARYING_HEADERS
        },
        upstream=upstream,
        access_log=access,
        server_spans=[_span_view(span, finished) for span in gateway_spans],
        routed_by_fastapi=len(spy.paths) > routed_before,
    )


async def _signin(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        f"{GW}/auth/signin",
        json={"email_or_username": "alice", "password": ALICE_PASSWORD},
        headers={"X-Device-Id": KNOWN_DEVICE},
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _requests(token: str) -> list[tuple[dict[str, Any], bool]]:
    """(request, whether the dispatch answers it); a correlation id per request makes answers comparable."""
    bearer = {"Authorization": f"Bearer {token}"}
    cors = {"Origin": ORIGIN}
    big = b'{"x":"' + b"y" * 5000 + b'"}'
    cases: list[tuple[dict[str, Any], bool]] = [
        ({"method": "GET", "url": f"{GW}/auth/me", "headers": {**bearer, **cors}}, True),
        ({"method": "GET", "url": f"{GW}/auth/me", "headers": cors}, True),  # 401 missing_token
        ({"method": "GET", "url": f"{GW}/auth/me", "headers": {"Authorization": "Bearer nope"}}, True),
        ({"method": "GET", "url": f"{GW}/gig/echo?a=1&a=2&b=%20x", "headers": {}}, True),  # Retry-After
        ({"method": "GET", "url": f"{GW}/gig/echo", "headers": {**bearer, "Origin": "https://evil"}}, True),
        ({"method": "GET", "url": f"{GW}/gig/items/a%20b", "headers": bearer}, True),  # a template
        (
            {
                "method": "POST",
                "url": f"{GW}/gig/echo",
                "content": b'{"a":1}',
                "headers": {**bearer, "Content-Type": "application/json", **cors},
            },
            True,
        ),
        (
            {
                "method": "POST",
                "url": f"{GW}/gig/echo",
                "content": big,
                "headers": {"Content-Type": "application/json", **cors},
            },
            True,
        ),  # 413 (limit 4096)
        (
            {
                "method": "PUT",
                "url": f"{GW}/gig/echo",
                "content": b'{"a":"\\u0000"}',
                "headers": {"Content-Type": "application/json"},
            },
            True,
        ),  # 422 nul_character
        ({"method": "DELETE", "url": f"{GW}/gig/echo", "headers": {}}, True),  # 401: session required
        ({"method": "DELETE", "url": f"{GW}/gig/echo", "headers": bearer}, True),
        ({"method": "GET", "url": f"{GW}/gig/boom", "headers": {}}, True),  # 502
        ({"method": "GET", "url": f"{GW}/gig/missing", "headers": {}}, True),  # 404 passed through
        ({"method": "GET", "url": f"{GW}/users/me", "headers": bearer}, True),  # 503: no users URL
        (
            {
                "method": "GET",
                "url": f"{GW}/gig/echo",
                "headers": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            },
            True,
        ),  # the client's trace is a link, not the parent
        # FastAPI's to answer, through either gateway:
        ({"method": "GET", "url": f"{GW}/gig/echo", "headers": {"X-Device-Id": "has space"}}, False),
        (
            {
                "method": "OPTIONS",
                "url": f"{GW}/gig/echo",
                "headers": {**cors, "Access-Control-Request-Method": "POST"},
            },
            False,
        ),
        ({"method": "PATCH", "url": f"{GW}/gig/echo", "headers": {}}, False),  # 405
        ({"method": "HEAD", "url": f"{GW}/gig/items/i-1", "headers": {}}, False),  # 405: GET only
        ({"method": "GET", "url": f"{GW}/gig/nothing-here", "headers": {}}, False),  # 404
        ({"method": "GET", "url": f"{GW}/auth/me/", "headers": bearer}, False),  # a trailing slash
    ]
    for number, (request, _) in enumerate(cases):
        request["headers"] = {**request["headers"], "X-Correlation-ID": f"cmp-{number}"}
    return cases


async def test_every_answer_and_its_telemetry_are_the_same_with_and_without_the_dispatch(
    pair: Pair,
    upstream_log: UpstreamLog,
    router_spy: RouterSpy,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    token = await _signin(pair.slow)
    statuses = []
    for request, dispatched in _requests(token):
        fast = await _send(pair.fast, request, upstream_log, router_spy, spans, caplog)
        slow = await _send(pair.slow, request, upstream_log, router_spy, spans, caplog)
        where = (request["method"], request["url"])
        # Dispatched: FastAPI's router never saw it; otherwise both took the same way.
        assert fast.routed_by_fastapi == (slow.routed_by_fastapi and not dispatched), where
        assert (fast.status, fast.body, fast.headers) == (slow.status, slow.body, slow.headers), where
        assert fast.upstream == slow.upstream, where
        assert fast.access_log == slow.access_log, where
        assert fast.server_spans == slow.server_spans, where
        assert len(fast.server_spans) == 1, where
        statuses.append(fast.status)
    # The cases cover what they claim to.
    dispatched_statuses = [200, 401, 401, 200, 200, 200, 200, 413, 422, 401, 200, 502, 404, 503, 200]
    assert statuses == [*dispatched_statuses, 422, 200, 405, 405, 404, 307]

    # Both registries counted the same requests under the same labels (route template, never a raw path).
    assert await _samples(pair.fast) == await _samples(pair.slow)
    templates = {labels[1] for labels, _ in (await _samples(pair.fast)).items()}
    assert f"{GW}/gig/items/{{item_id}}" in templates
    assert "unmatched" in templates  # the NUL guard's 422 and the 404
    assert not any("a%20b" in template or "i-1" in template for template in templates)


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, ...], float]:
    """Request counts and duration counts per (name, route, method, status), "unmatched" included."""
    exposition = (await client.get("/metrics")).text
    samples: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            route = sample.labels.get("route", "")
            if route in ("", "/metrics") or route.endswith("/signin"):
                continue
            if sample.name in ("http_requests_total", "http_request_duration_seconds_count"):
                key = (sample.name, route, sample.labels["method"], sample.labels.get("status", ""))
                samples[key] = sample.value
    return samples


async def test_rate_limit_answers_match_with_retry_after(start_gateway: GatewayStarter) -> None:
    # Both gateways count on the same Redis keys: the budget runs out for both at once.
    fast = await start_gateway(rate_limit_per_ip_per_minute=3)
    slow = await start_gateway(rate_limit_per_ip_per_minute=3, front_dispatch=False)
    headers = {"X-Correlation-ID": "limit", "Origin": ORIGIN}
    answers = []
    for _ in range(3):
        answers.append(await fast.get(f"{GW}/gig/echo", headers=headers))
        answers.append(await slow.get(f"{GW}/gig/echo", headers=headers))
    fast_429, slow_429 = answers[-2:]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    assert fast_429.json() == slow_429.json()
    assert abs(int(fast_429.headers["retry-after"]) - int(slow_429.headers["retry-after"])) <= 1
    same = {k: v for k, v in fast_429.headers.items() if k not in _VARYING_HEADERS | {"retry-after"}}
    assert same == {k: v for k, v in slow_429.headers.items() if k not in _VARYING_HEADERS | {"retry-after"}}
    assert "retry-after" in fast_429.headers.get("access-control-expose-headers", "").lower()
