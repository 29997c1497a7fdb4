"""Every forged or tampered token is refused: internal tokens at auth (called directly, as a compromised pod
on the cluster network would), user access tokens at the gateway."""

from __future__ import annotations

import uuid

import httpx
import pytest
from accounts import AUTH, bearer, new_account, signed_in
from stack import GigstackStack
from tampering import access_token_forgeries, internal_token_forgeries

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_forged_tokens_are_refused_everywhere(gateway: httpx.AsyncClient, stack: GigstackStack) -> None:
    account = new_account()
    session = await signed_in(gateway, stack, account)
    user_id = session["user"]["id"]

    refused: dict[str, int] = {}
    async with stack.auth_client() as auth:
        forgeries = internal_token_forgeries(
            "auth", stack.internal_private_pem, stack.internal_public_pem, user_id
        )
        for name, token in forgeries.items():
            refused[f"internal:{name}"] = (
                await auth.get("/api/v1/auth/me", headers=bearer(token))
            ).status_code
        genuine = bearer(stack.internal_token("auth", subject=user_id))
        assert (await auth.get("/api/v1/auth/me", headers=genuine)).status_code == 200

    for name, token in access_token_forgeries(session["access_token"], stack.access_token_secret).items():
        refused[f"access:{name}"] = (await gateway.get(f"{AUTH}/me", headers=bearer(token))).status_code
    refused["access:random"] = (await gateway.get(f"{AUTH}/me", headers=bearer(uuid.uuid4().hex))).status_code

    assert {name: status for name, status in refused.items() if status != 401} == {}
    assert (await gateway.get(f"{AUTH}/me", headers=bearer(session["access_token"]))).status_code == 200
