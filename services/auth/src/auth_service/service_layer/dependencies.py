"""Everything a handler needs besides its command, built once by the bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from auth_service.service_layer.ports import Clock, OtpHasher, PasswordHasher, SecretGenerator
from auth_service.service_layer.unit_of_work import AuthUnitOfWork


@dataclass(frozen=True)
class TokenLifetimes:
    otp: timedelta
    email_verification: timedelta
    password_reset: timedelta


@dataclass(frozen=True)
class HandlerDependencies:
    uow_factory: Callable[[], AuthUnitOfWork]
    hasher: PasswordHasher
    otp_hasher: OtpHasher
    secrets: SecretGenerator
    clock: Clock
    lifetimes: TokenLifetimes
