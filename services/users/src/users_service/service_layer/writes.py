"""Read-modify-write of one profile with optimistic concurrency: the one way every use case changes data."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from servicekit.locks import KeyedLocks

from users_service.domain.profile import Profile
from users_service.service_layer.ports import ConcurrentUpdateError, ProfileUnitOfWork, StoreBusyError

logger = logging.getLogger(__name__)

Change = Callable[[Profile], Profile]
UnitOfWorkFactory = Callable[[], ProfileUnitOfWork]

DEFAULT_BUDGET_SECONDS = 8.0
_FIRST_PAUSE_SECONDS = 0.01
_LONGEST_PAUSE_SECONDS = 0.5


class ProfileWriter:
    """Applies a pure change to the current profile in one unit of work, committed only if nobody wrote
    in between (version guard, servicekit.mongo).

    On a conflict (another replica wrote first, or a writer that died left its write claim until the claim's
    lease runs out) the profile is read again after a short jittered pause and the change re-applied to the
    fresh state, for up to `budget_seconds`; then `StoreBusyError`. The budget must outlast the claim lease,
    or a crashed writer's claim would turn into dead-lettered events. A change returning the profile it was
    given writes nothing. Within a process, writes to one profile are serialised (`servicekit.locks`).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        locks: KeyedLocks,
        *,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    ) -> None:
        self._uow_factory = uow_factory
        self._locks = locks
        self._budget = budget_seconds

    async def change(self, user_id: str, change: Change, *, create: bool = True) -> Profile | None:
        """The profile after `change`; None when it does not exist and `create` is False."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._budget
        pause = _FIRST_PAUSE_SECONDS
        attempt = 0
        async with self._locks.hold(user_id):
            while attempt == 0 or loop.time() < deadline:
                attempt += 1
                async with self._uow_factory() as uow:
                    current = await uow.profiles.get(user_id)
                    if current is None and not create:
                        return None
                    base = current or Profile.new(user_id)
                    changed = change(base)
                    if changed is base and current is not None:
                        return current
                    if current is None:
                        uow.profiles.add(changed)
                    else:
                        uow.profiles.save(changed)
                    try:
                        await uow.commit()
                    except ConcurrentUpdateError:
                        logger.info(
                            "profile %s changed concurrently (attempt %d); retrying", user_id, attempt
                        )
                    else:
                        return changed
                await asyncio.sleep(pause * random.uniform(0.5, 1.0))
                pause = min(pause * 2, _LONGEST_PAUSE_SECONDS)
        raise StoreBusyError(f"profile {user_id} kept changing for {self._budget:g}s ({attempt} attempts)")
