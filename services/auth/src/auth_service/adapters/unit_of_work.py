"""The SQLAlchemy unit of work: one AsyncSession transaction per command, outbox rows included."""

from __future__ import annotations

from servicekit.events import EventEnvelope
from servicekit.events.sql import stage_event
from servicekit.logging import get_correlation_id
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth_service.adapters.repositories import (
    SqlAccountRepository,
    SqlAccountTokenRepository,
    SqlOtpChallengeRepository,
    is_duplicate_key,
)
from auth_service.domain.events import AuthEvent
from auth_service.domain.exceptions import DuplicateAccountError
from auth_service.service_layer.unit_of_work import AuthUnitOfWork

PRODUCER = "auth"


class SqlAlchemyUnitOfWork(AuthUnitOfWork):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    async def _begin(self) -> None:
        self._session = self._session_factory()
        self.accounts = SqlAccountRepository(self._session)
        self.otp_challenges = SqlOtpChallengeRepository(self._session)
        self.tokens = SqlAccountTokenRepository(self._session)

    async def _commit(self, events: list[AuthEvent]) -> None:
        session = self._require_session()
        correlation_id = get_correlation_id()
        for event in events:
            envelope = EventEnvelope.new(
                type=event.type,
                producer=PRODUCER,
                payload=event.payload(),
                version=event.version,
                correlation_id=correlation_id,
            )
            await stage_event(session, envelope)
        try:
            await session.commit()
        except IntegrityError as error:
            await session.rollback()
            if is_duplicate_key(error):
                raise DuplicateAccountError() from error
            raise

    async def _rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session
