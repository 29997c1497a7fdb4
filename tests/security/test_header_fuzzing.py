"""Hostile headers (non-ASCII, oversized, duplicated) never produce a server error, at the public edge or at
a service called directly. A new service adds its routes to ``DIRECT_ROUTES``."""

from __future__ import annotations

import httpx
import pytest
from accounts import AUTH, bearer, new_account, signed_in
from hostile_headers import assert_no_server_error
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DIRECT_ROUTES: dict[str, list[tuple[str, str, dict[str, object] | None]]] = {
    "auth": [
        ("POST", "/api/v1/auth/signin", {"email_or_username": "nobody", "password": "not-a-password"}),
        (
            "POST",
            "/api/v1/auth/signup",
            {"username": "fuzz", "email": "fuzz@example.com", "password": "x" * 10},
        ),
    ],
    "review": [
        ("POST", "/api/v1/reviews", {"order_id": "fuzz-order", "rating": 5}),
        ("GET", "/api/v1/reviews/seller/fuzz-seller", None),
    ],
    "order": [
        ("POST", "/api/v1/orders", {"gig_id": "fuzz-gig"}),
        ("GET", "/api/v1/orders/fuzz-order", None),
        ("POST", "/api/v1/orders/fuzz-order/delivery", {"message": "m", "file_keys": []}),
        ("POST", "/api/v1/payments/webhook", {"id": "evt_fuzz"}),
    ],
}


async def test_hostile_headers_never_cause_a_server_error(
    gateway: httpx.AsyncClient, stack: GigstackStack
) -> None:
    session = await signed_in(gateway, stack, new_account())
    signin = {"email_or_username": "nobody", "password": "not-a-password"}

    await assert_no_server_error(gateway, "POST", f"{AUTH}/signin", json=signin)
    await assert_no_server_error(gateway, "GET", f"{AUTH}/me", extra=bearer(session["access_token"]))
    # No gig service runs in this stack: its documented answer is 503 (hostile headers still get a 4xx).
    await assert_no_server_error(gateway, "GET", "/api/v1/gateway/gig/anything", documented=frozenset({503}))

    for service, routes in DIRECT_ROUTES.items():
        async with stack.service_client(service) as client:
            for method, path, body in routes:
                token = bearer(stack.internal_token(service))
                await assert_no_server_error(client, method, path, json=body, extra=token)
