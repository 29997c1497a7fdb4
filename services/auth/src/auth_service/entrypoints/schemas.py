"""Request and response bodies of the auth HTTP API (the shapes the gateway relies on)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auth_service.domain.model import Account

# Generous transport limits; the domain applies the real policy (e.g. passwords 8-128) with clear messages.
_NAME = Field(min_length=1, max_length=100)
_EMAIL = Field(min_length=1, max_length=320)
_SECRET = Field(min_length=1, max_length=1024)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class SignUpIn(Body):
    username: str = _NAME
    email: str = _EMAIL
    password: str = _SECRET
    country: str | None = Field(default=None, max_length=100)


class SignInIn(Body):
    email_or_username: str = _EMAIL
    password: str = _SECRET


class VerifyOtpIn(Body):
    email_or_username: str = _EMAIL
    otp: str = Field(min_length=1, max_length=32)


class VerifyEmailIn(Body):
    token: str = Field(min_length=1, max_length=256)


class ForgotPasswordIn(Body):
    email: str = _EMAIL


class ResetPasswordIn(Body):
    token: str = Field(min_length=1, max_length=256)
    password: str = _SECRET
    confirm_password: str = _SECRET


class ChangePasswordIn(Body):
    current_password: str = _SECRET
    new_password: str = _SECRET


class UserOut(BaseModel):
    id: str
    username: str
    email: str
    country: str | None
    email_verified: bool
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> UserOut:
        return cls(
            id=str(account.id),
            username=account.username,
            email=account.email,
            country=account.country,
            email_verified=account.email_verified,
            created_at=account.created_at,
        )


class UserEnvelope(BaseModel):
    user: UserOut


class MessageOut(BaseModel):
    message: str


class PasswordResetOut(MessageOut):
    """Internal answer to a reset: the gateway ends every session of ``user_id`` and drops the field."""

    user_id: str


class OtpRequiredOut(BaseModel):
    otp_required: Literal[True] = True
    message: str


class SeededOut(BaseModel):
    created: int
    password: str
    users: list[UserOut]
