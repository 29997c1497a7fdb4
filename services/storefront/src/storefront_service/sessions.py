"""Server-side sessions: the browser holds only an opaque id; tokens stay in the storefront's Redis.

Each session is one JSON value under ``sf:session:<id>`` with a sliding TTL. It carries the CSRF
synchronizer token (security.py), the flash messages of the next page and, once signed in, the gateway's
access and refresh tokens with the user they belong to. The id changes whenever the privilege changes (sign
in, sign out), so an id planted in a browser before sign-in is worthless after it (session fixation).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from redis.asyncio import Redis

COOKIE_NAME = "sf_session"
# A long-lived random id per browser, sent to the gateway as X-Device-Id: auth asks for an OTP only on a
# device it does not know, so the id must outlive a session (signing out keeps it).
DEVICE_COOKIE_NAME = "sf_device"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers honour
KEY_PREFIX = "sf:session:"
_ID_BYTES = 32


@dataclass
class SignedInUser:
    id: str
    username: str
    email: str
    email_verified: bool


@dataclass
class Session:
    id: str
    csrf_token: str
    access_token: str | None = None
    refresh_token: str | None = None
    # Epoch seconds after which the access token is refreshed before use (a little before its real expiry).
    access_expires_at: float = 0.0
    user: SignedInUser | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    # The sign-in name waiting for its emailed OTP (signin answered 202 otp_required).
    pending_otp_for: str | None = None
    # Set when anything changed, so a read-only request does not rewrite the session.
    dirty: bool = field(default=False, compare=False)
    is_new: bool = field(default=False, compare=False)

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.access_token is not None

    def flash(self, message: str, level: str = "info") -> None:
        self.flashes.append((level, message))
        self.dirty = True

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        if taken:
            self.dirty = True
        return taken

    def set_tokens(self, access_token: str, refresh_token: str, expires_in: int) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        # Refresh 30 s early (or at half-life for very short tokens) so a token never expires in flight.
        self.access_expires_at = time.time() + max(expires_in - 30, expires_in / 2)
        self.dirty = True

    def forget_user(self) -> None:
        self.access_token = self.refresh_token = None
        self.access_expires_at = 0.0
        self.user = None
        self.pending_otp_for = None
        self.dirty = True

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("dirty")
        data.pop("is_new")
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session:
        data = json.loads(raw)
        user = data.pop("user", None)
        flashes = [(str(level), str(message)) for level, message in data.pop("flashes", [])]
        return cls(**data, user=SignedInUser(**user) if user else None, flashes=flashes)


def new_token() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


def _valid_id(session_id: str) -> bool:
    # token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not ours and not looked up.
    return len(session_id) == 43 and all(c.isalnum() or c in "-_" for c in session_id)


class SessionStore:
    def __init__(self, redis: Redis, *, idle_seconds: int, anonymous_idle_seconds: int) -> None:
        self._redis = redis
        self.idle_seconds = idle_seconds
        self._anonymous_idle_seconds = anonymous_idle_seconds

    async def load(self, session_id: str | None) -> Session | None:
        if not session_id or not _valid_id(session_id):
            return None
        raw = await self._redis.get(KEY_PREFIX + session_id)
        if raw is None:
            return None
        try:
            return Session.from_json(raw)
        except (ValueError, TypeError, KeyError):
            # A value this code cannot read (an older shape): start over rather than fail the page.
            return None

    def new(self) -> Session:
        return Session(id=new_token(), csrf_token=new_token(), dirty=True, is_new=True)

    async def save(self, session: Session) -> None:
        ttl = self.idle_seconds if session.signed_in else self._anonymous_idle_seconds
        await self._redis.set(KEY_PREFIX + session.id, session.to_json(), ex=ttl)
        session.dirty = False

    async def rotate(self, session: Session) -> None:
        """New id and new CSRF token, same content: on every privilege change."""
        await self._redis.delete(KEY_PREFIX + session.id)
        session.id = new_token()
        session.csrf_token = new_token()
        session.is_new = True
        session.dirty = True

    async def delete(self, session: Session) -> None:
        await self._redis.delete(KEY_PREFIX + session.id)
