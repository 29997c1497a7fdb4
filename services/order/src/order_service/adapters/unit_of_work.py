"""The SQLAlchemy unit of work: one AsyncSession transaction per use case, outbox rows included."""

from __future__ import annotations

import logging
import uuid
from types import TracebackType
from typing import Self

from servicekit.events import EventEnvelope
from servicekit.events.sql import claim_event, stage_events
from servicekit.logging import get_correlation_id
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from order_service.adapters.repositories import (
    SqlNotificationStore,
    SqlOrderStore,
    SqlPaymentStore,
    SqlReplicaStore,
)
from order_service.domain.events import OutgoingEvent

logger = logging.getLogger(__name__)

PRODUCER = "order"


class SqlUnitOfWork:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], provider_name: str) -> None:
        self._session_factory = session_factory
        self._provider_name = provider_name
        self._session: AsyncSession | None = None
        self._staged: list[OutgoingEvent] = []

    async def __aenter__(self) -> Self:
        session = self._session_factory()
        self._session = session
        self._staged = []
        self.orders = SqlOrderStore(session)
        self.replicas = SqlReplicaStore(session)
        self.notifications = SqlNotificationStore(session)
        self.payments = SqlPaymentStore(session, self._provider_name)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            # Anything not committed (an error, or a read-only use) is rolled back by closing.
            await session.close()
        except (DBAPIError, OSError):
            logger.warning("closing a session on a broken connection failed", exc_info=True)

    def _require(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        return await claim_event(self._require(), consumer, event_id)

    def publish(self, event: OutgoingEvent) -> None:
        self._staged.append(event)

    async def commit(self) -> None:
        session = self._require()
        correlation_id = get_correlation_id()
        # One INSERT for all the events of the unit of work, in the order they were published.
        await stage_events(
            session,
            [
                EventEnvelope.new(
                    type=event.type, producer=PRODUCER, payload=event.payload, correlation_id=correlation_id
                )
                for event in self._staged
            ],
        )
        self._staged = []
        await session.commit()
