"""Forged and tampered tokens, one per way a verifier can be fooled; every one must be refused (401).

``internal_token_forgeries`` covers the gateway -> service tokens (EdDSA, audience = the service);
``access_token_forgeries`` the user access tokens the gateway issues (HS256). A new token type adds a
function here, and its verifier gets a test that walks every forgery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from servicekit.security import generate_ed25519_keypair


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unsigned(claims: dict[str, Any]) -> str:
    """``alg: none`` with an empty signature: the classic verifier that trusts the header."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def hs256_with_public_key(claims: dict[str, Any], public_pem: str) -> str:
    """HS256 keyed with the verifier's *public* key: fools a verifier letting the token pick its algorithm."""
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def _eddsa(claims: dict[str, Any], private_pem: str) -> str:
    key = load_pem_private_key(private_pem.encode(), password=None)
    return jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]


def internal_claims(audience: str, *, subject: str | None = None, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "gateway",
        "aud": audience,
        "iat": now,
        "exp": now + 30,
        "jti": uuid.uuid4().hex,
    }
    if subject is not None:
        claims["sub"] = subject
    claims.update(overrides)
    return claims


def internal_token_forgeries(
    audience: str, private_pem: str, public_pem: str, subject: str
) -> dict[str, str]:
    """Name -> token that a service addressed as ``audience`` must refuse."""
    now = int(time.time())
    stranger_pem, _ = generate_ed25519_keypair()
    good = internal_claims(audience, subject=subject)
    return {
        "alg-none": unsigned(good),
        "wrong-key": _eddsa(good, stranger_pem),
        "wrong-audience": _eddsa({**good, "aud": f"not-{audience}"}, private_pem),
        "wrong-issuer": _eddsa({**good, "iss": "someone-else"}, private_pem),
        "expired": _eddsa({**good, "iat": now - 120, "exp": now - 60}, private_pem),
        "future-iat": _eddsa({**good, "iat": now + 3600, "exp": now + 3630}, private_pem),
        "too-long-lived": _eddsa({**good, "exp": now + 3600}, private_pem),
        "hs256-with-public-key": hs256_with_public_key(good, public_pem),
        "truncated-signature": _eddsa(good, private_pem)[:-6],
        "garbage": "not.a.jwt",
    }


def access_token_forgeries(valid_token: str, secret: str) -> dict[str, str]:
    """Name -> user access token the gateway must refuse, derived from a valid one."""
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    now = int(time.time())
    return {
        "alg-none": unsigned(claims),
        "wrong-key": jwt.encode(claims, "k" * 40, algorithm="HS256"),
        "other-user": jwt.encode({**claims, "sub": str(uuid.uuid4())}, "k" * 40, algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256"),
        "future-iat": jwt.encode({**claims, "iat": now + 3600, "exp": now + 4500}, secret, algorithm="HS256"),
        "wrong-issuer": jwt.encode({**claims, "iss": "elsewhere"}, secret, algorithm="HS256"),
        "not-an-access-token": jwt.encode({**claims, "typ": "refresh"}, secret, algorithm="HS256"),
        "no-session": jwt.encode({k: v for k, v in claims.items() if k != "sid"}, secret, algorithm="HS256"),
        "truncated-signature": valid_token[:-6],
    }
