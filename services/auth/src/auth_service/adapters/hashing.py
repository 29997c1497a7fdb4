"""argon2id hashing for passwords and OTP codes, run off the event loop."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2idPasswordHasher:
    """argon2-cffi's argon2id with its RFC 9106 low-memory defaults unless told otherwise.

    Each hash takes ~50-200 ms of CPU, so it runs in a worker thread: the event loop keeps serving
    other requests meanwhile.
    """

    def __init__(self, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 4) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism, type=Type.ID
        )
        # Hash of a random secret nobody knows: verifying against it costs what a real verification does.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, secret: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, secret_hash: str, secret: str) -> bool:
        return await asyncio.to_thread(self._verify_sync, secret_hash, secret)

    def needs_rehash(self, secret_hash: str) -> bool:
        return self._hasher.check_needs_rehash(secret_hash)

    async def verify_dummy(self, secret: str) -> None:
        await asyncio.to_thread(self._verify_sync, self._dummy_hash, secret)

    def _verify_sync(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
