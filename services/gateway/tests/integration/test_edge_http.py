"""Edge behaviours: body-size limit, CORS, downstream failure mapping, generic proxy and OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from gigstack_testinfra.net import free_port

pytestmark = pytest.mark.integration


async def test_declared_oversized_body_is_413_in_the_error_shape(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/gateway/gig/echo", content=b"x" * 5000)  # limit 4096
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_a_413_echoes_only_a_safe_correlation_id(gateway: httpx.AsyncClient) -> None:
    hostile = b'x" injected="1 \xe9'
    response = await gateway.post(
        "/api/v1/gateway/gig/echo", content=b"x" * 5000, headers=[(b"X-Correlation-ID", hostile)]
    )
    assert response.status_code == 413
    echoed = response.headers["x-correlation-id"]
    assert echoed.isalnum()
    assert response.json()["error"]["correlation_id"] == echoed


async def test_a_client_trace_context_is_not_continued_downstream(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    client_trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await gateway.get(
        "/api/v1/gateway/gig/echo",
        headers={
            "traceparent": f"00-{client_trace_id}-00f067aa0ba902b7-01",
            "tracestate": "vendor=client",
            "baggage": "user_id=someone-else",
        },
    )
    assert response.status_code == 200, response.text
    _, headers = upstream_log.last("/api/v1/gig/echo")
    # The service still gets a trace context, the gateway's own.
    assert headers["traceparent"].startswith("00-")
    assert client_trace_id not in headers["traceparent"]
    assert "tracestate" not in headers
    assert "baggage" not in headers


async def _chunks(total: int, size: int = 1000) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"y" * min(size, total - sent)
        sent += size


async def test_chunked_bodies_are_limited_too(gateway: httpx.AsyncClient, upstream_log: Any) -> None:
    small = await gateway.post("/api/v1/gateway/gig/echo", content=_chunks(3000))
    assert small.status_code == 200, small.text
    assert small.json()["body_bytes"] == 3000

    calls_before = len(upstream_log.calls)
    large = await gateway.post("/api/v1/gateway/gig/echo", content=_chunks(20_000))
    assert large.status_code == 413
    assert large.json()["error"]["code"] == "payload_too_large"
    assert len(upstream_log.calls) == calls_before


async def test_cors_allows_configured_origins_only(gateway: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-device-id",
    }
    allowed = await gateway.options(
        "/api/v1/gateway/auth/signin", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"

    refused = await gateway.options(
        "/api/v1/gateway/auth/signin", headers={"Origin": "https://evil.example.net", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_generic_proxy_forwards_method_query_body_and_user(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    response = await gateway.put(
        "/api/v1/gateway/gig/echo?tag=a&tag=b",
        json={"title": "logo"},
        headers={"X-Device-Id": "dev-1", "X-Correlation-ID": "corr-proxy"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["method"] == "PUT"
    assert body["query"] == [["tag", "a"], ["tag", "b"]]
    assert body["subject"] is None  # anonymous
    assert response.headers["retry-after"] == "7"
    assert "x-internal-secret" not in response.headers
    principal, headers = upstream_log.last("/api/v1/gig/echo")
    assert principal.claims["aud"] == "gig"
    assert headers["x-device-id"] == "dev-1"
    assert headers["x-correlation-id"] == "corr-proxy"


async def test_a_body_without_content_type_reaches_the_service_without_one(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    # The client library must not invent one (aiohttp labels bodies application/octet-stream), which would
    # change how the service reads the body.
    response = await gateway.post("/api/v1/gateway/gig/echo", content=b'{"title": "logo"}')
    assert response.status_code == 200, response.text
    assert response.json()["body_bytes"] == len(b'{"title": "logo"}')
    _, headers = upstream_log.last("/api/v1/gig/echo")
    assert "content-type" not in headers
    sent = await gateway.post("/api/v1/gateway/gig/echo", json={"title": "logo"})
    assert sent.status_code == 200, sent.text
    assert upstream_log.last("/api/v1/gig/echo")[1]["content-type"] == "application/json"


async def test_path_parameters_reach_the_service_as_sent(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/gateway/gig/items/l%C3%B8go%20v2?x=1")
    assert response.status_code == 200, response.text
    assert response.json() == {"item_id": "løgo v2", "raw_path": "/api/v1/gig/items/l%C3%B8go%20v2"}


async def test_a_service_cookie_never_rides_on_another_request(gateway: httpx.AsyncClient) -> None:
    # The downstream pools are shared by every user: a Set-Cookie in one answer must not be remembered and
    # sent with the next request (httpx's client kept a cookie jar; bench/gateway_overhead/aiohttp_pool.py).
    for _ in range(3):
        response = await gateway.get("/api/v1/gateway/gig/cookie")
        assert response.status_code == 200, response.text
        assert response.json() == {"cookie": None}
        gateway.cookies.clear()  # the test client's own jar is not the gateway's
    assert "set-cookie" not in response.headers


async def test_downstream_4xx_passes_through(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/gateway/gig/missing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Gig 42 does not exist"


async def test_downstream_500_becomes_502_without_internals(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/gateway/gig/boom")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_downstream_timeout_becomes_504(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/gateway/gig/slow")  # upstream sleeps 6 s, read timeout 3 s
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "gateway_timeout"


async def test_unreachable_service_becomes_503(start_gateway: Any) -> None:
    gateway = await start_gateway(gig_service_url=f"http://127.0.0.1:{free_port()}")
    response = await gateway.get("/api/v1/gateway/gig/echo")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


async def test_group_without_a_service_is_503_and_unpublished_paths_404(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    not_deployed = await gateway.get("/api/v1/gateway/users/me", headers=await _alice_bearer(gateway))
    assert not_deployed.status_code == 503
    assert "not available yet" in not_deployed.json()["error"]["message"]
    calls_before = len(upstream_log.calls)
    for unpublished in (
        "/api/v1/gateway/payments/anything",
        "/api/v1/gateway/gig/unpublished",  # the gig service is up, but publishes no such operation
        "/api/v1/gateway/gig/%2e%2e/secret",
    ):
        response = await gateway.get(unpublished)
        assert response.status_code == 404, unpublished
        assert response.json()["error"]["code"] == "not_found"
    assert len(upstream_log.calls) == calls_before


async def _alice_bearer(gateway: httpx.AsyncClient) -> dict[str, str]:
    signin = await gateway.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "alice", "password": "correct horse battery staple"},
        headers={"X-Device-Id": "device-known"},
    )
    assert signin.status_code == 200, signin.text
    return {"Authorization": f"Bearer {signin.json()['access_token']}"}


async def test_operation_that_requires_a_session_is_401_without_one(gateway: httpx.AsyncClient) -> None:
    anonymous = await gateway.delete("/api/v1/gateway/gig/echo")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "missing_token"
    signed_in = await gateway.delete("/api/v1/gateway/gig/echo", headers=await _alice_bearer(gateway))
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["subject"] is not None


async def test_openapi_documents_the_public_routes(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    paths = set(spec["paths"])
    for route in (
        "signup",
        "signin",
        "verify-otp",
        "refresh",
        "signout",
        "verify-email",
        "resend-verification",
        "forgot-password",
        "reset-password",
        "change-password",
        "me",
    ):
        assert f"/api/v1/gateway/auth/{route}" in paths
    assert "/api/v1/gateway/{group}/{path}" not in paths
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    echo = spec["paths"]["/api/v1/gateway/gig/echo"]
    assert echo["get"]["operationId"] == "gig.echoGet"
    assert echo["get"]["security"] == [{}, {"HTTPBearer": []}]  # optional session
    assert echo["delete"]["security"] == [{"HTTPBearer": []}]
    assert {"401", "413", "429", "502", "503", "504"} <= set(echo["delete"]["responses"])


async def test_readiness_pings_redis(gateway: httpx.AsyncClient) -> None:
    ready = await gateway.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"redis": "ok"}


async def test_concurrent_requests_never_share_identity(gateway: httpx.AsyncClient) -> None:
    """Per-request internal tokens: under concurrency each downstream call carries its own caller."""
    tokens: dict[str, str] = {}
    for username in ("alice", "bob"):
        signin = await gateway.post(
            "/api/v1/gateway/auth/signin",
            json={"email_or_username": username, "password": "correct horse battery staple"},
            headers={"X-Device-Id": "device-known"},
        )
        tokens[signin.json()["user"]["id"]] = signin.json()["access_token"]
    callers = [user_id for _ in range(15) for user_id in tokens]

    async def call(user_id: str) -> tuple[str, str | None]:
        response = await gateway.get(
            "/api/v1/gateway/gig/echo", headers={"Authorization": f"Bearer {tokens[user_id]}"}
        )
        assert response.status_code == 200, response.text
        return user_id, response.json()["subject"]

    results = await asyncio.gather(*(call(user_id) for user_id in callers))
    assert len(tokens) == 2
    assert all(expected == seen for expected, seen in results)


async def test_session_store_outage_is_503_not_500(start_gateway: Any) -> None:
    gateway = await start_gateway(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    ready = await gateway.get("/health/ready")
    assert ready.status_code == 503
    signin = await gateway.post(
        "/api/v1/gateway/auth/signin", json={"email_or_username": "alice", "password": "whatever"}
    )
    assert signin.status_code == 503
    assert signin.json()["error"]["code"] == "unavailable"


async def test_an_authenticated_request_fails_closed_when_the_admission_script_cannot_run(
    start_gateway: Any,
) -> None:
    # ADR 0022: without Redis nothing about the request can be judged (budgets, session liveness), so a
    # valid token is refused with 503, never proxied; the single admission script call (ADR 0024) too.
    gateway = await start_gateway()
    signin = await gateway.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "alice", "password": "correct horse battery staple"},
        headers={"X-Device-Id": "device-known"},
    )
    headers = {"Authorization": f"Bearer {signin.json()['access_token']}"}
    assert (await gateway.get("/api/v1/gateway/auth/me", headers=headers)).status_code == 200
    cut_off = await start_gateway(redis_url=f"redis://127.0.0.1:{free_port()}/0")

    refused = await cut_off.get("/api/v1/gateway/auth/me", headers=headers)

    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "unavailable"
