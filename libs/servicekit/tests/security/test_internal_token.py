"""Internal token verification: one valid shape, every forgery and misuse refused with the same 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from servicekit.errors import Unauthorized
from servicekit.security import (
    InternalTokenIssuer,
    InternalTokenVerifier,
    generate_ed25519_keypair,
)

AUDIENCE = "order"


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    private_pem, public_pem = generate_ed25519_keypair()
    return private_pem, public_pem


@pytest.fixture(scope="module")
def verifier(keypair: tuple[str, str]) -> InternalTokenVerifier:
    return InternalTokenVerifier(keypair[1], audience=AUDIENCE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "gateway",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 30,
        "jti": "a1b2",
        "sub": "user-1",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign_eddsa(private_pem: str, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, private_pem, algorithm="EdDSA")


def _assert_refused(verifier: InternalTokenVerifier, token: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(token)
    # Same message whatever the cause, so a caller learns nothing about why.
    assert refused.value.message == "Missing or invalid internal token"
    assert refused.value.status_code == 401


def test_issued_token_verifies_with_subject_session_and_extra_claims(
    keypair: tuple[str, str], verifier: InternalTokenVerifier
) -> None:
    issuer = InternalTokenIssuer(keypair[0])
    token = issuer.issue(AUDIENCE, subject="user-7", session_id="sess-3", extra={"email_verified": True})

    principal = verifier.verify(token)

    assert principal.subject == "user-7"
    assert principal.session_id == "sess-3"
    assert principal.email_verified is True
    assert principal.claims["iss"] == "gateway"
    assert principal.claims["exp"] - principal.claims["iat"] == 30


def test_anonymous_token_has_no_subject(keypair: tuple[str, str], verifier: InternalTokenVerifier) -> None:
    principal = verifier.verify(InternalTokenIssuer(keypair[0]).issue(AUDIENCE))
    assert principal.subject is None
    assert principal.email_verified is False


def test_expired_token_is_refused(keypair: tuple[str, str], verifier: InternalTokenVerifier) -> None:
    long_ago = int(time.time()) - 120
    _assert_refused(verifier, _sign_eddsa(keypair[0], _claims(iat=long_ago, exp=long_ago + 30)))


def test_token_with_lifetime_over_sixty_seconds_is_refused(
    keypair: tuple[str, str], verifier: InternalTokenVerifier
) -> None:
    now = int(time.time())
    _assert_refused(verifier, _sign_eddsa(keypair[0], _claims(iat=now, exp=now + 3600)))


def test_token_with_tampered_payload_is_refused(
    keypair: tuple[str, str], verifier: InternalTokenVerifier
) -> None:
    header, _, signature = _sign_eddsa(keypair[0], _claims()).split(".")
    forged_payload = _b64(json.dumps(_claims(sub="admin")).encode())
    _assert_refused(verifier, f"{header}.{forged_payload}.{signature}")


def test_token_signed_with_another_key_is_refused(verifier: InternalTokenVerifier) -> None:
    other_private_pem, _ = generate_ed25519_keypair()
    _assert_refused(verifier, InternalTokenIssuer(other_private_pem).issue(AUDIENCE, subject="user-1"))


def test_token_for_another_audience_is_refused(
    keypair: tuple[str, str], verifier: InternalTokenVerifier
) -> None:
    _assert_refused(verifier, InternalTokenIssuer(keypair[0]).issue("review", subject="user-1"))


def test_token_from_another_issuer_is_refused(
    keypair: tuple[str, str], verifier: InternalTokenVerifier
) -> None:
    _assert_refused(verifier, InternalTokenIssuer(keypair[0], issuer="auth").issue(AUDIENCE, subject="u"))


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "aud", "iss"])
def test_token_missing_a_required_claim_is_refused(
    keypair: tuple[str, str], verifier: InternalTokenVerifier, missing: str
) -> None:
    claims = _claims()
    del claims[missing]
    _assert_refused(verifier, _sign_eddsa(keypair[0], claims))


def test_alg_none_token_is_refused(verifier: InternalTokenVerifier) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    _assert_refused(verifier, f"{header}.{payload}.")


def test_hs256_token_signed_with_the_public_key_as_secret_is_refused(
    keypair: tuple[str, str], verifier: InternalTokenVerifier
) -> None:
    # The classic key-confusion attack: the attacker knows the public key and uses it as an HMAC secret.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(keypair[1].encode(), signing_input, hashlib.sha256).digest())
    _assert_refused(verifier, f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Bearer x"])
def test_malformed_tokens_are_refused(verifier: InternalTokenVerifier, garbage: str) -> None:
    _assert_refused(verifier, garbage)


def test_verifier_rejects_a_non_ed25519_public_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_public_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="Ed25519"):
        InternalTokenVerifier(ec_public_pem, audience=AUDIENCE)


def test_issuer_refuses_ttl_over_sixty_seconds_and_reserved_extra_claims(keypair: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        InternalTokenIssuer(keypair[0], ttl_seconds=61)
    with pytest.raises(ValueError, match="registered claims"):
        InternalTokenIssuer(keypair[0]).issue(AUDIENCE, extra={"aud": "everyone"})


def test_generated_keypair_is_a_matching_ed25519_pair() -> None:
    from cryptography.hazmat.primitives import serialization

    private_pem, public_pem = generate_ed25519_keypair()
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(private_key, Ed25519PrivateKey)
    assert (
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == public_pem.encode()
    )


def test_verifier_accepts_every_key_of_a_rotation_bundle_and_no_other() -> None:
    old_private, old_public = generate_ed25519_keypair()
    new_private, new_public = generate_ed25519_keypair()
    stranger_private, _ = generate_ed25519_keypair()
    verifier = InternalTokenVerifier(old_public + "\n" + new_public, audience="auth")

    for private in (old_private, new_private):
        assert verifier.verify(InternalTokenIssuer(private).issue("auth", subject="u1")).subject == "u1"
    with pytest.raises(Unauthorized):
        verifier.verify(InternalTokenIssuer(stranger_private).issue("auth", subject="u1"))


def test_issued_tokens_are_byte_for_byte_what_pyjwt_encodes(
    keypair: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The issuer signs without PyJWT's generic encode path (ADR 0024, edge redesign); Ed25519 signatures are
    # deterministic, so the same claims must give the very same token.
    issuer = InternalTokenIssuer(keypair[0])
    monkeypatch.setattr("servicekit.security.tokens.time.time", lambda: 1_760_000_000.5)
    jti = uuid.UUID("0123456789abcdef0123456789abcdef")
    monkeypatch.setattr("servicekit.security.tokens.uuid.uuid4", lambda: jti)
    private_key = serialization.load_pem_private_key(keypair[0].encode(), password=None)
    for audience, subject, session_id, extra in [
        ("auth", "user-7", "sess-3", {"email_verified": True}),
        ("gig", None, None, None),
        ("users", "üser-ø", None, {"roles": ["seller", "buyer"], "n": 1}),
    ]:
        token = issuer.issue(audience, subject=subject, session_id=session_id, extra=extra)
        claims = {**(extra or {}), "iss": "gateway", "aud": audience, "iat": 1_760_000_000}
        claims |= {"exp": 1_760_000_030, "jti": jti.hex}
        claims |= {"sub": subject} if subject is not None else {}
        claims |= {"sid": session_id} if session_id is not None else {}
        assert token == jwt.encode(claims, private_key, algorithm="EdDSA")  # type: ignore[arg-type]
