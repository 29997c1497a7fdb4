"""Who may call what: the gateway's public routes and auth's, review's and order's own APIs, each route
against each caller; and on a real order, every order and review operation refused to a stranger, the wrong
party and an anonymous caller (100%)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from accounts import AUTH, bearer, new_account, signed_in
from authorization_matrix import Access, Caller, PartyRoute, Route, check_matrix, check_refusals
from servicekit.events import EventBus, EventEnvelope
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_SIGNIN = {"email_or_username": "nobody", "password": "not-a-password"}

GATEWAY_ROUTES = [
    Route(
        "POST", f"{AUTH}/signup", Access.PUBLIC, {"username": "m", "email": "m@example.com", "password": "x"}
    ),
    Route("POST", f"{AUTH}/signin", Access.PUBLIC, _SIGNIN),
    Route("POST", f"{AUTH}/verify-otp", Access.PUBLIC, {"email_or_username": "nobody", "otp": "000000"}),
    Route("POST", f"{AUTH}/forgot-password", Access.PUBLIC, {"email": "nobody@example.com"}),
    Route("POST", f"{AUTH}/verify-email", Access.PUBLIC, {"token": "x" * 43}),
    Route("GET", f"{AUTH}/me", Access.SIGNED_IN),
    Route("POST", f"{AUTH}/resend-verification", Access.SIGNED_IN),
    Route(
        "PUT",
        f"{AUTH}/change-password",
        Access.SIGNED_IN,
        {"current_password": "a" * 9, "new_password": "b" * 9},
    ),
    Route("POST", f"{AUTH}/signout", Access.SIGNED_IN),
]

REVIEW = "/api/v1/gateway/reviews"
# reviews.create decides who may review an order before anything else (403 for anyone not a party of a paid
# order, unknown ids included), so this matrix sends a body refused for its content (422) to see the session
# check alone; the party check is the order test below and services/review/tests/integration.
_REVIEW_BODY = {"order_id": "no-such-order", "rating": 0}
REVIEW_GATEWAY_ROUTES = [
    Route("POST", REVIEW, Access.SIGNED_IN, _REVIEW_BODY),
    Route("GET", f"{REVIEW}/gig/some-gig", Access.PUBLIC),
    Route("GET", f"{REVIEW}/seller/some-seller", Access.PUBLIC),
]
# Straight to review: the anonymous reads admit any gateway token, the write a gateway token with a user.
REVIEW_ROUTES = [
    Route("POST", "/api/v1/reviews", Access.SIGNED_IN, _REVIEW_BODY),
    Route("GET", "/api/v1/reviews/gig/some-gig", Access.CALLER),
    Route("GET", "/api/v1/reviews/seller/some-seller", Access.CALLER),
]

ORDERS = "/api/v1/gateway/orders"
PAYMENTS = "/api/v1/gateway/payments"


def order_routes(orders: str, payments: str, webhook_access: Access) -> list[Route]:
    """Every order operation on an order that does not exist: the access rule is checked before it."""
    some = f"{orders}/no-such-order"
    return [
        Route("POST", orders, Access.SIGNED_IN, {"gig_id": "no-such-gig"}),
        Route("GET", f"{orders}/as-buyer", Access.SIGNED_IN),
        Route("GET", f"{orders}/as-seller", Access.SIGNED_IN),
        Route("GET", f"{orders}/notifications", Access.SIGNED_IN),
        Route("POST", f"{orders}/notifications/no-such-notification/read", Access.SIGNED_IN),
        Route("GET", some, Access.SIGNED_IN),
        Route("POST", f"{some}/cancel", Access.SIGNED_IN, {"reason": "r"}),
        Route("POST", f"{some}/extension", Access.SIGNED_IN, {"days": 1, "reason": "r"}),
        Route("POST", f"{some}/extension/decision", Access.SIGNED_IN, {"approve": True}),
        Route("POST", f"{some}/delivery", Access.SIGNED_IN, {"message": "m"}),
        Route("POST", f"{some}/approve", Access.SIGNED_IN, {}),
        Route("POST", f"{payments}/dev-confirm", Access.SIGNED_IN, {"order_id": "no-such-order"}),
        # The provider's call: no session, refused for its signature (400), never for the caller.
        Route("POST", f"{payments}/webhook", webhook_access, {"id": "evt_x"}),
    ]


ORDER_GATEWAY_ROUTES = order_routes(ORDERS, PAYMENTS, Access.PUBLIC)
# Straight to order: every route needs a gateway token for order, the session routes one with a user.
ORDER_ROUTES = order_routes("/api/v1/orders", "/api/v1/payments", Access.CALLER)

AUTH_ROUTES = [
    Route("POST", "/api/v1/auth/signin", Access.CALLER, _SIGNIN),
    Route("POST", "/api/v1/auth/forgot-password", Access.CALLER, {"email": "nobody@example.com"}),
    Route("POST", "/api/v1/auth/verify-email", Access.CALLER, {"token": "x" * 43}),
    Route("GET", "/api/v1/auth/me", Access.SIGNED_IN),
    Route("POST", "/api/v1/auth/resend-verification", Access.SIGNED_IN),
    Route("POST", "/api/v1/auth/signout", Access.SIGNED_IN),
]


async def test_every_route_admits_exactly_the_callers_it_should(
    gateway: httpx.AsyncClient, stack: GigstackStack
) -> None:
    session = await signed_in(gateway, stack, new_account())
    user_id = session["user"]["id"]
    await check_matrix(
        gateway,
        # Reviews first: GATEWAY_ROUTES ends with sign-out, which ends the session the later routes use.
        REVIEW_GATEWAY_ROUTES + ORDER_GATEWAY_ROUTES + GATEWAY_ROUTES,
        [
            Caller("anonymous", dict, frozenset()),
            Caller("garbage-token", lambda: bearer("garbage"), frozenset()),
            Caller("signed-in", lambda: bearer(session["access_token"]), frozenset({Access.SIGNED_IN})),
        ],
    )
    async with stack.auth_client() as auth:
        await check_matrix(
            auth,
            AUTH_ROUTES,
            [
                Caller("no-token", dict, frozenset()),
                Caller("other-audience", lambda: bearer(stack.internal_token("gig")), frozenset()),
                Caller(
                    "gateway-anonymous",
                    lambda: bearer(stack.internal_token("auth")),
                    frozenset({Access.CALLER}),
                ),
                Caller(
                    "gateway-user",
                    lambda: bearer(stack.internal_token("auth", subject=user_id)),
                    frozenset({Access.CALLER, Access.SIGNED_IN}),
                ),
                Caller(
                    "gateway-unknown-user",
                    lambda: bearer(stack.internal_token("auth", subject=str(uuid.uuid4()))),
                    frozenset({Access.CALLER, Access.SIGNED_IN}),
                ),
            ],
        )
    async with stack.service_client("review") as review:
        await check_matrix(
            review,
            REVIEW_ROUTES,
            [
                Caller("no-token", dict, frozenset()),
                Caller(
                    "other-audience",
                    lambda: bearer(stack.internal_token("auth", subject=user_id)),
                    frozenset(),
                ),
                Caller(
                    "gateway-anonymous",
                    lambda: bearer(stack.internal_token("review")),
                    frozenset({Access.CALLER}),
                ),
                Caller(
                    "gateway-user",
                    lambda: bearer(stack.internal_token("review", subject=user_id)),
                    frozenset({Access.CALLER, Access.SIGNED_IN}),
                ),
            ],
        )
    async with stack.service_client("order") as order:
        await check_matrix(
            order,
            ORDER_ROUTES,
            [
                Caller("no-token", dict, frozenset()),
                Caller(
                    "other-audience",
                    lambda: bearer(stack.internal_token("review", subject=user_id)),
                    frozenset(),
                ),
                Caller(
                    "gateway-anonymous",
                    lambda: bearer(stack.internal_token("order")),
                    frozenset({Access.CALLER}),
                ),
                Caller(
                    "gateway-user",
                    lambda: bearer(stack.internal_token("order", subject=user_id)),
                    frozenset({Access.CALLER, Access.SIGNED_IN}),
                ),
            ],
        )


async def _publish_gig(stack: GigstackStack, seller_id: str) -> str:
    """The gig service's event (no gig service runs here): order replicates the price from it."""
    gig_id = str(uuid.uuid4())
    gig = {
        "id": gig_id,
        "seller_id": seller_id,
        "price": 5_000,
        "currency": "USD",
        "delivery_days": 3,
        "active": True,
        "deleted": False,
    }
    bus = EventBus(stack.amqp_url, service_name="gig")
    await bus.connect()
    try:
        await bus.publish(
            EventEnvelope.new(type="gig.gig.created.v1", producer="gig", payload={"gig": gig, "version": 1})
        )
    finally:
        await bus.close()
    return gig_id


