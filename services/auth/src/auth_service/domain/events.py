"""Integration events the auth service publishes; this module owns their routing keys and payloads."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class AuthEvent:
    """Base for auth events: ``type`` is both the envelope type and the RabbitMQ routing key."""

    type: ClassVar[str]
    version: ClassVar[int] = 1
    # Payload fields the consumer needs once and nobody should read later (the outbox blanks them in its
    # stored row as soon as the broker confirms the event).
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AccountCreated(AuthEvent):
    type: ClassVar[str] = "auth.account.created.v1"
    user_id: str
    username: str
    email: str
    country: str | None
    created_at: str

    @classmethod
    def at(
        cls, *, user_id: str, username: str, email: str, country: str | None, created_at: datetime
    ) -> AccountCreated:
        return cls(user_id, username, email, country, created_at.isoformat())


@dataclass(frozen=True)
class EmailEvent(AuthEvent):
    """An event the notification service turns into one email to ``to``, using ``template``."""

    template: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        return {**asdict(self), "template": self.template}


@dataclass(frozen=True)
class EmailVerificationRequested(EmailEvent):
    type: ClassVar[str] = "auth.email.verification_requested.v1"
    template: ClassVar[str] = "verify_email"
    secret_fields: ClassVar[tuple[str, ...]] = ("token",)
    to: str
    username: str
    token: str


@dataclass(frozen=True)
class OtpRequested(EmailEvent):
    type: ClassVar[str] = "auth.email.otp_requested.v1"
    template: ClassVar[str] = "otp"
    secret_fields: ClassVar[tuple[str, ...]] = ("otp",)
    to: str
    username: str
    otp: str
    expires_in_minutes: int


@dataclass(frozen=True)
class PasswordResetRequested(EmailEvent):
    type: ClassVar[str] = "auth.email.password_reset_requested.v1"
    template: ClassVar[str] = "forgot_password"
    secret_fields: ClassVar[tuple[str, ...]] = ("token",)
    to: str
    username: str
    token: str


@dataclass(frozen=True)
class PasswordResetCompleted(EmailEvent):
    type: ClassVar[str] = "auth.email.password_reset_completed.v1"
    template: ClassVar[str] = "reset_success"
    to: str
    username: str
