"""Payments: verified webhooks, the development confirmation, refunds, reconciliation and expiry.

The order moves to in_progress only on a provider notification whose signature verified, or on the
provider's own answer about the intent (reconciliation); never on the client's word. A webhook is applied
once per provider event id (`claim`), and by intent state rather than by arrival order: a duplicate or a
stale notification changes nothing. Refunds run from durable jobs written with the state change and are
sent with an idempotency key, so a crash at any point is retried without refunding twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from order_service.domain.errors import DevelopmentOnly, OrderNotFound, TransitionNotAllowed
from order_service.domain.model import OrderStatus, Transition
from order_service.service_layer.dependencies import HandlerDependencies
from order_service.service_layer.ports import PaymentEvent, PaymentRecord, UnitOfWork
from order_service.service_layer.recording import record

logger = logging.getLogger(__name__)

WEBHOOK_CONSUMER = "payments.webhook"
SUCCEEDED = "payment_intent.succeeded"
# payments.status of a charge whose amount or currency did not match its intent: refunded, never applied.
AMOUNT_MISMATCH = "amount_mismatch"
# Provider event ids are strings (evt_...); the processed-events ledger keys on UUIDs.
# Intents older than this are no longer asked about (Stripe cancels unconfirmed intents long before).
RECONCILE_HORIZON = timedelta(days=7)
_WEBHOOK_NAMESPACE = uuid.UUID("5f0d3a36-64a4-4c5e-9b51-0d7a4f6f2a10")


def webhook_key(event_id: str) -> uuid.UUID:
    return uuid.uuid5(_WEBHOOK_NAMESPACE, event_id)


async def handle_webhook(payload: bytes, signature: str, deps: HandlerDependencies) -> str:
    """Verify, then apply once. Returns what happened (for the log and the tests)."""
    event = deps.provider.verify_webhook(payload, signature)
    async with deps.new_uow() as uow:
        if not await uow.claim(WEBHOOK_CONSUMER, webhook_key(event.id)):
            return "duplicate"
        outcome = "ignored"
        if event.type == SUCCEEDED:
            outcome = await _apply_success(uow, event, deps)
        await uow.commit()
    return outcome


async def _apply_success(uow: UnitOfWork, event: PaymentEvent, deps: HandlerDependencies) -> str:
    now = deps.clock()
    payment = await uow.payments.intent(event.intent_id)
    if payment is None:
        # An intent this service never stored (the insert after creating it failed): money without an
        # order. Refund it; the job needs no order row.
        order_id = event.order_id or "unknown"
        await uow.payments.add_refund_job(order_id, event.intent_id, event.amount, now)
        logger.warning("payment %s for no known order refunded", event.intent_id)
        return "refunded_orphan"
    if payment.status == "succeeded":
        return "already_applied"
    if payment.status == AMOUNT_MISMATCH:
        return "already_refunded"
    if event.amount != payment.amount or event.currency.upper() != payment.currency.upper():
        return await _refund_mismatch(uow, event, payment, deps)
    await uow.payments.set_status(event.intent_id, "succeeded", now)
    order = await uow.orders.get(payment.order_id, for_update=True)
    if order is None:
        await uow.payments.add_refund_job(payment.order_id, event.intent_id, event.amount, now)
        return "refunded_orphan"
    read_version = order.version
    transition = order.record_payment(event.intent_id, event.amount, event.currency, now)
    if transition is None:
        return "already_applied"
    await uow.orders.save(order, read_version)
    await record(uow, order, transition, now)
    return transition.action


async def _refund_mismatch(
    uow: UnitOfWork, event: PaymentEvent, payment: PaymentRecord, deps: HandlerDependencies
) -> str:
    """A verified success for another amount or currency than the intent asked for (docs/adr/0020).

    Not the order's payment: the order stays as it is (unpaid, so it expires unless paid correctly), the
    charge is refunded in full through a durable job, the payment is marked so neither a retry nor
    reconciliation applies it, the history records it, and an alarm is raised. The webhook is acknowledged
    (200): answering 4xx would only make the provider retry the same event for days.
    """
    now = deps.clock()
    await uow.payments.set_status(event.intent_id, AMOUNT_MISMATCH, now)
    if event.amount > 0:
        await uow.payments.add_refund_job(payment.order_id, event.intent_id, event.amount, now)
    order = await uow.orders.get(payment.order_id, for_update=True)
    if order is not None:
        details: dict[str, object] = {
            "intent_id": event.intent_id,
            "received": event.amount,
            "received_currency": event.currency.upper(),
            "expected": payment.amount,
            "expected_currency": payment.currency,
        }
        transition = Transition(
            "payment_mismatch_refunded", "system", None, order.status, order.status, details=details
        )
        await uow.orders.append_history(order, transition, now)
    if deps.alarm is not None:
        deps.alarm(
            AMOUNT_MISMATCH,
            f"intent {event.intent_id} of order {payment.order_id}: received {event.amount} "
            f"{event.currency.upper()}, expected {payment.amount} {payment.currency}; refunded",
        )
    return "amount_mismatch_refunded"


async def dev_confirm(user_id: str, order_id: str, deps: HandlerDependencies) -> str:
    """Complete the buyer's pending payment through the local provider, which sends its signed webhook."""
    if deps.dev_confirmer is None:
        raise DevelopmentOnly()
    async with deps.new_uow() as uow:
        order = await uow.orders.get(order_id)
        if order is None or order.role_of(user_id) != "buyer":
            raise OrderNotFound()
        payment = await uow.payments.of_order(order_id)
    if payment is None:
        raise OrderNotFound()
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise TransitionNotAllowed(f"The order is {order.status.value}, not awaiting payment")
    webhook = await deps.dev_confirmer.confirm(payment.intent_id)
    if deps.after_provider_success is not None:
        deps.after_provider_success()
    return await handle_webhook(webhook.payload, webhook.signature, deps)


