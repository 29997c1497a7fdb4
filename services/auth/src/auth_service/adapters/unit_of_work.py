"""The SQLAlchemy unit of work: one AsyncSession transaction per command, outbox rows included."""

from __future__ import annotations

import logging
from itertools import groupby

from servicekit.events import EventEnvelope
from servicekit.events.sql import stage_events
from servicekit.logging import get_correlation_id
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth_service.adapters.repositories import (
    SqlAccountRepository,
    SqlAccountTokenRepository,
    SqlOtpChallengeRepository,
    is_duplicate_key,
)
from auth_service.domain.errors import DuplicateAccountError
from auth_service.domain.events import AuthEvent
from auth_service.service_layer.errors import StoreConflictError, StoreUnavailableError
from auth_service.service_layer.unit_of_work import AuthUnitOfWork

logger = logging.getLogger(__name__)

PRODUCER = "auth"

# MariaDB/MySQL error numbers after which InnoDB has rolled back (1213) or may roll back (1205) work and
# the same command can simply run again.
_MYSQL_LOCK_DEADLOCK = 1213
_MYSQL_LOCK_WAIT_TIMEOUT = 1205
_RETRYABLE_MYSQL_ERRORS = frozenset({_MYSQL_LOCK_DEADLOCK, _MYSQL_LOCK_WAIT_TIMEOUT})
# Connection refused/lost (OperationalError, InterfaceError), pool checkout timed out, connect timed out.
_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, PoolTimeoutError, TimeoutError, ConnectionError)


def translate_store_error(error: BaseException) -> StoreConflictError | StoreUnavailableError | None:
    """Lock conflicts become StoreConflictError; lost, refused or exhausted connections StoreUnavailableError.

    Anything else (integrity or programming errors) is a bug or a domain case and is left alone.
    """
    if isinstance(error, DBAPIError) and mysql_error_number(error) in _RETRYABLE_MYSQL_ERRORS:
        return StoreConflictError(str(error.orig))
    if isinstance(error, _UNAVAILABLE_ERRORS):
        return StoreUnavailableError()
    return None


def mysql_error_number(error: DBAPIError) -> int | None:
    args: tuple[object, ...] = getattr(error.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


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
        # One INSERT per run of consecutive events with the same secret fields (`stage_events` applies its
        # `secret_fields` to every event it is given): usually one for the whole unit of work, in order.
        for secret_fields, run in groupby(events, key=lambda event: event.secret_fields):
            envelopes = [
                EventEnvelope.new(
                    type=event.type,
                    producer=PRODUCER,
                    payload=event.payload(),
                    version=event.version,
                    correlation_id=correlation_id,
                )
                for event in run
            ]
            await stage_events(session, envelopes, secret_fields=secret_fields)
        try:
            await session.commit()
        except IntegrityError as error:
            await session.rollback()
            if is_duplicate_key(error):
                raise DuplicateAccountError() from error
            raise

    def _translate_error(self, error: BaseException) -> StoreConflictError | StoreUnavailableError | None:
        return translate_store_error(error)

    async def _rollback(self) -> None:
        if self._session is None:
            return
        try:
            await self._session.rollback()
        except (DBAPIError, PoolTimeoutError, OSError):
            # The connection is already broken (that is why we are rolling back); the server discards the
            # transaction with it and the pool drops the connection. The caller reports the first error.
            logger.warning("rollback failed on a broken connection", exc_info=True)

    async def _close(self) -> None:
        if self._session is None:
            return
        session, self._session = self._session, None
        try:
            await session.close()
        except (DBAPIError, PoolTimeoutError, OSError):
            logger.warning("closing a session on a broken connection failed", exc_info=True)

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session
