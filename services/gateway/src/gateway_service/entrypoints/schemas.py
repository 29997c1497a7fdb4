"""Request and response bodies of the gateway's auth routes.

The request models only parse what the gateway itself needs and are deliberately looser than auth's: auth owns
the rules (password policy, username format), enforces them, and its OpenAPI is what the gateway publishes for
these bodies (public_api.py). Unknown fields are kept and forwarded, so auth refuses them as it documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_SHORT = 320  # the longest legal email address


class ForwardedBody(BaseModel):
    model_config = ConfigDict(extra="allow")


class SignupIn(ForwardedBody):
    username: str = Field(min_length=1, max_length=_SHORT)
    email: str = Field(min_length=3, max_length=_SHORT)
    password: str = Field(min_length=1, max_length=1024)
    country: str | None = Field(default=None, max_length=100)


class SigninIn(ForwardedBody):
    email_or_username: str = Field(min_length=1, max_length=_SHORT)
    password: str = Field(min_length=1, max_length=1024)


class VerifyOtpIn(ForwardedBody):
    email_or_username: str = Field(min_length=1, max_length=_SHORT)
    otp: str = Field(min_length=1, max_length=32)


class VerifyEmailIn(ForwardedBody):
    token: str = Field(min_length=1, max_length=1024)


class ForgotPasswordIn(ForwardedBody):
    email: str = Field(min_length=3, max_length=_SHORT)


class ResetPasswordIn(ForwardedBody):
    token: str = Field(min_length=1, max_length=1024)
    password: str = Field(min_length=1, max_length=1024)
    confirm_password: str = Field(min_length=1, max_length=1024)


class ChangePasswordIn(ForwardedBody):
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
