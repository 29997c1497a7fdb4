"""Public request and response bodies of the gateway's auth routes (documented in OpenAPI).

Only shapes are checked here; auth owns the real validation rules (password policy, username format), so
the gateway forwards what it received instead of duplicating them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

_SHORT = 320  # the longest legal email address


class SignupIn(BaseModel):
    username: str = Field(min_length=1, max_length=_SHORT)
    email: str = Field(min_length=3, max_length=_SHORT)
    password: str = Field(min_length=1, max_length=1024)
    country: str | None = Field(default=None, max_length=100)


class SigninIn(BaseModel):
    email_or_username: str = Field(min_length=1, max_length=_SHORT)
    password: str = Field(min_length=1, max_length=1024)


class VerifyOtpIn(BaseModel):
    email_or_username: str = Field(min_length=1, max_length=_SHORT)
    otp: str = Field(min_length=1, max_length=32)


class VerifyEmailIn(BaseModel):
    token: str = Field(min_length=1, max_length=1024)


class ForgotPasswordIn(BaseModel):
    email: str = Field(min_length=3, max_length=_SHORT)


class ResetPasswordIn(BaseModel):
    token: str = Field(min_length=1, max_length=1024)
    password: str = Field(min_length=1, max_length=1024)
    confirm_password: str = Field(min_length=1, max_length=1024)


class ChangePasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: str
    username: str
    email: str
    country: str | None = None
    email_verified: bool
    created_at: datetime


class UserEnvelope(BaseModel):
    user: UserOut


class MessageOut(BaseModel):
    message: str


class OtpRequiredOut(BaseModel):
    otp_required: Literal[True]
    message: str


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  # the OAuth token type, not a secret
    expires_in: int


class SessionOut(TokenPairOut):
    user: UserOut
