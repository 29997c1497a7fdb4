"""Auth aggregates: the account and the short-lived secrets issued for it (OTP challenges, link tokens)."""

from __future__ import annotations

import enum
import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from auth_service.domain.errors import InvalidOtp, InvalidToken, OtpAttemptsExhausted, SignInThrottled

OTP_MAX_ATTEMPTS = 5
OTP_DIGITS = 6

# Failed-attempt policy (docs/security.md): the first SIGNIN_FREE_FAILURES wrong passwords cost nothing;
# each later attempt must wait a delay that doubles per failure up to SIGNIN_MAX_DELAY, and once the budget
# is spent a correct password is still confirmed by an emailed OTP. Never a hard lock: a victim can reset.
SIGNIN_FREE_FAILURES = 5
SIGNIN_MAX_DELAY = timedelta(minutes=15)
# Failures older than this (counted from the latest one) are forgotten.
SIGNIN_FAILURE_MEMORY = timedelta(minutes=15)


def signin_delay(failures: int) -> timedelta:
    """How long after the latest failure the next attempt must wait."""
    if failures < SIGNIN_FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - SIGNIN_FREE_FAILURES)), SIGNIN_MAX_DELAY)


@dataclass
class Account:
    """A user's credentials record. The password is only ever held as an argon2id hash."""

    id: UUID
    username: str
    email: str
    password_hash: str
    country: str | None
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    last_signed_out_at: datetime | None = None
    failed_signins: int = 0
    last_failed_signin_at: datetime | None = None

    def start_signin_attempt(self, now: datetime) -> bool:
        """Count a password attempt *before* the password is checked (a success refunds it).

        Raises SignInThrottled while the growing delay runs. Returns whether the budget was already spent, in
        which case even a correct password must be confirmed with an OTP.
        """
        last = self.last_failed_signin_at
        if last is not None and now - last > SIGNIN_FAILURE_MEMORY + signin_delay(self.failed_signins):
            self.failed_signins = 0
        budget_spent = self.failed_signins >= SIGNIN_FREE_FAILURES
        if budget_spent and last is not None:
            wait = (last + signin_delay(self.failed_signins) - now).total_seconds()
            if wait > 0:
                raise SignInThrottled(math.ceil(wait))
        self.failed_signins += 1
        self.last_failed_signin_at = now
        return budget_spent

    def signin_succeeded(self) -> None:
        """The password (or a reset link) was right: the attempt is refunded and the budget restored."""
        self.failed_signins = 0
        self.last_failed_signin_at = None

    def change_password_hash(self, password_hash: str, now: datetime) -> None:
        self.password_hash = password_hash
        self.updated_at = now

    def mark_email_verified(self, now: datetime) -> None:
        self.email_verified = True
        self.updated_at = now

    def record_sign_out(self, now: datetime) -> None:
        self.last_signed_out_at = now


@dataclass
class OtpChallenge:
    """A pending new-device sign-in: one hashed code bound to one account and one device."""

    id: UUID
    account_id: UUID
    device_id: str
    code_hash: str
    expires_at: datetime
    attempts: int
    created_at: datetime

    def ensure_usable(self, now: datetime) -> None:
        """Raise when no more guesses may be made against this challenge."""
        if self.attempts >= OTP_MAX_ATTEMPTS:
            raise OtpAttemptsExhausted()
        if now >= self.expires_at:
            raise InvalidOtp()

    def record_failed_attempt(self) -> None:
        self.attempts += 1


class TokenPurpose(enum.StrEnum):
    """What a single-use link token authorises."""

    EMAIL_VERIFICATION = "email_verification"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name, not a secret


@dataclass
class AccountToken:
    """A single-use link token. Only its SHA-256 digest is stored, so a database leak reveals no live link."""

    id: UUID
    account_id: UUID
    purpose: TokenPurpose
    token_hash: str
    expires_at: datetime
    used_at: datetime | None
    created_at: datetime

    def consume(self, now: datetime) -> None:
        """Mark the token used, or raise InvalidToken when it was used already or has expired."""
        if self.used_at is not None or now >= self.expires_at:
            raise InvalidToken()
        self.used_at = now


def token_digest(token: str) -> str:
    """SHA-256 hex digest under which a link token is stored and looked up.

    A plain digest suffices (unlike passwords) because the token already carries 256 bits of randomness.
    """
    return hashlib.sha256(token.encode()).hexdigest()
