"""Secret hashing: argon2id for passwords (memory-bounded), PBKDF2 for one-time codes.

argon2id costs ``memory_cost_kib`` of RAM per hash for its duration (64 MiB by default); unbounded, a burst
of sign-ups or sign-ins (reachable without an account) multiplies that until the pod is OOM-killed. So hashes
run in worker threads behind a semaphore whose size comes from a memory budget: at most
``budget // memory_cost`` hashes are in flight, the rest queue on the event loop (costing nothing).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_MEMORY_COST_KIB = 65536
# What the hashes in flight may use together; the pod limit minus the service's baseline, with headroom.
DEFAULT_HASHING_MEMORY_BUDGET_KIB = 128 * 1024


def concurrent_hashes(memory_budget_kib: int, memory_cost_kib: int) -> int:
    """How many argon2 hashes fit in the budget at once (at least one, or nothing could sign in)."""
    return max(1, memory_budget_kib // memory_cost_kib)


class Argon2idPasswordHasher:
    """argon2-cffi's argon2id with its RFC 9106 low-memory defaults unless told otherwise.

    Each hash takes ~50-200 ms of CPU, so it runs in a worker thread: the event loop keeps serving
    other requests meanwhile.
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = DEFAULT_MEMORY_COST_KIB,
        parallelism: int = 4,
        memory_budget_kib: int = DEFAULT_HASHING_MEMORY_BUDGET_KIB,
    ) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism, type=Type.ID
        )
        self.max_concurrent = concurrent_hashes(memory_budget_kib, memory_cost_kib)
        self._slots = asyncio.Semaphore(self.max_concurrent)
        # Hash of a random secret nobody knows: verifying against it costs what a real verification does.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def fast_for_tests(cls) -> Argon2idPasswordHasher:
        """argon2id at its minimum cost: only for tests (settings allow it in development and test only)."""
        return cls(time_cost=1, memory_cost_kib=1024, parallelism=1)

    async def hash(self, secret: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, secret_hash: str, secret: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._verify_sync, secret_hash, secret)

    def needs_rehash(self, secret_hash: str) -> bool:
        return self._hasher.check_needs_rehash(secret_hash)

    async def verify_dummy(self, secret: str) -> None:
        async with self._slots:
            await asyncio.to_thread(self._verify_sync, self._dummy_hash, secret)

    def _verify_sync(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False


_PBKDF2_PREFIX = "pbkdf2_sha256"
OTP_PBKDF2_ITERATIONS = 20_000


class Pbkdf2OtpHasher:
    """Salted PBKDF2-HMAC-SHA256 for 6-digit one-time codes: a few ms of CPU and no memory to speak of.

    A memory-hard KDF buys nothing for a secret with 10^6 values: no KDF makes an offline search of them
    slow, so a code's protection is its 10-minute lifetime and 5-attempt limit (checked online). The hash
    only keeps a database reader from reading live codes at a glance. Codes stored as argon2 hashes by
    earlier versions still verify until they expire.
    """

    def __init__(
        self, *, iterations: int = OTP_PBKDF2_ITERATIONS, legacy: Argon2idPasswordHasher | None = None
    ):
        self._iterations = iterations
        self._legacy = legacy

    async def hash(self, code: str) -> str:
        salt = secrets.token_bytes(16)
        digest = await asyncio.to_thread(self._derive, code, salt, self._iterations)
        return f"{_PBKDF2_PREFIX}${self._iterations}${_b64(salt)}${_b64(digest)}"

    async def verify(self, code_hash: str, code: str) -> bool:
        if code_hash.startswith("$argon2") and self._legacy is not None:
            return await self._legacy.verify(code_hash, code)
        try:
            prefix, iterations, salt, expected = code_hash.split("$")
            if prefix != _PBKDF2_PREFIX:
                return False
            digest = await asyncio.to_thread(self._derive, code, _unb64(salt), int(iterations))
        except ValueError:
            return False
        return hmac.compare_digest(digest, _unb64(expected))

    async def verify_dummy(self, code: str) -> None:
        await asyncio.to_thread(self._derive, code, b"\0" * 16, self._iterations)

    @staticmethod
    def _derive(code: str, salt: bytes, iterations: int) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", code.encode(), salt, iterations)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
