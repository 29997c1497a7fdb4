"""Checkout with Stripe's Payment Element: only when a publishable key is configured, and only then does the
CSP name Stripe's origins (without a key, every page stays on its own origin and the media origin)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import TradeBrowser
from storefront_fakes import gig
from storefront_service.security import content_security_policy
from storefront_service.settings import StorefrontSettings
from trade_samples import BUYER, SELLER, order

PUBLISHABLE_KEY = "pk_test_51Hstorefront"


@pytest.fixture
def trade_overrides() -> dict[str, Any]:
    return {"stripe_publishable_key": PUBLISHABLE_KEY}


async def test_checkout_mounts_the_payment_element_for_a_stripe_intent(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    created = order("awaiting_payment")
    payment = {"provider": "stripe", "intent_id": "pi_9", "client_secret": "pi_9_secret_x", "amount": 3576,
               "currency": "USD"}  # fmt: skip
    trade.gateway.on(
        "orders.create", lambda _: httpx.Response(201, json={"order": created, "payment": payment})
    )
    trade.gateway.on("orders.byId", created)
    trade.gateway.on("gigs.byId", gig("g1", seller_id=SELLER))

    await trade.post("/orders", {"gig_id": "g1"})
    page = await trade.client.get("/orders/order-1/checkout")

    assert page.status_code == 200
    assert '<script src="https://js.stripe.com/v3/" defer></script>' in page.text
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in page.text
    assert 'data-client-secret="pi_9_secret_x"' in page.text
    assert 'data-testid="local-payment-form"' not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://js.stripe.com;" in policy
    assert "frame-src https://js.stripe.com https://hooks.stripe.com" in policy


def test_without_a_key_the_policy_names_no_stripe_origin() -> None:
    policy = content_security_policy("http://media.test:9000")
    assert "stripe" not in policy
    assert "script-src 'self';" in policy


def test_a_secret_key_is_refused_as_a_publishable_key() -> None:
    with pytest.raises(ValueError, match="publishable key"):
        StorefrontSettings(redis_url="redis://x", stripe_publishable_key="sk_live_oops")
