"""Payments: only a verified webhook (or the provider's own answer) moves an order; duplicates, stale
deliveries and forged signatures change nothing; refunds go through the provider once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import stripe
from conftest import WEBHOOK_SECRET, OrderApi
from order_service.adapters.webhook_signing import sign
from order_service.entrypoints.scheduler import tick
from order_service.service_layer.dependencies import HandlerDependencies
from order_service.service_layer.payments import reconcile


def new_user() -> str:
    return str(uuid.uuid4())


async def post_webhook(api: OrderApi, payload: bytes, signature: str) -> tuple[int, str]:
    response = await api.client.post(
        "/api/v1/payments/webhook",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        auth=api.as_user(None),
    )
    return response.status_code, response.json().get("outcome", response.text)


async def test_the_local_provider_signs_exactly_as_stripe_does(order_api: OrderApi) -> None:
    payload = b'{"id":"evt_1","object":"event"}'
    event = stripe.Webhook.construct_event(payload.decode(), sign(payload, WEBHOOK_SECRET), WEBHOOK_SECRET)
    assert event["id"] == "evt_1"


async def test_the_same_webhook_three_times_and_out_of_order_changes_the_order_once(
    order_api: OrderApi,
) -> None:
    buyer, seller = new_user(), new_user()
    created = await order_api.order_from_gig(buyer, await order_api.add_gig(seller))
    intent_id = created["payment"]["intent_id"]
    intent = await order_api.provider.succeed(intent_id)
    succeeded = order_api.provider.webhook("payment_intent.succeeded", intent)
    # A stale "processing" notification signed earlier by the provider, delivered after the success.
    stale = order_api.provider.webhook("payment_intent.processing", intent)

    outcomes = [await post_webhook(order_api, succeeded.payload, succeeded.signature) for _ in range(3)]
    outcomes.append(await post_webhook(order_api, stale.payload, stale.signature))
    concurrent = await asyncio.gather(
        *(post_webhook(order_api, succeeded.payload, succeeded.signature) for _ in range(3))
    )

    assert outcomes == [(200, "paid"), (200, "duplicate"), (200, "duplicate"), (200, "ignored")]
    assert all(result == (200, "duplicate") for result in concurrent)
    order_id = created["order"]["id"]
    placed = await order_api.outbox("order.order.placed")
    assert len(placed) == 1
    assert (
        await order_api.scalar(
            "SELECT count(*) FROM order_history WHERE order_id = :id AND action = 'paid'", id=order_id
        )
        == 1
    )
    order = (await order_api.call("GET", f"/api/v1/orders/{order_id}", buyer)).json()
    assert (order["status"], order["paid_amount"], order["version"]) == (
        "in_progress",
        created["order"]["total"],
        2,
    )


async def test_a_forged_or_stale_signature_is_refused_and_changes_nothing(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    created = await order_api.order_from_gig(buyer, await order_api.add_gig(seller))
    intent = await order_api.provider.succeed(created["payment"]["intent_id"])
    good = order_api.provider.webhook("payment_intent.succeeded", intent)
    forged = sign(good.payload, "whsec_someone_else_0000000000")
    too_old = sign(good.payload, WEBHOOK_SECRET, timestamp=1_700_000_000)
    tampered = good.payload.replace(b'"amount":', b'"amount":1')

    assert (await post_webhook(order_api, good.payload, forged))[0] == 400
    assert (await post_webhook(order_api, good.payload, too_old))[0] == 400
    assert (await post_webhook(order_api, tampered, good.signature))[0] == 400
    assert (await post_webhook(order_api, good.payload, ""))[0] == 400
    assert (await post_webhook(order_api, b"not json", sign(b"not json", WEBHOOK_SECRET)))[0] == 400
    # Beyond what the provider ever sends (64 KiB), below the gateway's 1 MiB limit: the documented 413.
    huge = good.payload + b" " * (64 * 1024)
    assert (await post_webhook(order_api, huge, sign(huge, WEBHOOK_SECRET)))[0] == 413
    order = (await order_api.call("GET", f"/api/v1/orders/{created['order']['id']}", buyer)).json()
    assert order["status"] == "awaiting_payment"


async def test_dev_confirm_only_for_the_buyer(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    created = await order_api.order_from_gig(buyer, await order_api.add_gig(seller))
    body = {"order_id": created["order"]["id"]}
    assert (await order_api.call("POST", "/api/v1/payments/dev-confirm", seller, body)).status_code == 404
    assert (await order_api.call("POST", "/api/v1/payments/dev-confirm", new_user(), body)).status_code == 404
    assert (await order_api.call("POST", "/api/v1/payments/dev-confirm", None, body)).status_code == 401
    assert (await order_api.call("POST", "/api/v1/payments/dev-confirm", buyer, body)).status_code == 200
    assert (await order_api.call("POST", "/api/v1/payments/dev-confirm", buyer, body)).status_code == 409


async def test_reconciliation_repairs_a_success_whose_webhook_never_arrived(order_api: OrderApi) -> None:
    """The provider charged the card, then the service died before the state change (no webhook)."""
    buyer, seller = new_user(), new_user()
    created = await order_api.order_from_gig(buyer, await order_api.add_gig(seller))
    await order_api.provider.succeed(created["payment"]["intent_id"])

    assert await reconcile(order_api.deps.handlers) == 1
    assert await reconcile(order_api.deps.handlers) == 0

    order = (await order_api.call("GET", f"/api/v1/orders/{created['order']['id']}", buyer)).json()
    assert order["status"] == "in_progress"
    assert len(await order_api.outbox("order.order.placed")) == 1
    # The late webhook that then arrives is absorbed.
    intent = await order_api.provider.retrieve_intent(created["payment"]["intent_id"])
    late = order_api.provider.webhook("payment_intent.succeeded", intent)
    assert await post_webhook(order_api, late.payload, late.signature) == (200, "already_applied")


def shifted(deps: HandlerDependencies, by: timedelta) -> HandlerDependencies:
    from dataclasses import replace

    return replace(deps, clock=lambda: deps.clock() + by)


async def test_unpaid_order_expires_and_a_later_payment_is_refunded_automatically(
    order_api: OrderApi,
) -> None:
    buyer, seller = new_user(), new_user()
    await order_api.add_user(buyer, "latepayer")
    created = await order_api.order_from_gig(buyer, await order_api.add_gig(seller, price=2_000))
    order_id = created["order"]["id"]
    later = shifted(order_api.deps.handlers, timedelta(days=2))

    assert (await tick(later))["expired"] == 1
    assert (await tick(later))["expired"] == 0
    webhook = await order_api.provider.confirm(created["payment"]["intent_id"])
    assert await post_webhook(order_api, webhook.payload, webhook.signature) == (200, "late_payment_refunded")
    assert (await tick(later))["refunded"] == 1
    assert (await tick(later))["refunded"] == 0

    order = (await order_api.call("GET", f"/api/v1/orders/{order_id}", buyer)).json()
    assert order["status"] == "expired"
    assert order["paid_amount"] == order["refunded_amount"] == created["order"]["total"]
    refunds = await order_api.provider.refunds()
    assert [(r.intent_id, r.amount) for r in refunds] == [(created["payment"]["intent_id"], order["total"])]
    assert len(await order_api.outbox("order.order.expired")) == 1
    emails = [json.dumps(e.payload) for e in await order_api.outbox("order.email")]
    assert any("order_expired" in e for e in emails)
    assert any("order_cancelled" in e for e in emails)


async def test_cancellation_after_payment_refunds_through_the_provider(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    order = await order_api.paid_order(buyer, seller, price=7_000)
    path = f"/api/v1/orders/{order['id']}/cancel"
    # The buyer may not cancel before the due date; the seller may.
    assert (await order_api.call("POST", path, buyer, {"reason": "changed my mind"})).status_code == 409
    cancelled = await order_api.call("POST", path, seller, {"reason": "cannot do it"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["refunded_amount"] == order["total"]
    assert (await tick(order_api.deps.handlers))["refunded"] == 1
    assert sum(r.amount for r in await order_api.provider.refunds()) == order["total"]
    event = (await order_api.outbox("order.order.cancelled"))[0].payload
    assert event["refund_minor"] == order["total"]
    assert event["buyer_id"] == buyer
    assert (await order_api.call("POST", path, seller, {})).status_code == 409


async def test_a_verified_success_for_another_amount_or_currency_is_acknowledged_refunded_and_alarmed(
    order_api: OrderApi,
) -> None:
    """Stripe retries any non-2xx for days: a genuine but mismatched event is answered 200, the charge is
    refunded, the order stays unpaid, the history records it and the alarm counter rises; a retry, the
    correct event afterwards and reconciliation all leave it so."""
    from dataclasses import replace

    outcomes = []
    orders = []
    for wrong in ({"amount": 1}, {"currency": "EUR"}):
        buyer, seller = new_user(), new_user()
        created = await order_api.order_from_gig(buyer, await order_api.add_gig(seller))
        intent = await order_api.provider.succeed(created["payment"]["intent_id"])
        mismatched = order_api.provider.webhook("payment_intent.succeeded", replace(intent, **wrong))
        outcomes.append(await post_webhook(order_api, mismatched.payload, mismatched.signature))
        outcomes.append(await post_webhook(order_api, mismatched.payload, mismatched.signature))
        right = order_api.provider.webhook("payment_intent.succeeded", intent)
        outcomes.append(await post_webhook(order_api, right.payload, right.signature))
        orders.append((buyer, created, intent))

    assert (
        outcomes
        == [
            (200, "amount_mismatch_refunded"),
            (200, "duplicate"),
            (200, "already_refunded"),
        ]
        * 2
    )
    assert await reconcile(order_api.deps.handlers) == 0
    assert (await tick(order_api.deps.handlers))["refunded"] == 2
    refunds = {r.intent_id: r.amount for r in await order_api.provider.refunds()}
    for buyer, created, _intent in orders:
        order = (await order_api.call("GET", f"/api/v1/orders/{created['order']['id']}", buyer)).json()
        assert (order["status"], order["paid_amount"], order["version"]) == ("awaiting_payment", 0, 1)
        history = await order_api.scalar(
            "SELECT count(*) FROM order_history"
            " WHERE order_id = :id AND action = 'payment_mismatch_refunded'",
            id=created["order"]["id"],
        )
        assert history == 1
    # What the event said was received goes back: 1 (the wrong amount), and the full charge in EUR.
    assert refunds == {orders[0][2].id: 1, orders[1][2].id: orders[1][2].amount}
    assert await order_api.outbox("order.order.placed") == []
    metrics = (await order_api.client.get("/metrics")).text
    assert 'order_payment_anomalies_total{kind="amount_mismatch"} 2.0' in metrics
