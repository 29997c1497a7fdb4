"""Session policy through the gateway's HTTP API on real Redis: absolute lifetime, a reset ends every
session, the two-tab refresh grace window, and a bounded refresh-token family."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

AUTH = "/api/v1/gateway/auth"
ALICE_PASSWORD = "correct horse battery staple"
KNOWN = {"X-Device-Id": "device-known"}
GOOD_RESET_TOKEN = "reset-token-from-the-email"


async def _signin(gateway: httpx.AsyncClient) -> dict[str, Any]:
    response = await gateway.post(
        f"{AUTH}/signin", json={"email_or_username": "alice", "password": ALICE_PASSWORD}, headers=KNOWN
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refresh(gateway: httpx.AsyncClient, token: str) -> httpx.Response:
    return await gateway.post(f"{AUTH}/refresh", json={"refresh_token": token})


async def test_refreshing_never_extends_a_session_past_its_absolute_lifetime(start_gateway: Any) -> None:
    gateway = await start_gateway(session_absolute_lifetime_seconds=3)
    session = await _signin(gateway)
    refresh_token, access_token = session["refresh_token"], session["access_token"]
    for _ in range(3):  # refreshed every second, as an attacker holding a stolen token would
        await asyncio.sleep(1.0)
        answer = await _refresh(gateway, refresh_token)
        if answer.status_code != 200:
            break
        refresh_token, access_token = answer.json()["refresh_token"], answer.json()["access_token"]
    await asyncio.sleep(1.2)

    expired = await _refresh(gateway, refresh_token)
    assert expired.status_code == 401
    assert (await gateway.get(f"{AUTH}/me", headers=_bearer(access_token))).status_code == 401


async def test_password_reset_ends_every_session_of_the_account(gateway: httpx.AsyncClient) -> None:
    laptop, phone = await _signin(gateway), await _signin(gateway)

    reset = await gateway.post(
        f"{AUTH}/reset-password",
        json={"token": GOOD_RESET_TOKEN, "password": "New-Password-1", "confirm_password": "New-Password-1"},
    )

    assert reset.status_code == 200, reset.text
    assert reset.json() == {"message": "Your password has been reset."}, "the account id stays internal"
    for session in (laptop, phone):
        me = await gateway.get(f"{AUTH}/me", headers=_bearer(session["access_token"]))
        assert me.status_code == 401
        assert (await _refresh(gateway, session["refresh_token"])).status_code == 401


async def test_two_tabs_refreshing_with_one_token_both_succeed_within_the_grace_window(
    start_gateway: Any,
) -> None:
    gateway = await start_gateway(refresh_reuse_grace_seconds=1.0)
    session = await _signin(gateway)

    first_tab, second_tab = await asyncio.gather(
        _refresh(gateway, session["refresh_token"]), _refresh(gateway, session["refresh_token"])
    )
    assert (first_tab.status_code, second_tab.status_code) == (200, 200)
    await asyncio.sleep(1.3)

    replay = await _refresh(gateway, session["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_reused"
    # Reuse after the window revokes the whole family, both tabs' tokens included.
    assert (await _refresh(gateway, first_tab.json()["refresh_token"])).status_code == 401


async def test_refresh_token_family_holds_only_live_tokens(start_gateway: Any, redis_url: str) -> None:
    gateway = await start_gateway(refresh_token_ttl_seconds=60, refresh_reuse_grace_seconds=0)
    session = await _signin(gateway)
    refresh_token = session["refresh_token"]
    redis = Redis.from_url(redis_url)
    try:
        for _ in range(40):
            answer = await _refresh(gateway, refresh_token)
            assert answer.status_code == 200
            refresh_token = answer.json()["refresh_token"]
            # Expire every rotated token at once, as time would: only the active one is left alive.
            for key in [key async for key in redis.scan_iter(match="gw:refresh:*")]:
                if await redis.hget(key, "status") == b"rotated":
                    await redis.delete(key)
        families = [key async for key in redis.scan_iter(match="gw:session:*:family")]
        sizes = [await redis.scard(key) for key in families]
    finally:
        await redis.aclose()
    assert sizes
    assert max(sizes) <= 17
