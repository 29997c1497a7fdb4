"""Order service settings (environment variables, no prefix); built in bootstrap, the CLI and tests only."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from servicekit.media import ObjectStoreSettings
from servicekit.settings import ServiceSettings

DEVELOPMENT_ENVIRONMENTS = ("development", "test")
MIN_WEBHOOK_SECRET_LENGTH = 16


class OrderSettings(ServiceSettings, ObjectStoreSettings):
    """The OBJECT_STORE_* fields come from ObjectStoreSettings: delivery files are checked in the store."""

    service_name: str = "order"
    database_url: SecretStr = Field(description="postgresql+asyncpg://user:pass@host:5432/order")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    database_pool_size: int = Field(default=5, ge=1)
    database_connect_timeout_seconds: int = Field(default=5, ge=1)
    # Longest one statement may run (lock waits included) before PostgreSQL cancels it.
    database_statement_timeout_ms: int = Field(default=10_000, ge=100)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
    # `local` (development/test only: a stateful stand-in that signs webhooks as Stripe does) or `stripe`.
    payment_provider: Literal["local", "stripe"] = "local"
    stripe_secret_key: SecretStr | None = None
    # Signs webhooks: Stripe's endpoint secret (whsec_...), or the local provider's own.
    payment_webhook_secret: SecretStr = Field(description="webhook signing secret (whsec_...)")
    # stripe-mock in tests; unset means Stripe's real API.
    stripe_api_base: str | None = None
    payment_timeout_seconds: float = Field(default=10.0, gt=0)
    # An unpaid order expires this long after it was created.
    payment_window_seconds: int = Field(default=86_400, ge=1)
    # How often the scheduler looks for due expirations, refunds and unsettled payments.
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    reconcile_after_seconds: int = Field(default=120, ge=0)
    # Fault injection for the crash test (tests/reliability/test_order_payment_crash.py): SIGKILL the
    # process right after the provider confirmed a payment, before the order's state change. Refused
    # outside development/test.
    crash_after_provider_success: bool = False

    @model_validator(mode="after")
    def _local_provider_only_in_development(self) -> OrderSettings:
        if self.payment_provider == "local" and self.environment not in DEVELOPMENT_ENVIRONMENTS:
            raise ValueError("PAYMENT_PROVIDER=local is for development and test only; use stripe")
        if self.payment_provider == "stripe" and not (
            self.stripe_secret_key and self.stripe_secret_key.get_secret_value()
        ):
            raise ValueError("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY")
        if self.crash_after_provider_success and self.environment not in DEVELOPMENT_ENVIRONMENTS:
            raise ValueError("CRASH_AFTER_PROVIDER_SUCCESS is a test-only fault injection")
        if len(self.payment_webhook_secret.get_secret_value()) < MIN_WEBHOOK_SECRET_LENGTH:
            raise ValueError(
                f"PAYMENT_WEBHOOK_SECRET must be at least {MIN_WEBHOOK_SECRET_LENGTH} characters"
            )
        return self

    @property
    def payment_window(self) -> timedelta:
        return timedelta(seconds=self.payment_window_seconds)

    @property
    def reconcile_after(self) -> timedelta:
        return timedelta(seconds=self.reconcile_after_seconds)

    @property
    def dev_confirm_allowed(self) -> bool:
        return self.environment in DEVELOPMENT_ENVIRONMENTS and self.payment_provider == "local"
