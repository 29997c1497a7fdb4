"""A client that disconnects while its call is at the service takes the call with it: the service sees its
connection close (test_client_disconnect_http.py covers a client gone before its body was read).

Real servers on loopback: the gateway (uvicorn) in front of a slow stand-in service (uvicorn) that holds
every request until its own client, the gateway, goes away, and records that it did. The client is a raw
socket, so closing it is a real TCP close and nothing of an HTTP client library is in the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from gigstack_testinfra.net import LOOPBACK, free_port
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Receive, Scope, Send

from .conftest import serve

pytestmark = pytest.mark.integration

# The test table's `gig.slow` operation (conftest.TEST_PUBLIC_API), answered here by the holding service.
HOLD_PATH = "/api/v1/gateway/gig/slow"
# Far longer than the test waits: without the cancellation, the gateway would still be waiting then.
DOWNSTREAM_READ_TIMEOUT_SECONDS = 30.0
NOTICED_WITHIN_SECONDS = 5.0


@dataclass
class HoldingService:
    """A service whose `/slow` answers only after its client left, and any other path at once."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    client_left: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].endswith("/slow"):
            while (await receive())["type"] != "http.disconnect":
                self.arrived.set()
            self.client_left.set()
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def holding_gateway(
    request: pytest.FixtureRequest, start_gateway: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, HoldingService]]:
    """The gateway (front dispatch on or off, `request.param`) with the holding service as gig."""
    service = HoldingService()
    async with serve(service, free_port(), lifespan="off") as service_url:
        gateway = await start_gateway(
            gig_service_url=service_url,
            downstream_read_timeout_seconds=DOWNSTREAM_READ_TIMEOUT_SECONDS,
            front_dispatch=request.param,
        )
        yield gateway, service


@pytest.mark.parametrize("holding_gateway", [True, False], ids=["front-dispatch", "fastapi"], indirect=True)
async def test_a_client_leaving_mid_request_closes_the_call_to_the_service(
    holding_gateway: tuple[httpx.AsyncClient, HoldingService],
) -> None:
    gateway, service = holding_gateway
    reader, writer = await asyncio.open_connection(gateway.base_url.host, gateway.base_url.port)
    writer.write(f"GET {HOLD_PATH} HTTP/1.1\r\nHost: {LOOPBACK}\r\n\r\n".encode())
    await writer.drain()
    async with asyncio.timeout(NOTICED_WITHIN_SECONDS):
        await service.arrived.wait()  # the call reached the service, which holds it
    writer.close()
    await writer.wait_closed()

    async with asyncio.timeout(NOTICED_WITHIN_SECONDS):
        await service.client_left.wait()
    # Recorded as a request whose client closed it, not as an error or an answer.
    for _ in range(50):
        if await _hold_statuses(gateway):
            break
        await asyncio.sleep(0.05)
    assert await _hold_statuses(gateway) == {"499": 1.0}
    # The gateway and its pool still serve the next client.
    answer = await gateway.get("/api/v1/gateway/gig/echo")
    assert (answer.status_code, answer.text) == (200, "ok")
    del reader


async def _hold_statuses(gateway: httpx.AsyncClient) -> dict[str, float]:
    exposition = (await gateway.get("/metrics")).text
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["route"].endswith("/gig/slow")
    }
