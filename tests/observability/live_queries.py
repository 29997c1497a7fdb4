"""What the live tests ask the engines over their HTTP APIs (Prometheus, Alertmanager, Jaeger, OpenSearch)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
HTTP_TIMEOUT = 10.0


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    what: str,
    interval: float = 0.5,
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"after {timeout:.0f}s still waiting for {what} (last answer: {last!r})")


def _client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT, trust_env=False)


async def prometheus_query(prometheus_url: str, expr: str) -> list[dict[str, Any]]:
    """Instant query; raises on a PromQL error, so a query that does not parse fails the caller."""
    async with _client(prometheus_url) as client:
        response = await client.get("/api/v1/query", params={"query": expr})
    body = response.json()
    if body.get("status") != "success":
        raise AssertionError(f"Prometheus refused {expr!r}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def firing_alerts(prometheus_url: str, alertname: str | None = None) -> list[dict[str, str]]:
    selector = f'alertstate="firing",alertname="{alertname}"' if alertname else 'alertstate="firing"'
    return [series["metric"] for series in await prometheus_query(prometheus_url, f"ALERTS{{{selector}}}")]


async def alertmanager_alerts(alertmanager_url: str) -> list[dict[str, Any]]:
    async with _client(alertmanager_url) as client:
        response = await client.get("/api/v2/alerts", params={"active": "true"})
    response.raise_for_status()
    alerts: list[dict[str, Any]] = response.json()
    return alerts


async def jaeger_trace(jaeger_url: str, trace_id: str) -> dict[str, Any] | None:
    """The trace in Jaeger's v1 query format (spans + processes), or None while it is not there yet."""
    async with _client(jaeger_url) as client:
        response = await client.get(f"/api/traces/{trace_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    data = response.json().get("data") or []
    return data[0] if data else None


async def search_logs(opensearch_url: str, index: str, **terms: str) -> list[dict[str, Any]]:
    """Log documents whose fields equal ``terms`` (exact match on the keyword sub-fields), oldest first."""
    query = {
        "size": 100,
        "query": {"bool": {"filter": [{"term": {f"{k}.keyword": v}} for k, v in terms.items()]}},
        "sort": [{"@timestamp": "asc"}],
    }
    async with _client(opensearch_url) as client:
        await client.post(f"/{index}/_refresh")
        response = await client.post(f"/{index}/_search", json=query)
    if response.status_code == 404:  # the index appears with the first batch of logs
        return []
    response.raise_for_status()
    return [hit["_source"] for hit in response.json()["hits"]["hits"]]


def span_services(trace: dict[str, Any]) -> dict[str, str]:
    """span id -> service name of the process that recorded it."""
    processes = trace["processes"]
    return {span["spanID"]: processes[span["processID"]]["serviceName"] for span in trace["spans"]}


def tag(span: dict[str, Any], key: str) -> Any:
    return next((t["value"] for t in span.get("tags", []) if t["key"] == key), None)


def is_error_span(span: dict[str, Any]) -> bool:
    return tag(span, "error") is True or tag(span, "otel.status_code") == "ERROR"
