"""Email verification, password reset, change password, me and sign-out over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

BASE = "/api/v1/auth"
PASSWORD = "correct horse"


@pytest.fixture
async def alice(auth_api: AuthApi) -> AuthApi:
    assert (await auth_api.sign_up()).status_code == 202
    return auth_api


async def _user_id(api: AuthApi) -> str:
    [created] = await api.outbox("auth.account.created.v1")
    user_id = created.payload["user_id"]
    assert isinstance(user_id, str)
    return user_id


async def _signs_in_with(api: AuthApi, password: str) -> bool:
    body = {"email_or_username": "alice", "password": password}
    response = await api.client.post(f"{BASE}/signin", json=body, headers={"X-Device-Id": "laptop-1"})
    # 202: the password was right but the device must still confirm an OTP (the account is unverified).
    assert response.status_code in (200, 202, 401)
    return response.status_code != 401


async def test_verify_email_with_the_emailed_token_once(alice: AuthApi) -> None:
    [event] = await alice.outbox("auth.email.verification_requested.v1")
    token = event.payload["token"]

    first = await alice.client.post(f"{BASE}/verify-email", json={"token": token})
    second = await alice.client.post(f"{BASE}/verify-email", json={"token": token})
    bogus = await alice.client.post(f"{BASE}/verify-email", json={"token": "x" * 43})

    assert first.status_code == 200
    assert first.json()["user"]["email_verified"] is True
    assert (second.status_code, second.json()["error"]["code"]) == (400, "invalid_token")
    assert bogus.status_code == 400


async def test_resend_verification_requires_a_signed_in_caller(alice: AuthApi) -> None:
    anonymous = await alice.client.post(f"{BASE}/resend-verification")
    resent = await alice.client.post(f"{BASE}/resend-verification", auth=alice.as_user(await _user_id(alice)))

    assert anonymous.status_code == 401
    assert resent.status_code == 202
    first, second = await alice.outbox("auth.email.verification_requested.v1")
    assert first.payload["token"] != second.payload["token"]
    stale = await alice.client.post(f"{BASE}/verify-email", json={"token": first.payload["token"]})
    assert stale.status_code == 400
    fresh = await alice.client.post(f"{BASE}/verify-email", json={"token": second.payload["token"]})
    assert fresh.status_code == 200
    again = await alice.client.post(f"{BASE}/resend-verification", auth=alice.as_user(await _user_id(alice)))
    assert again.status_code == 409


async def test_forgot_password_answers_the_same_for_unknown_emails(alice: AuthApi) -> None:
    known = await alice.client.post(f"{BASE}/forgot-password", json={"email": "ALICE@example.com"})
    unknown = await alice.client.post(f"{BASE}/forgot-password", json={"email": "bob@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [event] = await alice.outbox("auth.email.password_reset_requested.v1")
    assert event.payload["to"] == "alice@example.com"
    assert event.payload["template"] == "forgot_password"


async def test_reset_password_token_is_single_use(alice: AuthApi) -> None:
    await alice.client.post(f"{BASE}/forgot-password", json={"email": "alice@example.com"})
    [event] = await alice.outbox("auth.email.password_reset_requested.v1")
    body = {"token": event.payload["token"], "password": "brand new pw", "confirm_password": "brand new pw"}

    first = await alice.client.post(f"{BASE}/reset-password", json=body)
    second = await alice.client.post(
        f"{BASE}/reset-password", json=body | {"password": "x" * 10, "confirm_password": "x" * 10}
    )

    assert first.status_code == 200
    assert second.status_code == 400
    [completed] = await alice.outbox("auth.email.password_reset_completed.v1")
    assert completed.payload == {"to": "alice@example.com", "username": "alice", "template": "reset_success"}
    assert not await _signs_in_with(alice, PASSWORD)
    assert await _signs_in_with(alice, "brand new pw")


async def test_reset_password_refuses_mismatched_confirmation(alice: AuthApi) -> None:
    await alice.client.post(f"{BASE}/forgot-password", json={"email": "alice@example.com"})
    [event] = await alice.outbox("auth.email.password_reset_requested.v1")
    body = {"token": event.payload["token"], "password": "brand new pw", "confirm_password": "different"}

    response = await alice.client.post(f"{BASE}/reset-password", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "confirm_password"
    assert await _signs_in_with(alice, PASSWORD)


async def test_change_password_requires_the_current_password(alice: AuthApi) -> None:
    as_alice = alice.as_user(await _user_id(alice))
    url = f"{BASE}/change-password"

    wrong = await alice.client.put(
        url, json={"current_password": "nope", "new_password": "x" * 12}, auth=as_alice
    )
    anonymous = await alice.client.put(url, json={"current_password": PASSWORD, "new_password": "x" * 12})
    changed = await alice.client.put(
        url, json={"current_password": PASSWORD, "new_password": "x" * 12}, auth=as_alice
    )

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalid_current_password")
    assert anonymous.status_code == 401
    assert changed.status_code == 200
    assert await _signs_in_with(alice, "x" * 12)
    assert not await _signs_in_with(alice, PASSWORD)


async def test_me_and_signout(alice: AuthApi) -> None:
    user_id = await _user_id(alice)

    me = await alice.client.get(f"{BASE}/me", auth=alice.as_user(user_id))
    signed_out = await alice.client.post(f"{BASE}/signout", auth=alice.as_user(user_id))
    stranger = await alice.client.get(
        f"{BASE}/me", auth=alice.as_user("9f0c3d7e-0000-4000-8000-000000000000")
    )
    garbage_sub = await alice.client.get(f"{BASE}/me", auth=alice.as_user("not-a-uuid"))

    assert me.status_code == 200
    assert me.json()["user"]["id"] == user_id
    assert signed_out.status_code == 204
    assert await alice.scalar("SELECT last_signed_out_at FROM accounts") is not None
    assert stranger.status_code == 404
    assert garbage_sub.status_code == 401


async def test_seed_is_hidden_outside_development(alice: AuthApi) -> None:
    response = await alice.client.post(f"{BASE}/seed/3")
    assert response.status_code == 404
    assert await alice.scalar("SELECT COUNT(*) FROM accounts") == 1
