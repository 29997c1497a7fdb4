"""A client that hangs up before its request is read, against the gateway served by uvicorn: a 499, never a
500 or an ERROR (what a load soak's client timeouts produced: Starlette's ClientDisconnect from the proxy's
body read). A raw socket is the client, because only a real connection can hang up mid-request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

_PATH = "/api/v1/gateway/gig/echo"


async def _statuses(gateway: httpx.AsyncClient) -> dict[str, float]:
    exposition = (await gateway.get("/metrics")).text
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["route"].endswith("/gig/echo")
    }


async def _ask_and_hang_up(gateway: httpx.AsyncClient) -> None:
    url = gateway.base_url
    _, writer = await asyncio.open_connection(url.host, url.port)
    # Gone before the gateway, still admitting the request (a Redis round trip), reads the (empty) body.
    writer.write(f"GET {_PATH} HTTP/1.1\r\nHost: gateway\r\n\r\n".encode())
    writer.close()
    await writer.wait_closed()


async def test_a_client_leaving_mid_request_is_counted_499_and_never_reaches_the_service(
    gateway: httpx.AsyncClient, upstream_log: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await _ask_and_hang_up(gateway)

    for _ in range(50):  # the server notices the hang-up asynchronously
        if await _statuses(gateway):
            break
        await asyncio.sleep(0.05)
    assert await _statuses(gateway) == {"499": 1.0}
    # Nothing reached the service: the body is read before the call, so no upstream call is left running.
    assert "/api/v1/gig/echo" not in upstream_log.paths()
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
