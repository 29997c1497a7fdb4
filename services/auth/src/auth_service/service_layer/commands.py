"""Commands: what a caller asks the auth service to do, already parsed from the transport."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str
    country: str | None
    device_id: str


@dataclass(frozen=True)
class SignIn:
    email_or_username: str
    password: str
    device_id: str


@dataclass(frozen=True)
class VerifyOtp:
    email_or_username: str
    otp: str
    device_id: str


@dataclass(frozen=True)
class VerifyEmail:
    token: str
    # The device that opened the link: it has just proven access to the mailbox, so it becomes known.
    device_id: str | None = None


@dataclass(frozen=True)
class ResendVerification:
    account_id: UUID


@dataclass(frozen=True)
class ForgotPassword:
    email: str


@dataclass(frozen=True)
class ResetPassword:
    token: str
    password: str
    confirm_password: str


@dataclass(frozen=True)
class ChangePassword:
    account_id: UUID
    current_password: str
    new_password: str


@dataclass(frozen=True)
class GetCurrentUser:
    account_id: UUID


@dataclass(frozen=True)
class SignOut:
    account_id: UUID


@dataclass(frozen=True)
class SeedAccounts:
    count: int
