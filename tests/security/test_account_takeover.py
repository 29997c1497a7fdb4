"""Account-takeover attacks against the real stack, through the gateway only."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from accounts import AUTH, bearer, latest_otp, new_account, reset_password, sign_up, signed_in
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_pre_hijacker_gets_no_session_and_the_victims_reset_ends_theirs(
    gateway: httpx.AsyncClient, stack: GigstackStack
) -> None:
    victim_email = new_account().email
    attacker = new_account("atk", email=victim_email, device="attacker-box")
    await sign_up(gateway, attacker)  # the victim's address, the attacker's password and device

    attempt = await gateway.post(
        f"{AUTH}/signin", json=attacker.credentials(), headers=attacker.device_header
    )
    assert attempt.status_code == 202, "an unverified account must not get a session"
    assert "access_token" not in attempt.json()

    # The victim, unable to sign up (the address is taken), takes the account over with a reset.
    victim = new_account(email=victim_email, device="victim-phone")
    victim.username = attacker.username
    await reset_password(gateway, stack, victim, "Victims-Own-Password-2")
    signin = await gateway.post(f"{AUTH}/signin", json=victim.credentials(), headers=victim.device_header)
    assert signin.status_code == 202  # a new device: the OTP goes to the victim's mailbox
    otp = await latest_otp(stack, victim, skip=1)  # the attacker's sign-in sent the first code
    body = {"email_or_username": victim.email, "otp": otp}
    session = await gateway.post(f"{AUTH}/verify-otp", json=body, headers=victim.device_header)
    assert session.status_code == 200, session.text

    stale = await gateway.post(f"{AUTH}/signin", json=attacker.credentials(), headers=attacker.device_header)
    assert stale.status_code == 401


async def test_reset_and_change_end_every_session(gateway: httpx.AsyncClient, stack: GigstackStack) -> None:
    account = new_account()
    first = await signed_in(gateway, stack, account)

    await reset_password(gateway, stack, account, "Second-Password-22")

    assert (await gateway.get(f"{AUTH}/me", headers=bearer(first["access_token"]))).status_code == 401
    refresh = await gateway.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
    assert refresh.status_code == 401

    second = await gateway.post(f"{AUTH}/signin", json=account.credentials(), headers=account.device_header)
    assert second.status_code == 200, second.text
    token = second.json()["access_token"]
    change = {"current_password": account.password, "new_password": "Third-Password-333"}
    assert (
        await gateway.put(f"{AUTH}/change-password", json=change, headers=bearer(token))
    ).status_code == 200
    assert (await gateway.get(f"{AUTH}/me", headers=bearer(token))).status_code == 401


async def test_parallel_guesses_under_every_spelling_share_one_budget_and_the_owner_recovers(
    gateway: httpx.AsyncClient, stack: GigstackStack
) -> None:
    account = new_account()
    await signed_in(gateway, stack, account)
    upper = account.username.upper()
    spellings = [
        account.username,
        account.email,
        upper,
        f"{account.username}\u200b",
        f" {account.email.upper()} ",
    ]
    guesses = [account.credentials(spellings[i % len(spellings)], f"guess-{i}") for i in range(50)]

    answers = await asyncio.gather(
        *(gateway.post(f"{AUTH}/signin", json=guess, headers=account.device_header) for guess in guesses)
    )

    statuses = [answer.status_code for answer in answers]
    # The 5 free failures, then one attempt per elapsed delay (1, 2, 4, 8 s...) while the burst drains.
    assert statuses.count(401) <= 9, f"only the account's budget may reach the password check: {statuses}"
    assert set(statuses) <= {401, 429}

    # Not a hard lock: the owner resets (always possible) and signs in at once.
    await reset_password(gateway, stack, account, "Recovered-Password-4")
    back = await gateway.post(f"{AUTH}/signin", json=account.credentials(), headers=account.device_header)
    assert back.status_code == 200, back.text


async def test_a_stolen_session_cannot_brute_force_the_current_password(
    gateway: httpx.AsyncClient, stack: GigstackStack
) -> None:
    account = new_account()
    session = await signed_in(gateway, stack, account)
    headers = bearer(session["access_token"])

    statuses = []
    for index in range(8):
        change = {"current_password": f"guess-number-{index}", "new_password": "Attacker-Chosen-99"}
        statuses.append(
            (await gateway.put(f"{AUTH}/change-password", json=change, headers=headers)).status_code
        )

    assert statuses[:5] == [400] * 5
    assert set(statuses[5:]) == {429}
