"""Read-modify-write of one profile with optimistic concurrency: the one way every use case changes data."""

from __future__ import annotations

import logging
from collections.abc import Callable

from users_service.domain.profile import Profile
from users_service.service_layer.locks import KeyedLocks
from users_service.service_layer.ports import ConcurrentUpdateError, ProfileRepository, StoreBusyError

logger = logging.getLogger(__name__)

Change = Callable[[Profile], Profile]

DEFAULT_ATTEMPTS = 8


class ProfileWriter:
    """Applies a pure change to the current profile and writes it back only if nobody wrote in between.

    On a version conflict (another replica wrote first) the profile is read again and the change re-applied
    to the fresh state, up to `attempts` times; then `StoreBusyError`. A change returning the profile it was
    given writes nothing. Within a process, writes to one profile are serialised (see `locks.py`).
    """

    def __init__(
        self, profiles: ProfileRepository, locks: KeyedLocks, *, attempts: int = DEFAULT_ATTEMPTS
    ) -> None:
        self._profiles = profiles
        self._locks = locks
        self._attempts = attempts

    async def change(self, user_id: str, change: Change, *, create: bool = True) -> Profile | None:
        """The profile after `change`; None when it does not exist and `create` is False."""
        async with self._locks.hold(user_id):
            for attempt in range(1, self._attempts + 1):
                current = await self._profiles.get(user_id)
                if current is None and not create:
                    return None
                base = current or Profile.new(user_id)
                changed = change(base)
                if changed is base and current is not None:
                    return current
                try:
                    if current is None:
                        return await self._profiles.add(changed)
                    return await self._profiles.save(changed)
                except ConcurrentUpdateError:
                    logger.info("profile %s changed concurrently (attempt %d); retrying", user_id, attempt)
        raise StoreBusyError(f"profile {user_id} kept changing during {self._attempts} attempts")
