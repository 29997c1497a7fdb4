"""Request and response bodies of the auth HTTP API (the shapes the gateway relies on)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auth_service.domain import credentials as policy
from auth_service.domain.model import Account

# The request bodies state the credentials policy itself (lengths, patterns), so the OpenAPI document the
# gateway publishes says exactly what is accepted; the domain checks the same rules again for callers that
# skip HTTP.
# Python's regex engine, so the patterns mean exactly what the domain's ``re`` patterns mean.
_USERNAME = Field(
    min_length=policy.USERNAME_MIN_LENGTH,
    max_length=policy.USERNAME_MAX_LENGTH,
    pattern=f"^{policy.USERNAME_PATTERN}$",
    description="Letters (any case, stored lowercase), digits, '.', '_', '-'; "
    "starts and ends with a letter or digit",
)
_EMAIL = Field(max_length=policy.EMAIL_MAX_LENGTH, pattern=f"^{policy.EMAIL_PATTERN}$")
_NEW_PASSWORD = Field(
    min_length=policy.PASSWORD_MIN_LENGTH,
    max_length=policy.PASSWORD_MAX_LENGTH,
    pattern=policy.NOT_BLANK_PATTERN,
    description="Not only whitespace",
)
# What is typed to sign in or to prove the current password is checked against the stored hash, not the
# policy.
_IDENTIFIER = Field(min_length=1, max_length=320)
_SECRET = Field(min_length=1, max_length=1024)
_LINK_TOKEN = Field(min_length=1, max_length=256)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, regex_engine="python-re")


class SignUpIn(Body):
    username: str = _USERNAME
    email: str = _EMAIL
    password: str = _NEW_PASSWORD
    country: str | None = Field(default=None, max_length=policy.COUNTRY_MAX_LENGTH)


class SignInIn(Body):
    email_or_username: str = _IDENTIFIER
    password: str = _SECRET


class VerifyOtpIn(Body):
    email_or_username: str = _IDENTIFIER
    otp: str = Field(min_length=1, max_length=32)


class VerifyEmailIn(Body):
    token: str = _LINK_TOKEN


class ForgotPasswordIn(Body):
    email: str = _EMAIL


class ResetPasswordIn(Body):
    token: str = _LINK_TOKEN
    password: str = _NEW_PASSWORD
    confirm_password: str = Field(min_length=1, max_length=1024, description="Must equal `password`")


class ChangePasswordIn(Body):
    current_password: str = _SECRET
    new_password: str = _NEW_PASSWORD


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
