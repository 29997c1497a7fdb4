"""The local provider and `payments.devConfirm` exist only in development and test; Stripe needs its keys."""

from __future__ import annotations

from typing import Any

import pytest
from order_service.settings import OrderSettings
from pydantic import ValidationError

BASE: dict[str, Any] = {
    "database_url": "postgresql+asyncpg://u:p@localhost/order",
    "amqp_url": "amqp://u:p@localhost/",
    "internal_token_public_key": "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----",
    "payment_webhook_secret": "whsec_" + "k" * 24,
    "object_store_bucket": "gigstack-media",
}


def test_local_provider_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="development and test only"):
        OrderSettings(**BASE, environment="staging", payment_provider="local")


def test_stripe_needs_a_key() -> None:
    with pytest.raises(ValidationError, match="STRIPE_SECRET_KEY"):
        OrderSettings(**BASE, environment="staging", payment_provider="stripe", stripe_secret_key="")


def test_dev_confirm_only_with_the_local_provider_in_development() -> None:
    assert OrderSettings(**BASE, environment="test").dev_confirm_allowed
    stripe = OrderSettings(
        **BASE, environment="staging", payment_provider="stripe", stripe_secret_key="sk_test_1"
    )
    assert not stripe.dev_confirm_allowed


def test_the_crash_fault_injection_is_refused_outside_test_and_development() -> None:
    assert OrderSettings(**BASE, environment="test", crash_after_provider_success=True)
    with pytest.raises(ValidationError, match="test-only fault injection"):
        OrderSettings(
            **BASE,
            environment="production",
            payment_provider="stripe",
            stripe_secret_key="sk_live_1",
            crash_after_provider_success=True,
        )
