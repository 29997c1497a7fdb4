"""Account journeys through the gateway only: signup to signout, password reset, new-device OTP."""

from __future__ import annotations

import uuid

import httpx
import pytest
from e2e_mail import OTP, RESET_TOKEN, VERIFY_TOKEN, wait_for_mail
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AUTH = "/api/v1/gateway/auth"
PASSWORD = "Correct-Horse-Battery-9"
LAPTOP = {"X-Device-Id": "laptop-e2e"}


def _new_account() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {"username": f"user{suffix}", "email": f"user{suffix}@example.com", "password": PASSWORD}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _signup_and_verify(
    gateway: httpx.AsyncClient, stack: GigstackStack, account: dict[str, str]
) -> None:
    signup = await gateway.post(f"{AUTH}/signup", json={**account, "country": "Norway"}, headers=LAPTOP)
    assert signup.status_code == 202, signup.text
    token = await wait_for_mail(stack.mail, account["email"], VERIFY_TOKEN)
    # Opened on the laptop, so the laptop becomes a known device (signing up alone trusts none).
    verified = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=LAPTOP)
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["email_verified"] is True


async def test_signup_verify_signin_me_refresh_signout(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    account = _new_account()
    await _signup_and_verify(gateway, e2e_stack, account)

    signin = await gateway.post(
        f"{AUTH}/signin", json={"email_or_username": account["email"], "password": PASSWORD}, headers=LAPTOP
    )
    assert signin.status_code == 200, signin.text
    session = signin.json()
    assert session["token_type"] == "bearer"
    assert session["user"]["username"] == account["username"]

    me = await gateway.get(f"{AUTH}/me", headers=_bearer(session["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == account["email"]
    assert me.json()["user"]["id"] == session["user"]["id"]

    refreshed = await gateway.post(f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert (await gateway.get(f"{AUTH}/me", headers=_bearer(pair["access_token"]))).status_code == 200

    signout = await gateway.post(f"{AUTH}/signout", headers=_bearer(pair["access_token"]))
    assert signout.status_code == 204

    for access_token in (session["access_token"], pair["access_token"]):
        assert (await gateway.get(f"{AUTH}/me", headers=_bearer(access_token))).status_code == 401
    for refresh_token in (session["refresh_token"], pair["refresh_token"]):
        again = await gateway.post(f"{AUTH}/refresh", json={"refresh_token": refresh_token})
        assert again.status_code == 401


async def test_forgot_and_reset_password(gateway: httpx.AsyncClient, e2e_stack: GigstackStack) -> None:
    account = _new_account()
    await _signup_and_verify(gateway, e2e_stack, account)

    forgot = await gateway.post(f"{AUTH}/forgot-password", json={"email": account["email"]})
    assert forgot.status_code == 202
    token = await wait_for_mail(e2e_stack.mail, account["email"], RESET_TOKEN)
    new_password = "Another-Horse-Battery-7"
    reset = await gateway.post(
        f"{AUTH}/reset-password",
        json={"token": token, "password": new_password, "confirm_password": new_password},
    )
    assert reset.status_code == 200, reset.text

    old = await gateway.post(
        f"{AUTH}/signin",
        json={"email_or_username": account["username"], "password": PASSWORD},
        headers=LAPTOP,
    )
    assert old.status_code == 401
    new = await gateway.post(
        f"{AUTH}/signin",
        json={"email_or_username": account["username"], "password": new_password},
        headers=LAPTOP,
    )
    assert new.status_code == 200, new.text
    assert new.json()["access_token"]
    # The token was single-use.
    replay = await gateway.post(
        f"{AUTH}/reset-password", json={"token": token, "password": PASSWORD, "confirm_password": PASSWORD}
    )
    assert replay.status_code in (400, 401, 404, 410)


async def test_new_device_needs_the_emailed_otp(gateway: httpx.AsyncClient, e2e_stack: GigstackStack) -> None:
    account = _new_account()
    await _signup_and_verify(gateway, e2e_stack, account)
    phone = {"X-Device-Id": "phone-e2e"}
    credentials = {"email_or_username": account["email"], "password": PASSWORD}

    pending = await gateway.post(f"{AUTH}/signin", json=credentials, headers=phone)
    assert pending.status_code == 202, pending.text
    assert pending.json()["otp_required"] is True
    assert "access_token" not in pending.json()

    otp = await wait_for_mail(e2e_stack.mail, account["email"], OTP)
    wrong = "000000" if otp != "000000" else "111111"
    refused = await gateway.post(
        f"{AUTH}/verify-otp", json={"email_or_username": account["email"], "otp": wrong}, headers=phone
    )
    assert refused.status_code == 401
    verified = await gateway.post(
        f"{AUTH}/verify-otp", json={"email_or_username": account["email"], "otp": otp}, headers=phone
    )
    assert verified.status_code == 200, verified.text
    session = verified.json()
    assert (await gateway.get(f"{AUTH}/me", headers=_bearer(session["access_token"]))).status_code == 200

    # The phone is a known device now: signing in again gives a session straight away.
    again = await gateway.post(f"{AUTH}/signin", json=credentials, headers=phone)
    assert again.status_code == 200, again.text