async def run_refund_jobs(deps: HandlerDependencies, limit: int = 20) -> int:
    """Send the pending refunds; each job is locked `SKIP LOCKED` so replicas share the work."""
    done = 0
    async with deps.new_uow() as uow:
        jobs = await uow.payments.due_refund_jobs(limit)
        for job in jobs:
            try:
                refund_id = await deps.provider.refund(
                    intent_id=job.intent_id, amount=job.amount, idempotency_key=f"refund-{job.id}"
                )
            except Exception as error:
                logger.warning("refund of %s failed: %r", job.intent_id, error)
                await uow.payments.fail_refund_job(job, repr(error)[:500])
                continue
            await uow.payments.finish_refund_job(job, refund_id, deps.clock())
            done += 1
        await uow.commit()
    return done


async def reconcile(deps: HandlerDependencies, limit: int = 50) -> int:
    """Ask the provider about intents still unconfirmed here; apply any success as a webhook would.

    This repairs a crash (or a lost webhook) between the provider's success and the state change.
    """
    now = deps.clock()
    async with deps.new_uow() as uow:
        candidates = await uow.payments.unsettled(now - deps.reconcile_after, now - RECONCILE_HORIZON, limit)
    repaired = 0
    for candidate in candidates:
        try:
            intent = await deps.provider.retrieve_intent(candidate.intent_id)
        except Exception as error:
            logger.warning("reconciliation could not read intent %s: %r", candidate.intent_id, error)
            continue
        if intent.status != "succeeded":
            continue
        event = PaymentEvent(
            id=f"reconcile:{intent.id}",
            type=SUCCEEDED,
            intent_id=intent.id,
            order_id=candidate.order_id,
            amount=intent.amount,
            currency=intent.currency,
        )
        async with deps.new_uow() as uow:
            outcome = await _apply_success(uow, event, deps)
            await uow.commit()
        logger.info("reconciled payment %s: %s", intent.id, outcome)
        repaired += 1
    return repaired


async def expire_due(deps: HandlerDependencies, limit: int = 100) -> int:
    """The durable timer: unpaid orders past `expires_at`, locked SKIP LOCKED, expired in one transaction."""
    now = deps.clock()
    async with deps.new_uow() as uow:
        orders = await uow.orders.due_for_expiry(now, limit)
        for order in orders:
            read_version = order.version
            transition = order.expire(now)
            await uow.orders.save(order, read_version)
            await record(uow, order, transition, now)
        await uow.commit()
    return len(orders)
