"""A short-lived, per-replica memory of sessions Redis said were live, in front of the session store.

Every authenticated request checks that its session still exists (``is_live``), a Redis round trip on the
hot path. A page load sends several requests on the same session within a second or two, so remembering a
"live" answer for ``ttl_seconds`` saves most of those trips (ADR 0024).

HTTP requests with a token no longer ask it: the edge's admission script reads the session's key in the
same Redis call as the request budgets (adapters/rate_limiter.py, ADR 0024 "edge redesign"), so their
liveness is always Redis's. What still asks here is Socket.IO's connect and heartbeat, and the session
dependency for a request the admission did not judge.

What stays exact:

- only *live* answers are remembered; an ended session is asked about every time;
- revocations that pass through this replica (signout, refresh-token reuse, password change or reset) drop
  the remembered entries at once, before Redis is even asked, so they take effect here immediately;
- a revocation made by *another* replica takes effect here within ``ttl_seconds`` (the documented bound,
  ``SESSION_LIVENESS_CACHE_SECONDS``, 2 s by default; 0 turns the cache off).

The memory is bounded (``max_entries``, oldest first out), so a flood of sessions cannot grow the process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gateway_service.domain.sessions import RefreshTokenRecord, Session
from gateway_service.service_layer.ports import SessionStore

DEFAULT_MAX_ENTRIES = 50_000


class LivenessCachingSessionStore:
    """A `SessionStore` that remembers positive ``is_live`` answers of ``store`` for ``ttl_seconds``."""

    def __init__(
        self,
        store: SessionStore,
        *,
        ttl_seconds: float,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._live_until: OrderedDict[str, float] = OrderedDict()
        # Bumped by every revocation through this replica: an answer that was asked for before a revocation
        # may predate it, so it is not remembered.
        self._revocations = 0

    def remembers_live(self, session_id: str) -> bool:
        """The remembered answer alone, no I/O: True only while a live answer is remembered."""
        until = self._live_until.get(session_id)
        return until is not None and self._clock() < until

    async def is_live(self, session_id: str) -> bool:
        now = self._clock()
        until = self._live_until.get(session_id)
        if until is not None and now < until:
            return True
        revocations = self._revocations
        live = await self._store.is_live(session_id)
        # The expiry counts from before the question, so a remembered answer is never older than ttl.
        if live and self._ttl > 0 and revocations == self._revocations:
            self._remember(session_id, now + self._ttl)
        else:
            self._live_until.pop(session_id, None)
        return live

    def _remember(self, session_id: str, until: float) -> None:
        self._live_until[session_id] = until
        self._live_until.move_to_end(session_id)
        while len(self._live_until) > self._max_entries:
            self._live_until.popitem(last=False)

    async def create(
        self, session: Session, refresh: RefreshTokenRecord, ttl_seconds: int, *, lifetime_seconds: int
    ) -> None:
        await self._store.create(session, refresh, ttl_seconds, lifetime_seconds=lifetime_seconds)

    async def get_refresh(self, token_hash: str) -> RefreshTokenRecord | None:
        return await self._store.get_refresh(token_hash)

    async def get_session(self, session_id: str) -> Session | None:
        # Not remembered: refresh reads the session's own state (email_verified), which must be current.
        return await self._store.get_session(session_id)

    async def rotate(
        self,
        old_token_hash: str,
        new: RefreshTokenRecord,
        ttl_seconds: int,
        *,
        reuse_grace_seconds: float = 0.0,
    ) -> bool:
        return await self._store.rotate(
            old_token_hash, new, ttl_seconds, reuse_grace_seconds=reuse_grace_seconds
        )

    async def revoke(self, session_id: str) -> None:
        self._revocations += 1
        self._live_until.pop(session_id, None)
        await self._store.revoke(session_id)

    async def revoke_user_sessions(self, user_id: str, *, except_session_id: str | None = None) -> int:
        # Which sessions belong to the user is only known to Redis; forgetting everything is cheap (each
        # forgotten session costs one more round trip) and this happens only on a password change or reset.
        self._revocations += 1
        self._live_until.clear()
        return await self._store.revoke_user_sessions(user_id, except_session_id=except_session_id)
