"""The state machine: who may do what from which state, and a property test over random operation
sequences by any party: no illegal state is reached and money is conserved
(payments - refunds = completed earnings + fees + pending)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from order_service.domain.errors import (
    InvalidOrderRequest,
    NotAllowedForRole,
    OrderError,
    OrderNotFound,
    TransitionNotAllowed,
)
from order_service.domain.model import PAID_OPEN, ExtensionStatus, Order, OrderStatus
from order_service.domain.money import breakdown

T0 = datetime(2026, 12, 1, tzinfo=UTC)
BUYER, SELLER, STRANGER = "buyer", "seller", "stranger"


def new_order(price: int = 10_000) -> Order:
    return Order.place(
        gig_id="g",
        offer_id=None,
        buyer_id=BUYER,
        seller_id=SELLER,
        prices=breakdown(price),
        currency="USD",
        delivery_days=3,
        now=T0,
        payment_window=timedelta(hours=1),
    )


def paid(price: int = 10_000) -> Order:
    order = new_order(price)
    order.payment_intent_id = "pi_1"
    order.record_payment("pi_1", order.total, "usd", T0)
    return order


def test_payment_moves_to_in_progress_once_and_sets_the_due_date() -> None:
    order = new_order()
    transition = order.record_payment("pi_1", order.total, "USD", T0)
    assert transition is not None
    assert order.status == OrderStatus.IN_PROGRESS
    assert order.due_at == T0 + timedelta(days=3)
    assert order.record_payment("pi_1", order.total, "USD", T0) is None


def test_a_payment_of_another_amount_is_refused() -> None:
    order = new_order()
    with pytest.raises(InvalidOrderRequest):
        order.record_payment("pi_1", order.total - 1, "USD", T0)


def test_strangers_get_not_found_and_wrong_party_forbidden() -> None:
    order = paid()
    with pytest.raises(OrderNotFound):
        order.deliver(STRANGER, "m", [], T0)
    with pytest.raises(NotAllowedForRole):
        order.deliver(BUYER, "m", [], T0)
    with pytest.raises(NotAllowedForRole):
        order.request_extension(BUYER, 1, "r", T0)
    order.deliver(SELLER, "m", [], T0)
    with pytest.raises(NotAllowedForRole):
        order.approve(SELLER, T0)


def test_the_buyer_cancels_only_after_the_due_date() -> None:
    order = paid()
    with pytest.raises(TransitionNotAllowed):
        order.cancel(BUYER, "", T0 + timedelta(days=2))
    transition = order.cancel(BUYER, "late", T0 + timedelta(days=4))
    assert transition.refund_due == order.total
    assert order.refunded_amount == order.paid_amount


def test_an_approved_extension_moves_the_due_date() -> None:
    order = paid()
    order.request_extension(SELLER, 2, "more", T0)
    with pytest.raises(TransitionNotAllowed):
        order.request_extension(SELLER, 2, "again", T0)
    order.decide_extension(BUYER, True, T0)
    assert order.due_at == T0 + timedelta(days=5)
    assert order.extension is not None
    assert order.extension.status == ExtensionStatus.APPROVED


def test_expiry_needs_the_deadline() -> None:
    order = new_order()
    with pytest.raises(TransitionNotAllowed):
        order.expire(T0)
    order.expire(T0 + timedelta(hours=1))
    assert order.status == OrderStatus.EXPIRED
    late = order.record_payment("pi_1", order.total, "USD", T0 + timedelta(hours=2))
    assert late is not None
    assert late.refund_due == order.total
    assert order.status == OrderStatus.EXPIRED


# --- property test ---------------------------------------------------------------------------------------


@dataclass
class Ledger:
    payments: int = 0
    refunds: int = 0
    orders: list[Order] = field(default_factory=list)


ACTORS = st.sampled_from([BUYER, SELLER, STRANGER])
OPERATIONS = st.one_of(
    st.tuples(st.just("create"), st.integers(min_value=1, max_value=200_000)),
    st.tuples(st.just("pay"), st.integers(min_value=0, max_value=5)),
    st.tuples(st.just("expire"), st.integers(min_value=0, max_value=5)),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=5), ACTORS),
    st.tuples(st.just("extend"), st.integers(min_value=0, max_value=5), ACTORS, st.integers(-1, 40)),
    st.tuples(st.just("decide"), st.integers(min_value=0, max_value=5), ACTORS, st.booleans()),
    st.tuples(st.just("deliver"), st.integers(min_value=0, max_value=5), ACTORS),
    st.tuples(st.just("approve"), st.integers(min_value=0, max_value=5), ACTORS),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=10 * 24)),
)


def apply(ledger: Ledger, operation: tuple[object, ...], now: datetime) -> datetime:
    kind = operation[0]
    if kind == "wait":
        hours: int = operation[1]  # type: ignore[assignment]
        return now + timedelta(hours=hours)
    if kind == "create":
        order = new_order(int(operation[1]))  # type: ignore[call-overload]
        order.created_at = now
        order.expires_at = now + timedelta(hours=1)
        order.payment_intent_id = f"pi_{len(ledger.orders)}"
        ledger.orders.append(order)
        return now
    if not ledger.orders:
        return now
    order = ledger.orders[int(operation[1]) % len(ledger.orders)]  # type: ignore[call-overload]
    actor = str(operation[2]) if len(operation) > 2 else ""
    try:
        if kind == "pay":
            assert order.payment_intent_id is not None
            transition = order.record_payment(order.payment_intent_id, order.total, order.currency, now)
            if transition is not None:
                ledger.payments += order.total
                ledger.refunds += transition.refund_due
        elif kind == "expire":
            order.expire(now)
        elif kind == "cancel":
            ledger.refunds += order.cancel(actor, "r", now).refund_due
        elif kind == "extend":
            order.request_extension(actor, int(operation[3]), "r", now)  # type: ignore[call-overload]
        elif kind == "decide":
            order.decide_extension(actor, bool(operation[3]), now)
        elif kind == "deliver":
            order.deliver(actor, "m", [], now)
        elif kind == "approve":
            order.approve(actor, now)
    except OrderError:
        pass  # refused: the order must be unchanged in what the invariants check
    return now


def check(ledger: Ledger) -> None:
    completed = pending = 0
    for order in ledger.orders:
        assert order.status in OrderStatus
        assert 0 <= order.refunded_amount <= order.paid_amount
        assert order.paid_amount in (0, order.total)
        if order.status == OrderStatus.AWAITING_PAYMENT:
            assert order.paid_amount == 0
            assert order.due_at is None
        if order.status in PAID_OPEN or order.status == OrderStatus.COMPLETED:
            assert order.paid_amount == order.total
            assert order.refunded_amount == 0
            assert order.due_at is not None
        if order.status == OrderStatus.DELIVERED or order.status == OrderStatus.COMPLETED:
            assert order.delivery is not None
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert order.refunded_amount == order.paid_amount
        if order.status == OrderStatus.COMPLETED:
            prices = breakdown(order.price)
            completed += prices.seller_earnings + prices.commission + order.service_fee
        if order.status in PAID_OPEN:
            pending += order.paid_amount - order.refunded_amount
    assert ledger.payments - ledger.refunds == completed + pending


@settings(max_examples=300, deadline=None)
@given(st.lists(OPERATIONS, max_size=60))
def test_no_sequence_reaches_an_illegal_state_or_changes_money_totals(
    operations: list[tuple[object, ...]],
) -> None:
    ledger = Ledger()
    now = T0
    for operation in operations:
        now = apply(ledger, operation, now)
        check(ledger)
