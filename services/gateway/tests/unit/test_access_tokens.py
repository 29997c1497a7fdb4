"""HS256 access tokens: tampered, expired, foreign and wrong-type tokens are refused."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from gateway_service.adapters.access_tokens import ACCESS_TOKEN_ISSUER, Hs256AccessTokenCodec
from gateway_service.domain.errors import InvalidAccessTokenError

SECRET = "unit-test-access-token-key-0123456789abcdef"


def _claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ACCESS_TOKEN_ISSUER,
        "typ": "access",
        "sub": "u1",
        "sid": "s1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return claims


def test_issued_token_round_trips() -> None:
    codec = Hs256AccessTokenCodec(SECRET, ttl_seconds=900)
    token, expires_in = codec.issue(user_id="u1", session_id="s1")
    claims = codec.verify(token)
    assert (claims.user_id, claims.session_id, expires_in) == ("u1", "s1", 900)
    assert claims.expires_at > datetime.now(UTC) + timedelta(seconds=800)


def test_tampered_payload_is_refused() -> None:
    codec = Hs256AccessTokenCodec(SECRET, ttl_seconds=900)
    token, _ = codec.issue(user_id="u1", session_id="s1")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidAccessTokenError):
        codec.verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode(_claims(exp=datetime.now(UTC) - timedelta(seconds=60)), SECRET, algorithm="HS256"),
        jwt.encode(_claims(), "another-key-that-is-also-32-bytes-long!!", algorithm="HS256"),
        jwt.encode(_claims(typ="refresh"), SECRET, algorithm="HS256"),
        jwt.encode(_claims(iss="someone-else"), SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in _claims().items() if k != "sid"}, SECRET, algorithm="HS256"),
        jwt.encode(_claims(), key="", algorithm="none"),
        "not-a-jwt",
    ],
    ids=["expired", "foreign-key", "wrong-type", "wrong-issuer", "no-session", "alg-none", "garbage"],
)
def test_invalid_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidAccessTokenError):
        Hs256AccessTokenCodec(SECRET, ttl_seconds=900).verify(token)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Hs256AccessTokenCodec("too-short", ttl_seconds=900)


def test_clock_skew_within_the_leeway_is_tolerated() -> None:
    codec = Hs256AccessTokenCodec("s" * 40, ttl_seconds=900)
    now = datetime.now(UTC)
    skewed = jwt.encode(
        {
            "iss": "gigstack-gateway",
            "typ": "access",
            "sub": "u1",
            "sid": "s1",
            "iat": now + timedelta(seconds=10),  # minted by a replica whose clock runs ahead
            "exp": now - timedelta(seconds=5),  # or checked by one whose clock runs behind
        },
        "s" * 40,
        algorithm="HS256",
    )
    assert codec.verify(skewed).user_id == "u1"


def test_a_remembered_token_is_served_until_its_expiry_then_verified_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [time.time()]
    codec = Hs256AccessTokenCodec(SECRET, ttl_seconds=900, leeway_seconds=30, clock=lambda: clock[0])
    token, _ = codec.issue(user_id="u1", session_id="s1")
    verifications = []
    verify_signature = codec._verify

    def counting(candidate: str) -> Any:
        verifications.append(candidate)
        return verify_signature(candidate)

    monkeypatch.setattr(codec, "_verify", counting)
    first = codec.verify(token)
    clock[0] = first.expires_at.timestamp() + 29.9
    assert codec.verify(token) == first
    assert len(verifications) == 1, "served from memory within expiry + leeway"
    clock[0] = first.expires_at.timestamp() + 30.1
    codec.verify(token)  # (still valid by the real clock PyJWT reads)
    assert len(verifications) == 2, "past expiry + leeway the signature and claims are checked again"
    with pytest.raises(InvalidAccessTokenError):
        codec.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
