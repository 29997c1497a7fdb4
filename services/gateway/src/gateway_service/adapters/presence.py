"""Online presence in the gateway's Redis, with heartbeats and a TTL, so a killed replica's users go offline.

`gw:presence:user:<id>` is a sorted set of that user's sockets scored by when each expires; every replica
refreshes the scores of its own sockets each heartbeat. `gw:presence:online` holds each online user scored by
their latest expiry. A replica that dies stops refreshing: its sockets' scores fall behind the clock, and the
next sweep by any replica removes them and announces the user offline. Exactly one sweeper wins the
`ZREM` of a user from `gw:presence:online`, so each transition is announced once.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

ONLINE_KEY = "gw:presence:online"


def _user_key(user_id: str) -> str:
    return f"gw:presence:user:{user_id}"


class RedisPresence:
    def __init__(self, redis: Redis, *, ttl_seconds: float) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    @property
    def ttl_seconds(self) -> float:
        return self._ttl

    def _expiry(self) -> float:
        return time.time() + self._ttl

    async def connected(self, user_id: str, socket_id: str) -> bool:
        """Record a socket; True when the user was offline before (a transition to announce)."""
        now = time.time()
        key = _user_key(user_id)
        was_online = await self._redis.zcount(key, now, "+inf") > 0
        expiry = self._expiry()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {socket_id: expiry})
            pipe.expire(key, int(self._ttl) + 1)
            pipe.zadd(ONLINE_KEY, {user_id: expiry}, gt=True)  # GT still adds a new member
            await pipe.execute()
        return not was_online

    async def disconnected(self, user_id: str, socket_id: str) -> bool:
        """Forget a socket; True when it was the user's last live one and this call took them offline."""
        key = _user_key(user_id)
        await self._redis.zrem(key, socket_id)
        if await self._redis.zcount(key, time.time(), "+inf") > 0:
            return False
        return bool(await self._redis.zrem(ONLINE_KEY, user_id))

    async def refresh(self, sockets: dict[str, str]) -> list[str]:
        """Heartbeat of this replica's sockets (socket id -> user id); returns the users this refresh put
        back online (absent from `gw:presence:online`: Redis lost them in a restart, or a sweep took them
        offline while this replica could not reach Redis), so the caller announces them online again."""
        if not sockets:
            return []
        expiry = self._expiry()
        added_for: list[str | None] = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for socket_id, user_id in sockets.items():
                pipe.zadd(_user_key(user_id), {socket_id: expiry})
                pipe.expire(_user_key(user_id), int(self._ttl) + 1)
                pipe.zadd(ONLINE_KEY, {user_id: expiry}, gt=True)  # GT still adds a new member
                added_for += [None, None, user_id]
            results = await pipe.execute()
        back = [user for user, added in zip(added_for, results, strict=True) if user is not None and added]
        return list(dict.fromkeys(back))

    async def sweep(self) -> list[str]:
        """Users whose every socket stopped heartbeating (a dead replica); each returned by one sweeper."""
        now = time.time()
        expired = await self._redis.zrangebyscore(ONLINE_KEY, "-inf", now, start=0, num=500)
        gone: list[str] = []
        for raw in expired:
            user_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            key = _user_key(user_id)
            await self._redis.zremrangebyscore(key, "-inf", now)
            if await self._redis.zcard(key) > 0:
                continue  # refreshed meanwhile on another replica
            if await self._redis.zrem(ONLINE_KEY, user_id):
                gone.append(user_id)
        return gone

    async def online(self, user_ids: list[str]) -> dict[str, bool]:
        if not user_ids:
            return {}
        now = time.time()
        scores = await self._redis.zmscore(ONLINE_KEY, user_ids)
        return {
            user_id: score is not None and score > now
            for user_id, score in zip(user_ids, scores, strict=True)
        }
