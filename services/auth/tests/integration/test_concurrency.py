"""Races the real database must settle: simultaneous sign-ups and simultaneous OTP guesses."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi


async def test_simultaneous_signups_for_one_email_create_one_account(auth_api: AuthApi) -> None:
    responses = await asyncio.gather(
        *(auth_api.sign_up(username=f"racer{index}", email="race@example.com") for index in range(4))
    )

    assert [response.status_code for response in responses] == [202] * 4
    assert len({response.text for response in responses}) == 1
    assert await auth_api.scalar("SELECT COUNT(*) FROM accounts") == 1
    assert len(await auth_api.outbox("auth.account.created.v1")) == 1


async def test_parallel_otp_guesses_cannot_exceed_the_attempt_limit(auth_api: AuthApi) -> None:
    await auth_api.sign_up()
    body = {"email_or_username": "alice", "password": "correct horse"}
    signin = await auth_api.client.post("/api/v1/auth/signin", json=body, headers={"X-Device-Id": "phone"})
    assert signin.status_code == 202
    [event] = await auth_api.outbox("auth.email.otp_requested.v1")
    wrong = "000000" if event.payload["otp"] != "000000" else "111111"

    guesses = await asyncio.gather(
        *(
            auth_api.client.post(
                "/api/v1/auth/verify-otp",
                json={"email_or_username": "alice", "otp": wrong},
                headers={"X-Device-Id": "phone"},
            )
            for _ in range(8)
        )
    )

    statuses = sorted(guess.status_code for guess in guesses)
    assert statuses == [401, 401, 401, 401, 429, 429, 429, 429]
    assert await auth_api.scalar("SELECT attempts FROM otp_challenges") == 5
