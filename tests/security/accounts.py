"""Accounts for attack scenarios, made through the gateway the way a user (or an attacker) makes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from e2e_mail import OTP, RESET_TOKEN, VERIFY_TOKEN, wait_for_mail
from stack import GigstackStack

AUTH = "/api/v1/gateway/auth"
PASSWORD = "Correct-Horse-Battery-9"


@dataclass
class Account:
    username: str
    email: str
    password: str
    device: str

    @property
    def device_header(self) -> dict[str, str]:
        return {"X-Device-Id": self.device}

    def credentials(self, identifier: str | None = None, password: str | None = None) -> dict[str, str]:
        return {"email_or_username": identifier or self.username, "password": password or self.password}


def new_account(prefix: str = "sec", *, email: str | None = None, device: str = "laptop-sec") -> Account:
    suffix = uuid.uuid4().hex[:10]
    return Account(f"{prefix}{suffix}", email or f"{prefix}{suffix}@example.com", PASSWORD, device)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_up(gateway: httpx.AsyncClient, account: Account) -> None:
    body = {"username": account.username, "email": account.email, "password": account.password}
    answer = await gateway.post(f"{AUTH}/signup", json=body, headers=account.device_header)
    assert answer.status_code == 202, answer.text


async def verify_email(
    gateway: httpx.AsyncClient, stack: GigstackStack, account: Account, *, skip: int = 0
) -> None:
    token = await wait_for_mail(stack.mail, account.email, VERIFY_TOKEN, skip=skip)
    answer = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=account.device_header)
    assert answer.status_code == 200, answer.text


async def signed_in(gateway: httpx.AsyncClient, stack: GigstackStack, account: Account) -> dict[str, Any]:
    """Sign up, open the verification link on the account's device, sign in: a session."""
    await sign_up(gateway, account)
    await verify_email(gateway, stack, account)
    answer = await gateway.post(f"{AUTH}/signin", json=account.credentials(), headers=account.device_header)
    assert answer.status_code == 200, answer.text
    session: dict[str, Any] = answer.json()
    return session


async def reset_password(
    gateway: httpx.AsyncClient, stack: GigstackStack, account: Account, new_password: str
) -> None:
    assert (await gateway.post(f"{AUTH}/forgot-password", json={"email": account.email})).status_code == 202
    token = await wait_for_mail(stack.mail, account.email, RESET_TOKEN)
    body = {"token": token, "password": new_password, "confirm_password": new_password}
    answer = await gateway.post(f"{AUTH}/reset-password", json=body)
    assert answer.status_code == 200, answer.text
    account.password = new_password


async def latest_otp(stack: GigstackStack, account: Account, *, skip: int = 0) -> str:
    return str(await wait_for_mail(stack.mail, account.email, OTP, skip=skip))
