"""Profiles through the gateway only: a new account gets a buyer profile from auth's event, becomes a seller,
and only the owner may edit it."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from e2e_mail import VERIFY_TOKEN, wait_for_mail
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AUTH, BUYERS, SELLERS = "/api/v1/gateway/auth", "/api/v1/gateway/buyers", "/api/v1/gateway/sellers"
PASSWORD = "Correct-Horse-Battery-9"
LAPTOP = {"X-Device-Id": "laptop-e2e"}
SELLER = {
    "full_name": "Erin Example",
    "one_liner": "Data pipelines that do not fall over",
    "description": "Eight years of streaming and batch data engineering for retailers.",
    "skills": ["python", "kafka"],
    "languages": [{"language": "English", "level": "fluent"}],
    "response_time_hours": 24,
}


async def _signed_in(gateway: httpx.AsyncClient, stack: GigstackStack) -> tuple[str, dict[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    account = {"username": f"user{suffix}", "email": f"user{suffix}@example.com", "password": PASSWORD}
    assert (await gateway.post(f"{AUTH}/signup", json=account, headers=LAPTOP)).status_code == 202
    token = await wait_for_mail(stack.mail, account["email"], VERIFY_TOKEN)
    # Opened on the laptop, which that makes a known device (signing up alone trusts none).
    verified = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=LAPTOP)
    assert verified.status_code == 200
    signin = await gateway.post(
        f"{AUTH}/signin", json={"email_or_username": account["email"], "password": PASSWORD}, headers=LAPTOP
    )
    assert signin.status_code == 200, signin.text
    return account["username"], {"Authorization": f"Bearer {signin.json()['access_token']}"}


async def _buyer_profile(gateway: httpx.AsyncClient, session: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        response = await gateway.get(f"{BUYERS}/me", headers=session)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_a_new_account_gets_a_buyer_profile_and_becomes_a_seller_only_it_can_edit(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    username, owner = await _signed_in(gateway, e2e_stack)
    _, other = await _signed_in(gateway, e2e_stack)

    me = await _buyer_profile(gateway, owner)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == username

    created = await gateway.post(SELLERS, json=SELLER, headers=owner)
    assert created.status_code == 201, created.text
    seller_id = created.json()["id"]
    public = await gateway.get(f"{SELLERS}/by-username/{username}")  # anonymous
    assert public.status_code == 200, public.text
    assert public.json()["id"] == seller_id

    edit = {**SELLER, "one_liner": "Now with Flink", "revision": 1}
    assert (await gateway.put(f"{SELLERS}/{seller_id}", json=edit, headers=other)).status_code == 403
    assert (await gateway.put(f"{SELLERS}/{seller_id}", json=edit)).status_code == 401
    updated = await gateway.put(f"{SELLERS}/{seller_id}", json=edit, headers=owner)
    assert updated.status_code == 200, updated.text
    assert updated.json()["one_liner"] == "Now with Flink"
