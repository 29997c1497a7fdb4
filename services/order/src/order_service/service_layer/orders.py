"""Order use cases: create (price from the replicas, never the client), read, and the party transitions.

A transition reads the order, lets the aggregate check who and from which state, and writes it back only if
its version is unchanged (`OrderStore.save`): of two concurrent transitions exactly one wins, the other gets
`VersionConflict` (409). History, event, notifications, emails and refund jobs commit in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from order_service.domain.errors import OrderNotFound, SourceUnavailable, VersionConflict
from order_service.domain.model import Order, Transition
from order_service.domain.money import breakdown
from order_service.service_layer.commands import (
    ApproveDelivery,
    CancelOrder,
    CreateOrder,
    DecideExtension,
    DeliverOrder,
    ListOrders,
    RequestExtension,
)
from order_service.service_layer.dependencies import HandlerDependencies
from order_service.service_layer.paging import parse_position
from order_service.service_layer.ports import OrderStore, PaymentIntent, ReplicaStore
from order_service.service_layer.recording import record


async def create_order(command: CreateOrder, deps: HandlerDependencies) -> tuple[Order, PaymentIntent]:
    """An order awaiting payment, with its payment intent at the provider.

    The intent is created before the order row with the order id as idempotency key; if the insert then
    fails the intent is never shown to anyone, and should it be paid anyway, reconciliation refunds it.
    """
    now = deps.clock()
    async with deps.new_uow() as uow:
        order = await _order_from_source(command, uow.replicas, uow.orders, now, deps)
    intent = await deps.provider.create_intent(
        order_id=order.id, amount=order.total, currency=order.currency, idempotency_key=f"order-{order.id}"
    )
    order.payment_intent_id = intent.id
    async with deps.new_uow() as uow:
        if order.offer_id is not None and await uow.orders.by_offer(order.offer_id) is not None:
            raise SourceUnavailable("This offer has been ordered already")
        await uow.orders.add(order)
        await uow.payments.add_intent(intent, now)
        await record(
            uow, order, Transition("created", "buyer", order.buyer_id, order.status, order.status), now
        )
        await uow.commit()
    return order, intent


async def _order_from_source(
    command: CreateOrder, replicas: ReplicaStore, orders: OrderStore, now: datetime, deps: HandlerDependencies
) -> Order:
    if (command.gig_id is None) == (command.offer_id is None):
        raise SourceUnavailable("Give exactly one of gig_id and offer_id")
    if command.offer_id is not None:
        offer = await replicas.offer(command.offer_id)
        if offer is None or offer.status != "accepted" or offer.buyer_id != command.buyer_id:
            raise SourceUnavailable("No accepted offer of yours with that id")
        if await orders.by_offer(offer.offer_id) is not None:
            raise SourceUnavailable("This offer has been ordered already")
        # Chat takes any gig id in an offer (it keeps no gigs): without this, anyone could sell "on" another
        # seller's gig, and the order, its review and its rating would land on that gig. A paused gig may
        # still be sold by custom offer; a deleted one, or one that is not the offer's seller's, may not.
        gig = await replicas.gig(offer.gig_id)
        if gig is None or gig.deleted or gig.seller_id != offer.seller_id:
            raise SourceUnavailable("The offer's gig is not a live gig of the offer's seller")
        return Order.place(
            gig_id=offer.gig_id,
            offer_id=offer.offer_id,
            buyer_id=command.buyer_id,
            seller_id=offer.seller_id,
            prices=breakdown(offer.price),
            currency=offer.currency,
            delivery_days=offer.delivery_days,
            now=now,
            payment_window=deps.payment_window,
        )
    assert command.gig_id is not None
    gig = await replicas.gig(command.gig_id)
    if gig is None or not gig.orderable:
        raise SourceUnavailable("No orderable gig with that id")
    return Order.place(
        gig_id=gig.gig_id,
        offer_id=None,
        buyer_id=command.buyer_id,
        seller_id=gig.seller_id,
        prices=breakdown(gig.price),
        currency=gig.currency,
        delivery_days=gig.delivery_days,
        now=now,
        payment_window=deps.payment_window,
    )


async def get_order(user_id: str, order_id: str, deps: HandlerDependencies) -> Order:
    async with deps.new_uow() as uow:
        order = await uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound()
    order.role_of(user_id)  # not a party: OrderNotFound
    return order


async def list_orders(query: ListOrders, deps: HandlerDependencies) -> Sequence[Order]:
    before = parse_position(query.before)
    async with deps.new_uow() as uow:
        return await uow.orders.of_party(query.user_id, query.role, query.limit, before)


async def _transition(
    user_id: str,
    order_id: str,
    expected_version: int | None,
    change: Callable[[Order, datetime], Transition],
    deps: HandlerDependencies,
) -> Order:
    now = deps.clock()
    async with deps.new_uow() as uow:
        order = await uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound()
        # Who before which version: a stranger naming a stale version must get the same 404 as for an
        # order that does not exist, not a 409 telling them it exists and at which version.
        order.role_of(user_id)
        read_version = order.version
        if expected_version is not None and expected_version != read_version:
            raise VersionConflict(f"The order is at version {read_version}, not {expected_version}")
        transition = change(order, now)
        await uow.orders.save(order, read_version)
        await record(uow, order, transition, now)
        await uow.commit()
    return order


async def cancel_order(command: CancelOrder, deps: HandlerDependencies) -> Order:
    return await _transition(
        command.user_id,
        command.order_id,
        command.expected_version,
        lambda order, now: order.cancel(command.user_id, command.reason, now),
        deps,
    )


async def request_extension(command: RequestExtension, deps: HandlerDependencies) -> Order:
    return await _transition(
        command.user_id,
        command.order_id,
        command.expected_version,
        lambda order, now: order.request_extension(command.user_id, command.days, command.reason, now),
        deps,
    )


async def decide_extension(command: DecideExtension, deps: HandlerDependencies) -> Order:
    return await _transition(
        command.user_id,
        command.order_id,
        command.expected_version,
        lambda order, now: order.decide_extension(command.user_id, command.approve, now),
        deps,
    )


async def deliver_order(command: DeliverOrder, deps: HandlerDependencies) -> Order:
    """Who, which state and the keys' shape first (the aggregate, on the order as read), then each file in
    the object store (outside any transaction), then the transition itself."""
    if command.file_keys:
        async with deps.new_uow() as uow:
            order = await uow.orders.get(command.order_id)
        if order is None:
            raise OrderNotFound()
        order.deliver(command.user_id, command.message, list(command.file_keys), deps.clock())
        for key in command.file_keys:
            await deps.delivery_files.verify(key, order.seller_id)
    return await _transition(
        command.user_id,
        command.order_id,
        command.expected_version,
        lambda order, now: order.deliver(command.user_id, command.message, list(command.file_keys), now),
        deps,
    )


async def approve_delivery(command: ApproveDelivery, deps: HandlerDependencies) -> Order:
    return await _transition(
        command.user_id,
        command.order_id,
        command.expected_version,
        lambda order, now: order.approve(command.user_id, now),
        deps,
    )
