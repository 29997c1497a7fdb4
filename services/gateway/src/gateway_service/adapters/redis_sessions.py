"""Redis session store.

Keys (all under ``gw:``):
- ``gw:session:<sid>``          hash {user_id, device_id, created_at}; TTL = refresh TTL, renewed on rotation.
- ``gw:refresh:<sha256>``       hash {sid, user_id, status, issued_at}; TTL = refresh TTL.
- ``gw:session:<sid>:family``   set of the refresh-token hashes of the session (for revocation).
- ``gw:user:<user_id>:sessions`` set of the user's session ids (to end every other session on a password
  change); TTL = refresh TTL, renewed whenever one of them starts or rotates.

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
redis.call('EXPIRE', KEYS[5], ARGV[4])
return 1
"""

# Deletes one session, its family's refresh tokens and its entry in the user's set. Key names beyond KEYS are
# built in the script (fine on a single Redis or a primary/replica pair; not cluster-safe).
_REVOKE_BODY = """
local function revoke(sid)
  local session_key = 'gw:session:' .. sid
  local family_key = session_key .. ':family'
  local user_id = redis.call('HGET', session_key, 'user_id')
  for _, token_hash in ipairs(redis.call('SMEMBERS', family_key)) do
    redis.call('DEL', 'gw:refresh:' .. token_hash)
  end
  redis.call('DEL', session_key, family_key)
  if user_id then redis.call('SREM', 'gw:user:' .. user_id .. ':sessions', sid) end
end
"""

_REVOKE = (
    _REVOKE_BODY
    + """
revoke(ARGV[1])
return 1
"""
)

_REVOKE_OTHERS = (
    _REVOKE_BODY
    + """
local revoked = 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= ARGV[1] then
    revoke(sid)
    redis.call('SREM', KEYS[1], sid)
    revoked = revoked + 1
  end
end
return revoked
"""
)

_REFRESH_PREFIX = "gw:refresh:"


def _session_key(session_id: str) -> str:
    return f"gw:session:{session_id}"


def _family_key(session_id: str) -> str:
    return f"gw:session:{session_id}:family"


def _user_sessions_key(user_id: str) -> str:
    return f"gw:user:{user_id}:sessions"


def _refresh_key(token_hash: str) -> str:
    return f"{_REFRESH_PREFIX}{token_hash}"


class RedisSessionStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._rotate = redis.register_script(_ROTATE)
        self._revoke = redis.register_script(_REVOKE)
        self._revoke_others = redis.register_script(_REVOKE_OTHERS)

    async def create(self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int) -> None:
        session_key = _session_key(session.session_id)
        family_key = _family_key(session.session_id)
        refresh_key = _refresh_key(refresh.token_hash)
        user_key = _user_sessions_key(session.user_id)
        session_fields: Mapping[Any, Any] = {
            "user_id": session.user_id,
            "device_id": session.device_id or "",
            "created_at": session.created_at.isoformat(),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(session_key, mapping=session_fields)
            pipe.hset(refresh_key, mapping=_refresh_fields(refresh))
            pipe.sadd(family_key, refresh.token_hash)
            pipe.sadd(user_key, session.session_id)
            for key in (session_key, family_key, refresh_key, user_key):
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
            _user_sessions_key(new.user_id),
        ]
        args = [new.session_id, new.user_id, new.issued_at.isoformat(), str(ttl_seconds), new.token_hash]
        return bool(await self._rotate(keys=keys, args=args))

    async def revoke(self, session_id: str) -> None:
        await self._revoke(keys=[_session_key(session_id), _family_key(session_id)], args=[session_id])

    async def revoke_user_sessions(self, user_id: str, *, except_session_id: str | None = None) -> int:
        keys = [_user_sessions_key(user_id)]
        return int(await self._revoke_others(keys=keys, args=[except_session_id or ""]))


def _refresh_fields(record: RefreshTokenRecord) -> Mapping[Any, Any]:
    return {
        "sid": record.session_id,
        "user_id": record.user_id,
        "status": record.status.value,
        "issued_at": record.issued_at.isoformat(),
    }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
