"""Auth service settings (environment variables, no prefix); built only in bootstrap, lifespan and tests."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from servicekit.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    database_url: SecretStr = Field(description="mysql+asyncmy://user:pass@host:3306/auth")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    otp_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    verification_token_ttl_seconds: int = Field(default=86_400, ge=300)
    reset_token_ttl_seconds: int = Field(default=3_600, ge=300, le=86_400)
    database_pool_size: int = Field(default=5, ge=1)
    database_connect_timeout_seconds: int = Field(default=5, ge=1)

    @property
    def otp_ttl(self) -> timedelta:
        return timedelta(seconds=self.otp_ttl_seconds)

    @property
    def verification_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.verification_token_ttl_seconds)

    @property
    def reset_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.reset_token_ttl_seconds)
