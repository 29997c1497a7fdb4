"""SQL repositories over one AsyncSession; they never commit (the unit of work does)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from servicekit.events.sql import UtcDateTime
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from review_service.adapters.orm import completed_orders, directory, reviews
from review_service.domain.model import CompletedOrder, DirectoryEntry, Review, ReviewerRole
from review_service.domain.pagination import Position


def _review(row: sa.Row[Any]) -> Review:
    return Review(
        id=str(row.id),
        order_id=row.order_id,
        gig_id=row.gig_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        reviewer_id=row.reviewer_id,
        reviewer_role=ReviewerRole(row.reviewer_role),
        rating=row.rating,
        comment=row.comment,
        created_at=row.created_at,
    )


class SqlReviewStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._staged: list[Review] = []

    def add(self, review: Review) -> None:
        self._staged.append(review)

    async def flush(self) -> None:
        """Write the staged reviews (called by the unit of work before committing)."""
        for review in self._staged:
            await self._session.execute(
                sa.insert(reviews).values(
                    id=uuid.UUID(review.id),
                    order_id=review.order_id,
                    gig_id=review.gig_id,
                    buyer_id=review.buyer_id,
                    seller_id=review.seller_id,
                    reviewer_id=review.reviewer_id,
                    reviewer_role=review.reviewer_role.value,
                    rating=review.rating,
                    comment=review.comment,
                    created_at=review.created_at,
                )
            )
        self._staged.clear()

    async def exists(self, order_id: str, reviewer_role: str) -> bool:
        query = sa.select(sa.literal(1)).where(
            reviews.c.order_id == order_id, reviews.c.reviewer_role == reviewer_role
        )
        return (await self._session.execute(query)).first() is not None

    async def page_by_gig(self, gig_id: str, size: int, after: Position | None) -> Sequence[Review]:
        return await self._page(reviews.c.gig_id == gig_id, size, after)

    async def page_by_seller(self, seller_id: str, size: int, after: Position | None) -> Sequence[Review]:
        return await self._page(reviews.c.seller_id == seller_id, size, after)

    async def _page(self, subject: sa.ColumnElement[bool], size: int, after: Position | None) -> list[Review]:
        # Buyers' reviews only: these are the ratings of the seller's work that gig and seller pages show.
        query = sa.select(reviews).where(subject, reviews.c.reviewer_role == ReviewerRole.BUYER.value)
        if after is not None:
            position = sa.tuple_(reviews.c.created_at, reviews.c.id)
            last = sa.tuple_(
                sa.bindparam("after_at", after.created_at, type_=UtcDateTime()),
                sa.bindparam("after_id", uuid.UUID(after.review_id), type_=sa.Uuid()),
            )
            query = query.where(position < last)
        query = query.order_by(reviews.c.created_at.desc(), reviews.c.id.desc()).limit(size)
        return [_review(row) for row in (await self._session.execute(query)).all()]


class SqlCompletedOrderStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str) -> CompletedOrder | None:
        query = sa.select(completed_orders).where(completed_orders.c.order_id == order_id)
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return CompletedOrder(
            order_id=row.order_id,
            gig_id=row.gig_id,
            buyer_id=row.buyer_id,
            seller_id=row.seller_id,
            completed_at=row.completed_at,
        )

    async def record(self, order: CompletedOrder) -> None:
        statement = postgresql.insert(completed_orders).values(
            order_id=order.order_id,
            gig_id=order.gig_id,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            completed_at=order.completed_at,
        )
        if order.completed_at is None:
            # A placed event: the parties are known; anything already here is at least as recent.
            statement = statement.on_conflict_do_nothing(index_elements=["order_id"])
        else:
            # The completion of an order whose placed event came first: only the completion is new.
            statement = statement.on_conflict_do_update(
                index_elements=["order_id"],
                set_={
                    "completed_at": statement.excluded.completed_at,
                    "gig_id": sa.func.coalesce(completed_orders.c.gig_id, statement.excluded.gig_id),
                },
                where=completed_orders.c.completed_at.is_(None),
            )
        await self._session.execute(statement)


class SqlDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: str) -> DirectoryEntry | None:
        row = (
            await self._session.execute(sa.select(directory).where(directory.c.user_id == user_id))
        ).first()
        return None if row is None else DirectoryEntry(row.user_id, row.username, row.email)

    async def put(self, entry: DirectoryEntry) -> None:
        statement = postgresql.insert(directory).values(
            user_id=entry.user_id, username=entry.username, email=entry.email
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"username": statement.excluded.username, "email": statement.excluded.email},
        )
        await self._session.execute(statement)
