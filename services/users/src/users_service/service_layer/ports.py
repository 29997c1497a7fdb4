"""What the use cases need from the outside world; adapters implement these, unit-test fakes too."""

from __future__ import annotations

from typing import Protocol

from users_service.domain.profile import Profile


class ConcurrentUpdateError(Exception):
    """The stored profile is no longer at the version it was read at (or was inserted meanwhile)."""


class StoreBusyError(Exception):
    """A profile kept changing under every attempt to write it; the caller may try again later."""


class ProfileRepository(Protocol):
    async def get(self, user_id: str) -> Profile | None: ...

    async def by_username(self, username: str) -> Profile | None: ...

    async def add(self, profile: Profile) -> Profile:
        """Insert a new profile at version 1; `ConcurrentUpdateError` if its user id is already stored."""
        ...

    async def save(self, profile: Profile) -> Profile:
        """Replace the stored profile if still at `profile.version`; returns it at the next version.

        Raises `ConcurrentUpdateError` when another write got there first.
        """
        ...

    async def random_sellers(self, count: int, *, pivot: float) -> list[Profile]:
        """Up to `count` sellers whose random key follows `pivot` (wrapping around to the start)."""
        ...


class AppliedEventLedger(Protocol):
    """Long-term record of (event id, user id) pairs applied to profiles; one unique key per pair."""

    async def contains(self, event_id: str, user_id: str) -> bool: ...

    async def record(self, event_id: str, user_id: str) -> None:
        """Idempotent: recording a pair twice is not an error."""
        ...
