"""SQL repositories on one AsyncSession (the unit of work's transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.adapters.orm import (
    directory,
    gig_replicas,
    notifications,
    offer_replicas,
    order_history,
    orders,
    payments,
    refund_jobs,
)
from order_service.domain.errors import SourceUnavailable, VersionConflict
from order_service.domain.events import Contact, NotificationDraft
from order_service.domain.model import Delivery, Extension, ExtensionStatus, Order, OrderStatus, Transition
from order_service.domain.replicas import GigReplica, OfferReplica
from order_service.service_layer.paging import Position
from order_service.service_layer.ports import PaymentIntent, PaymentRecord, RefundJob, StoredNotification


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _order_row(order: Order) -> dict[str, Any]:
    extension = order.extension
    delivery = order.delivery
    return {
        "gig_id": order.gig_id,
        "offer_id": order.offer_id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "status": order.status.value,
        "price": order.price,
        "service_fee": order.service_fee,
        "seller_earnings": order.seller_earnings,
        "currency": order.currency,
        "delivery_days": order.delivery_days,
        "created_at": order.created_at,
        "updated_at": order.updated_at or order.created_at,
        "expires_at": order.expires_at,
        "due_at": order.due_at,
        "payment_intent_id": order.payment_intent_id,
        "paid_amount": order.paid_amount,
        "refunded_amount": order.refunded_amount,
        "extension": None
        if extension is None
        else {
            "days": extension.days,
            "reason": extension.reason,
            "status": extension.status.value,
            "requested_at": _iso(extension.requested_at),
            "decided_at": _iso(extension.decided_at),
        },
        "delivery": None
        if delivery is None
        else {
            "message": delivery.message,
            "file_keys": delivery.file_keys,
            "delivered_at": _iso(delivery.delivered_at),
        },
        "buyer_review_id": order.buyer_review_id,
        "seller_review_id": order.seller_review_id,
    }


def _order_of(row: Mapping[Any, Any]) -> Order:
    extension = row["extension"]
    delivery = row["delivery"]
    return Order(
        id=row["id"],
        gig_id=row["gig_id"],
        offer_id=row["offer_id"],
        buyer_id=row["buyer_id"],
        seller_id=row["seller_id"],
        status=OrderStatus(row["status"]),
        price=row["price"],
        service_fee=row["service_fee"],
        seller_earnings=row["seller_earnings"],
        currency=row["currency"],
        delivery_days=row["delivery_days"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
        due_at=row["due_at"],
        version=row["version"],
        payment_intent_id=row["payment_intent_id"],
        paid_amount=row["paid_amount"],
        refunded_amount=row["refunded_amount"],
        extension=None
        if extension is None
        else Extension(
            days=extension["days"],
            reason=extension["reason"],
            status=ExtensionStatus(extension["status"]),
            requested_at=_when(extension["requested_at"]) or row["created_at"],
            decided_at=_when(extension["decided_at"]),
        ),
        delivery=None
        if delivery is None
        else Delivery(
            message=delivery["message"],
            file_keys=list(delivery["file_keys"]),
            delivered_at=_when(delivery["delivered_at"]) or row["updated_at"],
        ),
        buyer_review_id=row["buyer_review_id"],
        seller_review_id=row["seller_review_id"],
    )


class SqlOrderStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        statement = sa.select(orders).where(orders.c.id == order_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else _order_of(row)

    async def by_offer(self, offer_id: str) -> Order | None:
        row = (
            (await self._session.execute(sa.select(orders).where(orders.c.offer_id == offer_id)))
            .mappings()
            .first()
        )
        return None if row is None else _order_of(row)

    async def add(self, order: Order) -> None:
        try:
            # A savepoint, so losing the race for an offer leaves the transaction usable for the caller.
            async with self._session.begin_nested():
                await self._session.execute(
                    sa.insert(orders).values(id=order.id, version=order.version, **_order_row(order))
                )
        except IntegrityError as error:
            # The only unique key a new order can collide on is offer_id: another request ordered it first.
            raise SourceUnavailable("This offer has been ordered already") from error

    async def save(self, order: Order, expected_version: int) -> None:
        # The conditional UPDATE is the optimistic lock: a concurrent writer that committed first bumped
        # the version; PostgreSQL re-checks the WHERE after waiting for the row lock and matches nothing.
        result = await self._session.execute(
            sa.update(orders)
            .where(orders.c.id == order.id, orders.c.version == expected_version)
            .values(version=expected_version + 1, **_order_row(order))
        )
        if getattr(result, "rowcount", 0) != 1:
            raise VersionConflict()
        order.version = expected_version + 1

    async def append_history(self, order: Order, transition: Transition, at: datetime) -> None:
        await self._session.execute(
            sa.insert(order_history).values(
                order_id=order.id,
                version=order.version,
                action=transition.action,
                actor=transition.actor,
                actor_id=transition.actor_id,
                from_status=transition.from_status.value,
                to_status=transition.to_status.value,
                details={**transition.details, "refund": transition.refund_due},
                at=at,
            )
        )

    async def of_party(
        self, user_id: str, role: Literal["buyer", "seller"], limit: int, before: Position | None
    ) -> Sequence[Order]:
        column = orders.c.buyer_id if role == "buyer" else orders.c.seller_id
        statement = sa.select(orders).where(column == user_id)
        if before is not None:
            statement = statement.where(_after_in_newest_first(orders, before))
        statement = statement.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit)
        return [_order_of(row) for row in (await self._session.execute(statement)).mappings()]

    async def due_for_expiry(self, now: datetime, limit: int) -> Sequence[Order]:
        statement = (
            sa.select(orders)
            .where(orders.c.status == OrderStatus.AWAITING_PAYMENT.value, orders.c.expires_at <= now)
            .order_by(orders.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_order_of(row) for row in (await self._session.execute(statement)).mappings()]

    async def set_review(self, order_id: str, role: str, review_id: str) -> bool:
        column = "buyer_review_id" if role == "buyer" else "seller_review_id"
        result = await self._session.execute(
            sa.update(orders).where(orders.c.id == order_id).values({column: review_id})
        )
        return bool(getattr(result, "rowcount", 0))


class SqlReplicaStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _put_versioned(self, table: sa.Table, key: str, values: dict[str, Any]) -> bool:
        # Insert, or overwrite only with a newer version: an out-of-order older event changes nothing.
        statement = postgresql.insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[key],
            set_={name: statement.excluded[name] for name in values if name != key},
            where=table.c.version < statement.excluded.version,
        )
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def gig(self, gig_id: str) -> GigReplica | None:
        row = (
            (await self._session.execute(sa.select(gig_replicas).where(gig_replicas.c.gig_id == gig_id)))
            .mappings()
            .first()
        )
        return None if row is None else GigReplica(**row)

    async def put_gig(self, gig: GigReplica) -> bool:
        return await self._put_versioned(gig_replicas, "gig_id", gig.__dict__.copy())

    async def offer(self, offer_id: str) -> OfferReplica | None:
        row = (
            (
                await self._session.execute(
                    sa.select(offer_replicas).where(offer_replicas.c.offer_id == offer_id)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else OfferReplica(**row)

    async def put_offer(self, offer: OfferReplica) -> bool:
        return await self._put_versioned(offer_replicas, "offer_id", offer.__dict__.copy())

    async def contact(self, user_id: str) -> Contact | None:
        row = (
            (await self._session.execute(sa.select(directory).where(directory.c.user_id == user_id)))
            .mappings()
            .first()
        )
        return None if row is None else Contact(**row)

    async def put_contact(self, contact: Contact) -> bool:
        statement = postgresql.insert(directory).values(**contact.__dict__).on_conflict_do_nothing()
        return bool(getattr(await self._session.execute(statement), "rowcount", 0))


def _notification_of(row: Mapping[Any, Any]) -> StoredNotification:
    return StoredNotification(**row)


class SqlNotificationStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notification_id: str, draft: NotificationDraft, order_id: str, at: datetime) -> None:
        await self._session.execute(
            sa.insert(notifications).values(
                id=notification_id,
                user_id=draft.user_id,
                order_id=order_id,
                kind=draft.kind,
                text=draft.text,
                created_at=at,
            )
        )

    async def of_user(
        self, user_id: str, limit: int, unread_only: bool, before: Position | None = None
    ) -> Sequence[StoredNotification]:
        statement = sa.select(notifications).where(notifications.c.user_id == user_id)
        if unread_only:
            statement = statement.where(notifications.c.read_at.is_(None))
        if before is not None:
            statement = statement.where(_after_in_newest_first(notifications, before))
        statement = statement.order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        statement = statement.limit(limit)
        return [_notification_of(row) for row in (await self._session.execute(statement)).mappings()]

    async def mark_read(self, user_id: str, notification_id: str, at: datetime) -> StoredNotification | None:
        # Marking twice keeps the first time; someone else's notification is "not found".
        await self._session.execute(
            sa.update(notifications)
            .where(
                notifications.c.id == notification_id,
                notifications.c.user_id == user_id,
                notifications.c.read_at.is_(None),
            )
            .values(read_at=at)
        )
        row = (
            (
                await self._session.execute(
                    sa.select(notifications).where(
                        notifications.c.id == notification_id, notifications.c.user_id == user_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _notification_of(row)


class SqlPaymentStore:
    def __init__(self, session: AsyncSession, provider: str) -> None:
        self._session = session
        self._provider = provider

    async def add_intent(self, intent: PaymentIntent, at: datetime) -> None:
        await self._session.execute(
            sa.insert(payments).values(
                intent_id=intent.id,
                order_id=intent.order_id,
                provider=self._provider,
                amount=intent.amount,
                currency=intent.currency,
                status=intent.status,
                client_secret=intent.client_secret,
                created_at=at,
                updated_at=at,
            )
        )

    @staticmethod
    def _record(row: Mapping[Any, Any]) -> PaymentRecord:
        return PaymentRecord(
            intent_id=row["intent_id"],
            order_id=row["order_id"],
            amount=row["amount"],
            currency=row["currency"],
            status=row["status"],
            client_secret=row["client_secret"],
            created_at=row["created_at"],
        )

    async def intent(self, intent_id: str) -> PaymentRecord | None:
        statement = sa.select(payments).where(payments.c.intent_id == intent_id).with_for_update()
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else self._record(row)

    async def of_order(self, order_id: str) -> PaymentRecord | None:
        statement = (
            sa.select(payments).where(payments.c.order_id == order_id).order_by(payments.c.created_at.desc())
        )
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else self._record(row)

    async def set_status(self, intent_id: str, status: str, at: datetime) -> None:
        await self._session.execute(
            sa.update(payments).where(payments.c.intent_id == intent_id).values(status=status, updated_at=at)
        )

    async def add_refund_job(self, order_id: str, intent_id: str, amount: int, at: datetime) -> None:
        # One job per intent: a second request to refund the same payment is the same refund.
        statement = (
            postgresql.insert(refund_jobs)
            .values(order_id=order_id, intent_id=intent_id, amount=amount, created_at=at)
            .on_conflict_do_nothing(index_elements=["intent_id"])
        )
        await self._session.execute(statement)

    async def due_refund_jobs(self, limit: int) -> Sequence[RefundJob]:
        statement = (
            sa.select(
                refund_jobs.c.id,
                refund_jobs.c.order_id,
                refund_jobs.c.intent_id,
                refund_jobs.c.amount,
                refund_jobs.c.attempts,
            )
            .where(refund_jobs.c.refunded_at.is_(None))
            .order_by(refund_jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [RefundJob(**row) for row in (await self._session.execute(statement)).mappings()]

    async def finish_refund_job(self, job: RefundJob, refund_id: str, at: datetime) -> None:
        await self._session.execute(
            sa.update(refund_jobs)
            .where(refund_jobs.c.id == job.id)
            .values(refund_id=refund_id, refunded_at=at)
        )

    async def fail_refund_job(self, job: RefundJob, error: str) -> None:
        await self._session.execute(
            sa.update(refund_jobs)
            .where(refund_jobs.c.id == job.id)
            .values(attempts=refund_jobs.c.attempts + 1, last_error=error)
        )

    async def unsettled(
        self, created_before: datetime, created_after: datetime, limit: int
    ) -> Sequence[PaymentRecord]:
        statement = (
            sa.select(payments)
            .where(
                # Settled either way: applied, or refunded as a mismatch (never applied later).
                payments.c.status.notin_(("succeeded", "amount_mismatch")),
                payments.c.created_at < created_before,
                payments.c.created_at > created_after,
            )
            .order_by(payments.c.created_at)
            .limit(limit)
        )
        return [self._record(row) for row in (await self._session.execute(statement)).mappings()]


def _after_in_newest_first(table: sa.Table, position: Position) -> sa.ColumnElement[bool]:
    """The rows after `position` in (created_at, id) descending order; a bare timestamp: the older ones."""
    older = table.c.created_at < position.created_at
    if position.id is None:
        return older
    return sa.or_(older, sa.and_(table.c.created_at == position.created_at, table.c.id < position.id))
