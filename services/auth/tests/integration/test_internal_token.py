"""Direct calls that bypass the gateway: no, expired, forged or wrongly addressed tokens get 401."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import jwt
import pytest
from servicekit.security import InternalTokenIssuer, generate_ed25519_keypair

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

ME = "/api/v1/auth/me"
SIGNUP = "/api/v1/auth/signup"


def _token(private_pem: str, *, audience: str = "auth", issued_ago: int = 0, ttl: int = 30) -> str:
    now = int(time.time()) - issued_ago
    claims = {"iss": "gateway", "aud": audience, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    claims["sub"] = str(uuid.uuid4())
    return jwt.encode(claims, private_pem, algorithm="EdDSA")


@pytest.fixture
def private_pem(internal_keypair: tuple[str, str]) -> str:
    return internal_keypair[0]


async def test_valid_token_is_accepted(auth_api: AuthApi, private_pem: str) -> None:
    # A valid token for an account that does not exist reaches the handler (404), proving the check passed.
    response = await auth_api.client.get(ME, headers={"Authorization": f"Bearer {_token(private_pem)}"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not.a.jwt",
    ],
)
async def test_missing_or_malformed_token_is_401(auth_api: AuthApi, authorization: str) -> None:
    response = await auth_api.client.get(ME, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_expired_token_is_401(auth_api: AuthApi, private_pem: str) -> None:
    expired = _token(private_pem, issued_ago=120, ttl=30)
    response = await auth_api.client.get(ME, headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


async def test_token_signed_with_another_key_is_401(auth_api: AuthApi) -> None:
    forged_key, _ = generate_ed25519_keypair()
    response = await auth_api.client.get(ME, headers={"Authorization": f"Bearer {_token(forged_key)}"})
    assert response.status_code == 401


async def test_token_for_another_service_is_401(auth_api: AuthApi, private_pem: str) -> None:
    for_users = InternalTokenIssuer(private_pem).issue("users", subject=str(uuid.uuid4()))
    response = await auth_api.client.get(ME, headers={"Authorization": f"Bearer {for_users}"})
    assert response.status_code == 401


async def test_unauthenticated_signup_creates_nothing(auth_api: AuthApi) -> None:
    body = {"username": "alice", "email": "alice@example.com", "password": "long enough"}
    response = await auth_api.client.post(
        SIGNUP, json=body, headers={"Authorization": "", "X-Device-Id": "laptop-1"}
    )
    assert response.status_code == 401
    assert await auth_api.scalar("SELECT COUNT(*) FROM accounts") == 0


async def test_probes_and_metrics_need_no_token(auth_api: AuthApi) -> None:
    for path in ("/health/live", "/health/ready", "/metrics"):
        response = await auth_api.client.get(path, headers={"Authorization": ""})
        assert response.status_code == 200, path
