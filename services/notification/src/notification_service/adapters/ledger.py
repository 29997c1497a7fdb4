"""Redis delivery ledger: one key per event, ``claimed:<token>`` (with a lease) then ``sent`` (kept for days).

The lease bounds how long a crashed sender blocks an event: after it expires a redelivery may claim and send.
It must outlast one whole send (the SMTP adapter caps a send at 4 x its timeout).
"""

from __future__ import annotations

import secrets
from uuid import UUID

from redis.asyncio import Redis

SENT = "sent"
CLAIM_PREFIX = "claimed:"

# Delete the key only if it still holds our claim: an expired lease taken over stays with its new owner.
_RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisDeliveryLedger:
    def __init__(
        self,
        client: Redis,
        *,
        claim_seconds: int = 60,
        sent_retention_seconds: int = 30 * 24 * 3600,
        key_prefix: str = "notification:delivery:",
    ) -> None:
        self._redis = client
        self._claim_seconds = claim_seconds
        self._sent_retention_seconds = sent_retention_seconds
        self._key_prefix = key_prefix

    def _key(self, event_id: UUID) -> str:
        return f"{self._key_prefix}{event_id}"

    async def state(self, event_id: UUID) -> str | None:
        value = await self._redis.get(self._key(event_id))
        return _text(value)

    async def is_sent(self, event_id: UUID) -> bool:
        return await self.state(event_id) == SENT

    async def claim(self, event_id: UUID) -> str | None:
        token = f"{CLAIM_PREFIX}{secrets.token_hex(8)}"
        claimed = await self._redis.set(self._key(event_id), token, nx=True, ex=self._claim_seconds)
        return token if claimed else None

    async def release(self, event_id: UUID, claim: str) -> None:
        await self._redis.eval(_RELEASE_IF_OURS, 1, self._key(event_id), claim)

    async def mark_sent(self, event_id: UUID) -> None:
        await self._redis.set(self._key(event_id), SENT, ex=self._sent_retention_seconds)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