async def _until(call: Any, done: Any, timeout: float = 30.0) -> httpx.Response:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        response: httpx.Response = await call()
        if done(response) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.3)


async def test_order_and_review_operations_refuse_strangers_the_wrong_party_and_anonymous(
    gateway: httpx.AsyncClient, stack: GigstackStack
) -> None:
    buyer = await signed_in(gateway, stack, new_account("buy"))
    seller = await signed_in(gateway, stack, new_account("sell"))
    stranger = await signed_in(gateway, stack, new_account("strange"))
    seller_id = seller["user"]["id"]
    gig_id = await _publish_gig(stack, seller_id)

    def as_(session: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {session['access_token']}"}

    created = await _until(
        lambda: gateway.post(ORDERS, json={"gig_id": gig_id}, headers=as_(buyer)),
        lambda r: r.status_code != 422,  # 422 until order replicated the gig
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order"]["id"]
    paid = await gateway.post(f"{PAYMENTS}/dev-confirm", json={"order_id": order_id}, headers=as_(buyer))
    assert paid.status_code == 200, paid.text
    notifications = (await gateway.get(f"{ORDERS}/notifications", headers=as_(buyer))).json()["notifications"]
    base = f"{ORDERS}/{order_id}"
    both = frozenset({"buyer", "seller"})
    routes = [
        PartyRoute("GET", base, both),
        # Both parties may cancel (their own rules, 409 when not yet): strangers and anonymous may not.
        PartyRoute("POST", f"{base}/cancel", both, {"reason": "r"}),
        PartyRoute("POST", f"{base}/extension", frozenset({"seller"}), {"days": 1, "reason": "r"}),
        PartyRoute("POST", f"{base}/extension/decision", frozenset({"buyer"}), {"approve": True}),
        PartyRoute("POST", f"{base}/delivery", frozenset({"seller"}), {"message": "m"}),
        PartyRoute("POST", f"{base}/approve", frozenset({"buyer"}), {}),
        PartyRoute("POST", f"{PAYMENTS}/dev-confirm", frozenset({"buyer"}), {"order_id": order_id}),
        PartyRoute("POST", f"{ORDERS}/notifications/{notifications[0]['id']}/read", frozenset({"buyer"})),
    ]
    callers = {
        "anonymous": dict,
        "stranger": lambda: as_(stranger),
        "buyer": lambda: as_(buyer),
        "seller": lambda: as_(seller),
    }
    refused = await check_refusals(gateway, routes, callers)
    assert refused == 2 * len(routes) + sum(len(r.allowed) == 1 for r in routes)
    # Nothing the refused callers sent changed the order.
    order = (await gateway.get(base, headers=as_(buyer))).json()
    assert (order["status"], order["version"]) == ("in_progress", 2)
    assert order["extension"] is None
    assert order["delivery"] is None

    # Paid but not completed, or completed: a stranger gets the same 403 and never learns the order's state.
    review = {"order_id": order_id, "rating": 5}
    by_stranger = await gateway.post(REVIEW, json=review, headers=as_(stranger))
    assert by_stranger.status_code == 403, by_stranger.text
    assert (
        await gateway.post(f"{base}/delivery", json={"message": "m"}, headers=as_(seller))
    ).status_code == 200
    assert (await gateway.post(f"{base}/approve", json={}, headers=as_(buyer))).status_code == 200
    assert (
        await check_refusals(
            gateway,
            [PartyRoute("POST", REVIEW, both, review)],
            {"anonymous": dict, "stranger": lambda: as_(stranger)},
        )
        == 2
    )
