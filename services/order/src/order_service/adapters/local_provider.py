"""A stateful stand-in for Stripe, for development and test: intents, confirmations, refunds, and webhooks
signed with Stripe's scheme. Never used in staging or production (settings refuse it there).

Its state is durable, in its own tables of the order database (`local_provider_*`, adapters/orm.py), each
call in its own transaction, never inside the order's unit of work: what the provider confirmed stays
confirmed when the order process is killed right after (as at Stripe), which is what reconciliation repairs
(ADR 0020). The order service's code never reads these tables; only this adapter does.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from order_service.adapters.orm import local_provider_intents, local_provider_refunds
from order_service.adapters.webhook_signing import sign, verify
from order_service.service_layer.ports import IntentStatus, PaymentEvent, PaymentIntent, SignedWebhook


@dataclass(frozen=True)
class LocalRefund:
    id: str
    intent_id: str
    amount: int


def _intent(row: Mapping[str, Any]) -> PaymentIntent:
    status: IntentStatus = row["status"]
    return PaymentIntent(
        id=row["id"],
        order_id=row["order_id"],
        amount=row["amount"],
        currency=row["currency"],
        status=status,
        client_secret=row["client_secret"],
    )


class LocalPaymentProvider:
    name = "local"

    def __init__(self, webhook_secret: str, engine: AsyncEngine) -> None:
        self._secret = webhook_secret
        self._engine = engine

    async def _intent_row(
        self, connection: AsyncConnection, intent_id: str, *, lock: bool = False
    ) -> Mapping[str, Any] | None:
        query = sa.select(local_provider_intents).where(local_provider_intents.c.id == intent_id)
        if lock:
            query = query.with_for_update()
        row = (await connection.execute(query)).mappings().first()
        return None if row is None else dict(row)

    async def create_intent(
        self, *, order_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        intent_id = "pi_local_" + secrets.token_hex(12)
        now = datetime.now(UTC)
        async with self._engine.begin() as connection:
            # The idempotency key is UNIQUE: a retried create returns the first intent, as Stripe does.
            await connection.execute(
                postgresql.insert(local_provider_intents)
                .values(
                    id=intent_id,
                    idempotency_key=idempotency_key,
                    order_id=order_id,
                    amount=amount,
                    currency=currency,
                    status="requires_payment",
                    client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                (
                    await connection.execute(
                        sa.select(local_provider_intents).where(
                            local_provider_intents.c.idempotency_key == idempotency_key
                        )
                    )
                )
                .mappings()
                .one()
            )
        return _intent(dict(row))

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        async with self._engine.connect() as connection:
            row = await self._intent_row(connection, intent_id)
        if row is None:
            raise LookupError(f"no such intent {intent_id}")
        return _intent(row)

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str:
        async with self._engine.begin() as connection:
            known = (
                await connection.execute(
                    sa.select(local_provider_refunds.c.id).where(
                        local_provider_refunds.c.idempotency_key == idempotency_key
                    )
                )
            ).scalar()
            if known is not None:
                return str(known)
            # The intent's row lock serialises refunds of one charge, so they never exceed it.
            intent = await self._intent_row(connection, intent_id, lock=True)
            if intent is None or intent["status"] != "succeeded":
                raise LookupError(f"intent {intent_id} has no successful charge to refund")
            already = (
                await connection.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(local_provider_refunds.c.amount), 0)).where(
                        local_provider_refunds.c.intent_id == intent_id
                    )
                )
            ).scalar_one()
            if already + amount > intent["amount"]:
                raise ValueError("refund exceeds the amount charged")
            refund_id = "re_local_" + secrets.token_hex(12)
            await connection.execute(
                sa.insert(local_provider_refunds).values(
                    id=refund_id,
                    idempotency_key=idempotency_key,
                    intent_id=intent_id,
                    amount=amount,
                    created_at=datetime.now(UTC),
                )
            )
        return refund_id

    async def refunds(self, intent_id: str | None = None) -> list[LocalRefund]:
        """What the provider refunded (all, or of one intent), oldest first: for tests and development."""
        query = sa.select(local_provider_refunds).order_by(local_provider_refunds.c.created_at)
        if intent_id is not None:
            query = query.where(local_provider_refunds.c.intent_id == intent_id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [LocalRefund(row["id"], row["intent_id"], row["amount"]) for row in rows]

    def verify_webhook(self, payload: bytes, signature: str) -> PaymentEvent:
        return verify(payload, signature, self._secret)

    async def succeed(self, intent_id: str) -> PaymentIntent:
        """The card went through: the intent succeeds, charged once however often this is called (no
        webhook yet; see `confirm`). Committed before it returns."""
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.update(local_provider_intents)
                .where(
                    local_provider_intents.c.id == intent_id,
                    local_provider_intents.c.status != "succeeded",
                )
                .values(
                    status="succeeded",
                    charges=local_provider_intents.c.charges + 1,
                    updated_at=datetime.now(UTC),
                )
            )
            row = await self._intent_row(connection, intent_id)
        if row is None:
            raise LookupError(f"no such intent {intent_id}")
        return _intent(row)

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
        return SignedWebhook(payload=payload, signature=sign(payload, self._secret))
