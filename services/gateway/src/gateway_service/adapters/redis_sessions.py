"""Redis session store.

Keys (all under ``gw:``):
- ``gw:session:<sid>``          hash {user_id, device_id, created_at, email_verified}; TTL = the session's
  absolute lifetime, set once at creation and never renewed: a session ends at that moment however often it
  is refreshed.
- ``gw:refresh:<sha256>``       hash {sid, user_id, status, issued_at[, rotated_at]}; TTL = refresh TTL (the
  idle timeout), capped at what is left of the session.
- ``gw:session:<sid>:family``   set of the refresh-token hashes of the session (for revocation); hashes whose
  key has expired are pruned at rotation, so the set holds only live tokens.
- ``gw:user:<user_id>:sessions`` set of the user's session ids (to end every session on a password reset or
  change); TTL = the absolute lifetime, renewed whenever a session starts, so it outlives each of them.

Rotation and revocation run as Lua scripts so a concurrent second use of one refresh token cannot rotate
twice: exactly one caller sees the token ``active`` (or rotated within the two-tab grace window).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from gateway_service.domain.sessions import RefreshTokenRecord, RefreshTokenStatus, Session

# Prune the family set only once it is larger than this, so a typical rotation stays O(1).
FAMILY_PRUNE_THRESHOLD = 16

_ROTATE = """
local status = redis.call('HGET', KEYS[1], 'status')
local now_ms = tonumber(ARGV[6])
if status == 'rotated' then
  local rotated_at = tonumber(redis.call('HGET', KEYS[1], 'rotated_at') or '0')
  if now_ms - rotated_at > tonumber(ARGV[7]) then return 0 end
elseif status ~= 'active' then
  return 0
end
local remaining_ms = redis.call('PTTL', KEYS[3])
if remaining_ms == -2 then return 0 end
local ttl_ms = tonumber(ARGV[4]) * 1000
if remaining_ms > 0 and remaining_ms < ttl_ms then ttl_ms = remaining_ms end
if status == 'active' then
  redis.call('HSET', KEYS[1], 'status', 'rotated', 'rotated_at', ARGV[6])
end
redis.call('HSET', KEYS[2], 'sid', ARGV[1], 'user_id', ARGV[2], 'status', 'active', 'issued_at', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ttl_ms)
redis.call('SADD', KEYS[4], ARGV[5])
if remaining_ms > 0 then redis.call('PEXPIRE', KEYS[4], remaining_ms) end
if redis.call('SCARD', KEYS[4]) > tonumber(ARGV[8]) then
  for _, token_hash in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if redis.call('EXISTS', 'gw:refresh:' .. token_hash) == 0 then redis.call('SREM', KEYS[4], token_hash) end
  end
end
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


def session_key(session_id: str) -> str:
    """The key whose existence is the session's liveness (also read by the edge's admission script)."""
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

    async def create(
        self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int, *, lifetime_seconds: int
    ) -> None:
        live_key = session_key(session.session_id)
        family_key = _family_key(session.session_id)
        refresh_key = _refresh_key(refresh.token_hash)
        user_key = _user_sessions_key(session.user_id)
        session_fields: Mapping[Any, Any] = {
            "user_id": session.user_id,
            "device_id": session.device_id or "",
            "created_at": session.created_at.isoformat(),
            "email_verified": "1" if session.email_verified else "0",
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(live_key, mapping=session_fields)
            pipe.hset(refresh_key, mapping=_refresh_fields(refresh))
            pipe.sadd(family_key, refresh.token_hash)
            pipe.sadd(user_key, session.session_id)
            for key in (live_key, family_key, user_key):
                pipe.expire(key, lifetime_seconds)
            pipe.expire(refresh_key, min(ttl_seconds, lifetime_seconds))
            await pipe.execute()

    async def get_refresh(self, token_hash: str) -> RefreshTokenRecord | None:
        fields = await self._redis.hgetall(_refresh_key(token_hash))
        if not fields:
            return None
        decoded = {_text(key): _text(value) for key, value in fields.items()}
        rotated_at_ms = decoded.get("rotated_at")
        return RefreshTokenRecord(
            token_hash=token_hash,
            session_id=decoded["sid"],
            user_id=decoded["user_id"],
            status=RefreshTokenStatus(decoded["status"]),
            issued_at=datetime.fromisoformat(decoded["issued_at"]),
            rotated_at=None
            if rotated_at_ms is None
            else datetime.fromtimestamp(int(rotated_at_ms) / 1000, UTC),
        )

    async def is_live(self, session_id: str) -> bool:
        return bool(await self._redis.exists(session_key(session_id)))

    async def get_session(self, session_id: str) -> Session | None:
        fields = await self._redis.hgetall(session_key(session_id))
        if not fields:
            return None
        decoded = {_text(key): _text(value) for key, value in fields.items()}
        return Session(
            session_id=session_id,
            user_id=decoded["user_id"],
            device_id=decoded.get("device_id") or None,
            created_at=datetime.fromisoformat(decoded["created_at"]),
            # Sessions stored before the field existed count as unverified (fail closed).
            email_verified=decoded.get("email_verified") == "1",
        )

    async def rotate(
        self,
        old_token_hash: str,
        new: RefreshTokenRecord,
        ttl_seconds: int,
        *,
        reuse_grace_seconds: float = 0.0,
    ) -> bool:
        keys = [
            _refresh_key(old_token_hash),
            _refresh_key(new.token_hash),
            session_key(new.session_id),
            _family_key(new.session_id),
        ]
        args = [
            new.session_id,
            new.user_id,
            new.issued_at.isoformat(),
            str(ttl_seconds),
            new.token_hash,
            str(int(new.issued_at.timestamp() * 1000)),
            str(int(reuse_grace_seconds * 1000)),
            str(FAMILY_PRUNE_THRESHOLD),
        ]
        return bool(await self._rotate(keys=keys, args=args))

    async def revoke(self, session_id: str) -> None:
        await self._revoke(keys=[session_key(session_id), _family_key(session_id)], args=[session_id])

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
