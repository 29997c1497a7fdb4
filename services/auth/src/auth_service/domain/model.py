"""Auth aggregates: the account and the short-lived secrets issued for it (OTP challenges, link tokens)."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from auth_service.domain.errors import InvalidOtp, InvalidToken, OtpAttemptsExhausted

OTP_MAX_ATTEMPTS = 5
OTP_DIGITS = 6


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
