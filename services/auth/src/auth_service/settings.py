"""Auth service settings (environment variables, no prefix); built only in bootstrap, lifespan and tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, model_validator
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
    # Longest a query may go unanswered before the connection is given up (a silent server must not pin
    # a pooled connection, and the request holding it, forever).
    database_read_timeout_seconds: int = Field(default=15, ge=1)
    # RAM the argon2 hashes in flight may use together (64 MiB each): the pod limit minus the service's
    # baseline, with headroom. 128 MiB = 2 concurrent hashes under a 320 MiB limit.
    hashing_memory_budget_mib: int = Field(default=128, ge=64)
    # `fast-for-tests`: argon2id at its minimum cost (~1 ms instead of ~0.2-0.4 s a hash on two cores), for
    # the test stacks that run auth as a process and sign many accounts up and in (tests/e2e/stack.py).
    # Refused outside development and test: no deployment can weaken its password hashes by configuration.
    hashing_cost: Literal["production", "fast-for-tests"] = "production"
    # Blank reset tokens and OTPs in published outbox rows (docs/security.md). Only development and test may
    # keep them, for tests that read the emailed secrets from the outbox.
    outbox_scrub_secrets: bool = True

    @model_validator(mode="after")
    def _scrubbing_only_off_in_development(self) -> AuthSettings:
        if not self.outbox_scrub_secrets and self.environment not in ("development", "test"):
            raise ValueError("OUTBOX_SCRUB_SECRETS may be false only in development and test")
        return self

    @model_validator(mode="after")
    def _fast_hashing_only_in_development_and_test(self) -> AuthSettings:
        if self.hashing_cost != "production" and self.environment not in ("development", "test"):
            raise ValueError("HASHING_COST may be other than production only in development and test")
        return self

    @property
    def otp_ttl(self) -> timedelta:
        return timedelta(seconds=self.otp_ttl_seconds)

    @property
    def verification_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.verification_token_ttl_seconds)

    @property
    def reset_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.reset_token_ttl_seconds)
