"""The SQLAlchemy unit of work: one AsyncSession transaction per command, outbox rows included."""

from __future__ import annotations

import logging
import uuid
from types import TracebackType
from typing import Self

from servicekit.events import EventEnvelope
from servicekit.events.sql import claim_event, stage_events
from servicekit.logging import get_correlation_id
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from review_service.adapters.repositories import SqlCompletedOrderStore, SqlDirectory, SqlReviewStore
from review_service.domain.errors import AlreadyReviewed
from review_service.domain.events import ReviewEvent
from review_service.service_layer.errors import StoreUnavailableError

logger = logging.getLogger(__name__)

PRODUCER = "review"
REVIEW_SIDE_CONSTRAINT = "uq_reviews_order_id_reviewer_role"
# Connection refused or lost, pool checkout or connect timed out: the store is away, not the request wrong.
_UNAVAILABLE_ERRORS = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    TimeoutError,
    ConnectionError,
    OSError,
)


class SqlAlchemyUnitOfWork:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self._events: list[ReviewEvent] = []

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self.reviews = SqlReviewStore(self._session)
        self.orders = SqlCompletedOrderStore(self._session)
        self.directory = SqlDirectory(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        self._events = []
        if session is not None:
            try:
                await session.rollback()
                await session.close()
            except (DBAPIError, PoolTimeoutError, OSError):
                # The connection is already broken; the server discards the transaction with it.
                logger.warning("rollback on a broken connection failed", exc_info=True)
        if exc is not None and isinstance(exc, _UNAVAILABLE_ERRORS) and not isinstance(exc, IntegrityError):
            raise StoreUnavailableError() from exc

    def record(self, event: ReviewEvent) -> None:
        self._events.append(event)

    async def claim(self, consumer: str, event_id: str) -> bool:
        return await claim_event(self._require_session(), consumer, uuid.UUID(event_id))

    async def commit(self) -> None:
        session = self._require_session()
        events, self._events = self._events, []
        try:
            await self.reviews.flush()
            correlation_id = get_correlation_id()
            # One INSERT for all the events of the unit of work, in the order they were recorded.
            await stage_events(
                session,
                [
                    EventEnvelope.new(
                        type=event.type,
                        producer=PRODUCER,
                        payload=event.payload(),
                        correlation_id=correlation_id,
                    )
                    for event in events
                ],
            )
            await session.commit()
        except IntegrityError as error:
            await session.rollback()
            if REVIEW_SIDE_CONSTRAINT in str(error.orig):
                raise AlreadyReviewed() from error
            raise

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session
