"""Domain rules of OTP challenges, link tokens and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from auth_service.domain.errors import InvalidOtp, InvalidToken, OtpAttemptsExhausted
from auth_service.domain.events import AccountCreated, EmailVerificationRequested, OtpRequested
from auth_service.domain.model import (
    OTP_MAX_ATTEMPTS,
    AccountToken,
    OtpChallenge,
    TokenPurpose,
    token_digest,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _challenge(attempts: int = 0, expires_in: timedelta = timedelta(minutes=10)) -> OtpChallenge:
    return OtpChallenge(uuid4(), uuid4(), "device-1", "hash", NOW + expires_in, attempts, NOW)


def _token(used_at: datetime | None = None) -> AccountToken:
    return AccountToken(
        uuid4(), uuid4(), TokenPurpose.PASSWORD_RESET, "digest", NOW + timedelta(hours=1), used_at, NOW
    )


def test_fresh_challenge_is_usable() -> None:
    _challenge().ensure_usable(NOW)


def test_expired_challenge_is_refused() -> None:
    with pytest.raises(InvalidOtp):
        _challenge(expires_in=timedelta(seconds=-1)).ensure_usable(NOW)


def test_challenge_with_exhausted_attempts_is_refused_even_before_expiry() -> None:
    with pytest.raises(OtpAttemptsExhausted) as refused:
        _challenge(attempts=OTP_MAX_ATTEMPTS).ensure_usable(NOW)
    assert refused.value.code == "otp_attempts_exhausted"


def test_token_is_single_use() -> None:
    token = _token()
    token.consume(NOW)
    assert token.used_at == NOW
    with pytest.raises(InvalidToken):
        token.consume(NOW)


def test_expired_token_is_refused() -> None:
    with pytest.raises(InvalidToken):
        _token().consume(NOW + timedelta(hours=1))


def test_token_digest_is_sha256_hex_and_not_the_token() -> None:
    digest = token_digest("abc")
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_email_events_carry_recipient_and_template() -> None:
    payload = EmailVerificationRequested(to="a@example.com", username="alice", token="t").payload()
    assert payload == {"to": "a@example.com", "username": "alice", "token": "t", "template": "verify_email"}
    assert EmailVerificationRequested.type == "auth.email.verification_requested.v1"
    otp = OtpRequested(to="a@example.com", username="alice", otp="123456", expires_in_minutes=10)
    assert otp.payload()["template"] == "otp"
    assert otp.payload()["expires_in_minutes"] == 10


def test_account_created_payload_has_iso_timestamp() -> None:
    event = AccountCreated.at(
        user_id="u1", username="alice", email="a@example.com", country=None, created_at=NOW
    )
    assert event.payload() == {
        "user_id": "u1",
        "username": "alice",
        "email": "a@example.com",
        "country": None,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
