"""The Stripe adapter: PaymentIntents with idempotency keys, refunds, webhook signature verification.

Uses the official `stripe` SDK's async client with bounded network retries (the SDK retries with the same
idempotency key, so a retried create or refund is the same object). `api_base` points it at stripe-mock in
tests. Amounts are integer minor units, which is what Stripe's API takes.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import stripe

from order_service.adapters.webhook_signing import verify
from order_service.domain.errors import PaymentProviderUnavailable
from order_service.service_layer.ports import IntentStatus, PaymentEvent, PaymentIntent

_STATUS: dict[str, IntentStatus] = {
    "succeeded": "succeeded",
    "processing": "processing",
    "canceled": "canceled",
}


T = TypeVar("T")


async def _call(request: Awaitable[T]) -> T:
    """The SDK's errors become the port's: the error table then needs no `stripe` import."""
    try:
        return await request
    except stripe.StripeError as error:
        raise PaymentProviderUnavailable() from error


class StripePaymentProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout_seconds: float = 10.0,
        max_network_retries: int = 2,
    ) -> None:
        base: Any = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base,
            max_network_retries=max_network_retries,
            http_client=stripe.HTTPXClient(timeout=timeout_seconds),
        )
        self._webhook_secret = webhook_secret

    @staticmethod
    def _intent(resource: Any, order_id: str | None = None) -> PaymentIntent:
        raw = resource.to_dict()
        metadata = raw.get("metadata") or {}
        return PaymentIntent(
            id=str(raw["id"]),
            order_id=order_id or str(metadata.get("order_id", "")),
            amount=int(raw["amount"]),
            currency=str(raw["currency"]).upper(),
            status=_STATUS.get(str(raw.get("status")), "requires_payment"),
            client_secret=raw.get("client_secret"),
        )

    async def create_intent(
        self, *, order_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        raw = await _call(
            self._client.v1.payment_intents.create_async(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "metadata": {"order_id": order_id},
                    "automatic_payment_methods": {"enabled": True},
                },
                {"idempotency_key": idempotency_key},
            )
        )
        return self._intent(raw, order_id)

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        return self._intent(await _call(self._client.v1.payment_intents.retrieve_async(intent_id)))

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str:
        refund = await _call(
            self._client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount}, {"idempotency_key": idempotency_key}
            )
        )
        return str(refund["id"])

    def verify_webhook(self, payload: bytes, signature: str) -> PaymentEvent:
        return verify(payload, signature, self._webhook_secret)
