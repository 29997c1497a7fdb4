"""What the use cases need from the outside world; adapters implement these, unit-test fakes too."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from users_service.domain.profile import Profile


class ConcurrentUpdateError(Exception):
    """Another writer changed the profile since this unit of work read it (or created it meanwhile)."""


class StoreBusyError(Exception):
    """A profile kept changing under every attempt to write it; the caller may try again later."""


class ProfileReader(Protocol):
    """Reads for queries; never used to write."""

    async def get(self, user_id: str) -> Profile | None: ...

    async def by_username(self, username: str) -> Profile | None: ...

    async def random_sellers(self, count: int, *, pivot: float) -> list[Profile]:
        """Up to `count` sellers whose random key follows `pivot` (wrapping around to the start)."""
        ...


class VersionedProfiles(Protocol):
    """Profiles inside one unit of work: the version each was read at is remembered for its write."""

    async def get(self, user_id: str) -> Profile | None: ...

    def add(self, profile: Profile) -> None:
        """Stage the insert of a new profile."""

    def save(self, profile: Profile) -> None:
        """Stage the write of a profile read by `get`, conditional on its version being unchanged."""


class ProfileUnitOfWork(Protocol):
    """One command's writes, applied by `commit`; `ConcurrentUpdateError` when another writer won."""

    @property
    def profiles(self) -> VersionedProfiles: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class AppliedEventLedger(Protocol):
    """Long-term record of (event id, user id) pairs applied to profiles; one unique key per pair."""

    async def contains(self, event_id: str, user_id: str) -> bool: ...

    async def record(self, event_id: str, user_id: str) -> None:
        """Idempotent: recording a pair twice is not an error."""
