"""Per-key asyncio locks: one process never runs two read-modify-write cycles on one document at once.

A consumer with prefetch N may hold N deliveries about the same document (a popular gig's ratings, one
user's profile events). Written concurrently with optimistic concurrency, all but one lose each round, back
off and read again; on FerretDB every attempt also takes a write claim (several round trips), so the losers
multiply the store's work just when it is busiest. Serialising writes per key inside the process removes
the races a replica has with itself; the version guard and its retry still cover other replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    """One `asyncio.Lock` per key, kept only while someone holds or waits for it (the map stays small)."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._holders: dict[Hashable, int] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:  # also when cancelled while waiting: the count must not leak
            self._holders[key] -= 1
            if self._holders[key] == 0:
                del self._holders[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)

    def __bool__(self) -> bool:
        # Without this, `__len__` makes a registry holding no key falsy, so `locks or KeyedLocks()` would
        # silently replace a shared (idle) registry with a private one.
        return True
