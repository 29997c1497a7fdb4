"""The Stripe adapter against stripe-mock: the SDK's requests (PaymentIntents with idempotency keys, refunds,
retrieval) are valid for Stripe's API. stripe-mock is stateless and answers with fixtures, so this checks
request shapes and response parsing; flows are covered with the local provider."""

from __future__ import annotations

import pytest
import stripe
from conftest import WEBHOOK_SECRET
from order_service.adapters.stripe_provider import StripePaymentProvider
from order_service.adapters.webhook_signing import sign
from order_service.domain.errors import PaymentProviderUnavailable, PaymentRejected


@pytest.fixture
def provider(stripe_mock_url: str) -> StripePaymentProvider:
    return StripePaymentProvider(
        secret_key="sk_test_123", webhook_secret=WEBHOOK_SECRET, api_base=stripe_mock_url, timeout_seconds=10
    )


async def test_create_retrieve_and_refund(provider: StripePaymentProvider) -> None:
    intent = await provider.create_intent(
        order_id="order-1", amount=10_550, currency="USD", idempotency_key="order-order-1"
    )
    assert intent.id.startswith("pi_")
    assert intent.order_id == "order-1"
    assert intent.client_secret
    retrieved = await provider.retrieve_intent(intent.id)
    assert retrieved.id == intent.id
    refund_id = await provider.refund(intent_id=intent.id, amount=10_550, idempotency_key="refund-1")
    assert refund_id.startswith("re_")


async def test_an_unreachable_api_is_a_provider_error_after_bounded_retries() -> None:
    from gigstack_testinfra.net import free_port

    unreachable = StripePaymentProvider(
        secret_key="sk_test_123",
        webhook_secret=WEBHOOK_SECRET,
        api_base=f"http://127.0.0.1:{free_port()}",
        timeout_seconds=2,
        max_network_retries=1,
    )
    with pytest.raises(PaymentProviderUnavailable) as raised:
        await unreachable.create_intent(order_id="o", amount=100, currency="usd", idempotency_key="k-1")
    assert isinstance(raised.value.__cause__, stripe.APIConnectionError)


def test_webhooks_are_verified_with_the_endpoint_secret(provider: StripePaymentProvider) -> None:
    body = (
        b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":'
        b'{"id":"pi_1","object":"payment_intent","amount":100,"amount_received":100,"currency":"usd",'
        b'"metadata":{"order_id":"o1"}}}}'
    )
    event = provider.verify_webhook(body, sign(body, WEBHOOK_SECRET))
    assert (event.id, event.intent_id, event.order_id, event.amount, event.currency) == (
        "evt_1",
        "pi_1",
        "o1",
        100,
        "USD",
    )
    with pytest.raises(PaymentRejected):
        provider.verify_webhook(body, sign(body, "whsec_other_000000000000000"))
