"""Security properties of the stack, observed through the gateway (and directly against auth where the
point is that auth refuses calls that did not come through the gateway)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from auth_service.domain.model import SIGNIN_FREE_FAILURES
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from e2e_mail import RESET_TOKEN, VERIFY_TOKEN, mail_count, wait_for_mail
from servicekit.security import generate_ed25519_keypair
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AUTH = "/api/v1/gateway/auth"
PASSWORD = "Correct-Horse-Battery-9"
LAPTOP = {"X-Device-Id": "laptop-e2e"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _signed_in_account(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> tuple[dict[str, str], dict[str, object]]:
    suffix = uuid.uuid4().hex[:10]
    account = {"username": f"sec{suffix}", "email": f"sec{suffix}@example.com", "password": PASSWORD}
    assert (await gateway.post(f"{AUTH}/signup", json=account, headers=LAPTOP)).status_code == 202
    token = await wait_for_mail(e2e_stack.mail, account["email"], VERIFY_TOKEN)
    verified = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=LAPTOP)
    assert verified.status_code == 200, verified.text
    signin = await gateway.post(
        f"{AUTH}/signin",
        json={"email_or_username": account["username"], "password": PASSWORD},
        headers=LAPTOP,
    )
    assert signin.status_code == 200, signin.text
    return account, signin.json()


async def test_tampered_and_expired_user_tokens_are_401(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    _, session = await _signed_in_account(gateway, e2e_stack)
    access_token = str(session["access_token"])
    claims = jwt.decode(access_token, options={"verify_signature": False})

    header, _, signature = access_token.split(".")
    other_payload = jwt.encode({**claims, "sub": str(uuid.uuid4())}, "k" * 32, algorithm="HS256").split(".")[
        1
    ]
    tampered = f"{header}.{other_payload}.{signature}"
    expired = jwt.encode(
        {**claims, "exp": datetime.now(UTC) - timedelta(seconds=30)}, e2e_stack.access_token_secret, "HS256"
    )
    for token in (tampered, expired, access_token[:-4] + "AAAA"):
        response = await gateway.get(f"{AUTH}/me", headers=_bearer(token))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
    assert (await gateway.get(f"{AUTH}/me", headers=_bearer(access_token))).status_code == 200


async def test_reused_refresh_token_revokes_the_family(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    _, session = await _signed_in_account(gateway, e2e_stack)
    first = await gateway.post(f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]})
    assert first.status_code == 200
    newest = first.json()

    reuse = await gateway.post(f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "token_reused"
    assert (await gateway.get(f"{AUTH}/me", headers=_bearer(newest["access_token"]))).status_code == 401
    assert (
        await gateway.post(f"{AUTH}/refresh", json={"refresh_token": newest["refresh_token"]})
    ).status_code == 401


async def test_repeated_failed_signins_are_throttled(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    account, _ = await _signed_in_account(gateway, e2e_stack)
    # The account's budget (auth) is spent by failures under any of its names.
    for identifier in (account["email"], account["username"].upper()) * (SIGNIN_FREE_FAILURES // 2 + 1):
        wrong = {"email_or_username": identifier, "password": "not-the-password"}
        if (await gateway.post(f"{AUTH}/signin", json=wrong, headers=LAPTOP)).status_code == 429:
            break

    locked = await gateway.post(
        f"{AUTH}/signin", json={"email_or_username": account["email"], "password": PASSWORD}, headers=LAPTOP
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.json()["error"]["code"] == "signin_throttled"


async def test_signup_and_forgot_do_not_reveal_existing_accounts(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    account, _ = await _signed_in_account(gateway, e2e_stack)
    await wait_for_mail(e2e_stack.mail, account["email"], VERIFY_TOKEN)
    unknown = f"nobody{uuid.uuid4().hex[:10]}"

    existing_signup = await gateway.post(f"{AUTH}/signup", json=account, headers=LAPTOP)
    new_signup = await gateway.post(
        f"{AUTH}/signup",
        json={"username": unknown, "email": f"{unknown}@example.com", "password": PASSWORD},
        headers=LAPTOP,
    )
    assert (existing_signup.status_code, existing_signup.json()) == (
        new_signup.status_code,
        new_signup.json(),
    )

    existing_forgot = await gateway.post(f"{AUTH}/forgot-password", json={"email": account["email"]})
    unknown_forgot = await gateway.post(
        f"{AUTH}/forgot-password", json={"email": f"ghost{uuid.uuid4().hex[:8]}@example.com"}
    )
    assert existing_forgot.status_code == unknown_forgot.status_code == 202
    assert existing_forgot.json() == unknown_forgot.json()

    # The existing account got its reset link, and no second verification email from the repeated signup
    # (the reset email was sent after the repeated signup, so a verification email would be in by now).
    await wait_for_mail(e2e_stack.mail, account["email"], RESET_TOKEN)
    assert mail_count(e2e_stack.mail, account["email"], VERIFY_TOKEN) == 1


async def test_auth_refuses_calls_without_a_valid_internal_token(e2e_stack: GigstackStack) -> None:
    user_id = str(uuid.uuid4())
    forged_private, _ = generate_ed25519_keypair()
    now = int(time.time())
    expired = jwt.encode(
        {"iss": "gateway", "aud": "auth", "sub": user_id, "iat": now - 120, "exp": now - 60, "jti": "x"},
        load_pem_private_key(e2e_stack.internal_private_pem.encode(), password=None),  # type: ignore[arg-type]
        algorithm="EdDSA",
    )
    bad_headers: dict[str, dict[str, str]] = {
        "none": {},
        "expired": _bearer(expired),
        "forged": _bearer(
            jwt.encode(
                {"iss": "gateway", "aud": "auth", "sub": user_id, "iat": now, "exp": now + 30, "jti": "y"},
                load_pem_private_key(forged_private.encode(), password=None),  # type: ignore[arg-type]
                algorithm="EdDSA",
            )
        ),
        "wrong-audience": _bearer(e2e_stack.internal_token("gig", subject=user_id)),
        "user-access-token": _bearer(
            jwt.encode({"sub": user_id, "exp": now + 60}, e2e_stack.access_token_secret, "HS256")
        ),
    }
    async with e2e_stack.auth_client() as auth:
        for name, headers in bad_headers.items():
            me = await auth.get("/api/v1/auth/me", headers=headers)
            assert me.status_code == 401, name
            signup = await auth.post(
                "/api/v1/auth/signup",
                json={"username": f"direct{name[:4]}", "email": f"{name}@example.com", "password": PASSWORD},
                headers=headers,
            )
            assert signup.status_code == 401, name
        # A properly minted token is accepted (so the 401s above are about the token, nothing else).
        good = await auth.get(
            "/api/v1/auth/me", headers=_bearer(e2e_stack.internal_token("auth", subject=user_id))
        )
        assert good.status_code != 401
