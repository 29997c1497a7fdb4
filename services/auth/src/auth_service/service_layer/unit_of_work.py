"""The unit-of-work port: one transaction per command, events staged in that same transaction."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from auth_service.domain.events import AuthEvent
from auth_service.service_layer.errors import StoreConflictError, StoreUnavailableError
from auth_service.service_layer.ports import (
    AccountRepository,
    AccountTokenRepository,
    OtpChallengeRepository,
)


class AuthUnitOfWork(abc.ABC):
    """Repositories sharing one transaction; ``commit`` writes state and recorded events atomically.

    Leaving the ``async with`` block without committing rolls everything back, events included. Store
    failures leave the block as the port's own errors (``StoreConflictError``, ``StoreUnavailableError``),
    so the service layer can retry or report them without knowing the driver.
    """

    accounts: AccountRepository
    otp_challenges: OtpChallengeRepository
    tokens: AccountTokenRepository

    def __init__(self) -> None:
        self._pending_events: list[AuthEvent] = []

    def record(self, event: AuthEvent) -> None:
        """Queue an integration event to be written to the outbox by the next commit."""
        self._pending_events.append(event)

    async def commit(self) -> None:
        events, self._pending_events = self._pending_events, []
        await self._commit(events)

    async def rollback(self) -> None:
        self._pending_events = []
        await self._rollback()

    async def __aenter__(self) -> Self:
        await self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        finally:
            await self._close()
        if exc is not None and not isinstance(exc, StoreConflictError | StoreUnavailableError):
            translated = self._translate_error(exc)
            if translated is not None:
                raise translated from exc

    def _translate_error(self, error: BaseException) -> StoreConflictError | StoreUnavailableError | None:
        """The port error a store failure stands for, or None when ``error`` is not a store failure."""
        return None

    @abc.abstractmethod
    async def _begin(self) -> None: ...

    @abc.abstractmethod
    async def _commit(self, events: list[AuthEvent]) -> None:
        """Persist changes and ``events`` in one transaction; DuplicateAccountError on a unique clash."""

    @abc.abstractmethod
    async def _rollback(self) -> None: ...

    @abc.abstractmethod
    async def _close(self) -> None: ...
