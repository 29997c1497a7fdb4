"""A stateful stand-in for Stripe, for development and test: intents, confirmations, refunds, and webhooks
signed with Stripe's scheme. Never used in staging or production (settings refuse it there).

State is in memory: a restarted process forgets its intents, as a fresh Stripe test account would. Every
webhook it sends is kept in `sent`, so tests can deliver one again, or out of order.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, replace

from order_service.adapters.webhook_signing import sign, verify
from order_service.service_layer.ports import PaymentEvent, PaymentIntent, SignedWebhook


@dataclass
class LocalRefund:
    id: str
    intent_id: str
    amount: int


class LocalPaymentProvider:
    name = "local"

    def __init__(self, webhook_secret: str) -> None:
        self._secret = webhook_secret
        self._lock = asyncio.Lock()
        self.intents: dict[str, PaymentIntent] = {}
        self.refunds: dict[str, LocalRefund] = {}
        self._by_key: dict[str, str] = {}
        self.sent: list[SignedWebhook] = []

    async def create_intent(
        self, *, order_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        async with self._lock:
            known = self._by_key.get(idempotency_key)
            if known is not None:
                return self.intents[known]
            intent_id = "pi_local_" + secrets.token_hex(12)
            intent = PaymentIntent(
                id=intent_id,
                order_id=order_id,
                amount=amount,
                currency=currency,
                status="requires_payment",
                client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
            )
            self.intents[intent_id] = intent
            self._by_key[idempotency_key] = intent_id
            return intent

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise LookupError(f"no such intent {intent_id}")
        return intent

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str:
        async with self._lock:
            known = self._by_key.get(idempotency_key)
            if known is not None:
                return known
            intent = self.intents.get(intent_id)
            if intent is None or intent.status != "succeeded":
                raise LookupError(f"intent {intent_id} has no successful charge to refund")
            already = sum(r.amount for r in self.refunds.values() if r.intent_id == intent_id)
            if already + amount > intent.amount:
                raise ValueError("refund exceeds the amount charged")
            refund_id = "re_local_" + secrets.token_hex(12)
            self.refunds[refund_id] = LocalRefund(refund_id, intent_id, amount)
            self._by_key[idempotency_key] = refund_id
            return refund_id

    def verify_webhook(self, payload: bytes, signature: str) -> PaymentEvent:
        return verify(payload, signature, self._secret)

    async def succeed(self, intent_id: str) -> PaymentIntent:
        """The card went through: the intent succeeds (no webhook yet; see `confirm`)."""
        async with self._lock:
            intent = await self.retrieve_intent(intent_id)
            if intent.status != "succeeded":
                intent = replace(intent, status="succeeded")
                self.intents[intent_id] = intent
            return intent

    async def confirm(self, intent_id: str) -> SignedWebhook:
        intent = await self.succeed(intent_id)
        return self.webhook("payment_intent.succeeded", intent)

    def webhook(self, event_type: str, intent: PaymentIntent) -> SignedWebhook:
        """The webhook Stripe would send for `intent`, in its JSON shape, signed with its scheme."""
        body = {
            "id": "evt_local_" + secrets.token_hex(12),
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "data": {
                "object": {
                    "id": intent.id,
                    "object": "payment_intent",
                    "amount": intent.amount,
                    "amount_received": intent.amount if intent.status == "succeeded" else 0,
                    "currency": intent.currency.lower(),
                    "status": intent.status,
                    "metadata": {"order_id": intent.order_id},
                }
            },
        }
        payload = json.dumps(body, separators=(",", ":")).encode()
        signed = SignedWebhook(payload=payload, signature=sign(payload, self._secret))
        self.sent.append(signed)
        return signed
