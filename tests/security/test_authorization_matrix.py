"""Who may call what: the gateway's public routes and auth's own API, each route against each caller."""

from __future__ import annotations

import uuid

import httpx
import pytest
from accounts import AUTH, bearer, new_account, signed_in
from authorization_matrix import Access, Caller, Route, check_matrix
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
REVIEW_GATEWAY_ROUTES = [
    Route("POST", REVIEW, Access.SIGNED_IN, {"order_id": "no-such-order", "rating": 5}),
    Route("GET", f"{REVIEW}/gig/some-gig", Access.PUBLIC),
    Route("GET", f"{REVIEW}/seller/some-seller", Access.PUBLIC),
]
# Straight to review: the anonymous reads admit any gateway token, the write a gateway token with a user.
REVIEW_ROUTES = [
    Route("POST", "/api/v1/reviews", Access.SIGNED_IN, {"order_id": "no-such-order", "rating": 5}),
    Route("GET", "/api/v1/reviews/gig/some-gig", Access.CALLER),
    Route("GET", "/api/v1/reviews/seller/some-seller", Access.CALLER),
]

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
        REVIEW_GATEWAY_ROUTES + GATEWAY_ROUTES,
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
