"""Redis session store.

Keys (all under ``gw:``):
- ``gw:session:<sid>``          hash {user_id, device_id, created_at}; TTL = refresh TTL, renewed on rotation.
- ``gw:refresh:<sha256>``       hash {sid, user_id, status, issued_at}; TTL = refresh TTL.
- ``gw:session:<sid>:family``   set of the refresh-token hashes of the session (for revocation).

Rotation and revocation run as Lua scripts so a concurrent second use of one refresh token cannot rotate
twice: exactly one caller sees the token ``active``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from gateway_service.domain.sessions import RefreshTokenRecord, RefreshTokenStatus, Session

_ROTATE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'rotated')
redis.call('HSET', KEYS[2], 'sid', ARGV[1], 'user_id', ARGV[2], 'status', 'active', 'issued_at', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
"""

_REVOKE = """
local members = redis.call('SMEMBERS', KEYS[2])
for _, token_hash in ipairs(members) do
  redis.call('DEL', ARGV[1] .. token_hash)
end
redis.call('DEL', KEYS[1], KEYS[2])
return #members
"""

_REFRESH_PREFIX = "gw:refresh:"


def _session_key(session_id: str) -> str:
    return f"gw:session:{session_id}"


def _family_key(session_id: str) -> str:
    return f"gw:session:{session_id}:family"


def _refresh_key(token_hash: str) -> str:
    return f"{_REFRESH_PREFIX}{token_hash}"


class RedisSessionStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._rotate = redis.register_script(_ROTATE)
        self._revoke = redis.register_script(_REVOKE)

    async def create(self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int) -> None:
        session_key = _session_key(session.session_id)
        family_key = _family_key(session.session_id)
        refresh_key = _refresh_key(refresh.token_hash)
        session_fields: Mapping[Any, Any] = {
            "user_id": session.user_id,
            "device_id": session.device_id or "",
            "created_at": session.created_at.isoformat(),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(session_key, mapping=session_fields)
            pipe.hset(refresh_key, mapping=_refresh_fields(refresh))
            pipe.sadd(family_key, refresh.token_hash)
            for key in (session_key, family_key, refresh_key):
                pipe.expire(key, ttl_seconds)
            await pipe.execute()

    async def get_refresh(self, token_hash: str) -> RefreshTokenRecord | None:
        fields = await self._redis.hgetall(_refresh_key(token_hash))
        if not fields:
            return None
        decoded = {_text(key): _text(value) for key, value in fields.items()}
        return RefreshTokenRecord(
            token_hash=token_hash,
            session_id=decoded["sid"],
            user_id=decoded["user_id"],
            status=RefreshTokenStatus(decoded["status"]),
            issued_at=datetime.fromisoformat(decoded["issued_at"]),
        )

    async def is_live(self, session_id: str) -> bool:
        return bool(await self._redis.exists(_session_key(session_id)))

    async def rotate(self, old_token_hash: str, new: RefreshTokenRecord, ttl_seconds: int) -> bool:
        keys = [
            _refresh_key(old_token_hash),
            _refresh_key(new.token_hash),
            _session_key(new.session_id),
            _family_key(new.session_id),
        ]
        args = [new.session_id, new.user_id, new.issued_at.isoformat(), str(ttl_seconds), new.token_hash]
        return bool(await self._rotate(keys=keys, args=args))

    async def revoke(self, session_id: str) -> None:
        await self._revoke(keys=[_session_key(session_id), _family_key(session_id)], args=[_REFRESH_PREFIX])


def _refresh_fields(record: RefreshTokenRecord) -> Mapping[Any, Any]:
    return {
        "sid": record.session_id,
        "user_id": record.user_id,
        "status": record.status.value,
        "issued_at": record.issued_at.isoformat(),
    }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
