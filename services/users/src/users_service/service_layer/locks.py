"""Per-key asyncio locks, so one process never runs two read-modify-write cycles on one profile at once.

FerretDB v1 applies an update as read, modify, then replace by `_id` with no check at write time, so even a
version-guarded write can lose a concurrent one there (servicekit.events.mongo documents the measurement).
Serialising writes per profile inside the process removes the races a single replica has with itself (the
consumer's prefetch, API requests next to events); the version guard covers replicas on MongoDB/DocumentDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if self._holders[key] == 0:  # nobody waits: forget it, so the map stays small
                del self._holders[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
