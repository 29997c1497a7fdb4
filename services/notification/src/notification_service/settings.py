"""Notification service settings (environment variables, no prefix); built in bootstrap and tests only."""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import Field, SecretStr, model_validator
from servicekit.settings import ServiceSettings

# A send is capped at this many SMTP timeouts (see adapters.smtp); the ledger lease must outlast it.
SEND_TIMEOUT_MULTIPLIER = 4


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    redis_url: SecretStr = Field(description="redis://[:pass@]host:6379/db (idempotency ledger)")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    mail_from: str = "Gigstack <no-reply@gigstack.local>"
    public_url: str = Field(default="http://localhost:3000", description="client app base URL used in links")

    # Tuning knobs (optional, documented in docs/contracts.md and the service README).
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
    email_delivery_limit: int = Field(default=5, ge=1, le=100)
    smtp_max_connections: int = Field(default=4, ge=1, le=100)
    smtp_outage_wait_seconds: float = Field(default=300.0, ge=1)
    delivery_claim_seconds: int = Field(default=60, ge=5)
    delivery_record_days: int = Field(default=30, ge=1)
    redis_timeout_seconds: float = Field(default=5.0, gt=0)

    @property
    def message_id_domain(self) -> str:
        _, address = parseaddr(self.mail_from)
        return address.rpartition("@")[2] or "gigstack.local"

    @property
    def handler_timeout_seconds(self) -> float:
        # Longer than anything ``EmailDelivery.deliver`` may legitimately take, so the consumer never cancels
        # a handler in the middle of an SMTP conversation.
        return self.smtp_outage_wait_seconds + SEND_TIMEOUT_MULTIPLIER * self.smtp_timeout_seconds * 3 + 30

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> NotificationSettings:
        longest_send = SEND_TIMEOUT_MULTIPLIER * self.smtp_timeout_seconds
        if self.delivery_claim_seconds <= longest_send:
            raise ValueError(
                f"DELIVERY_CLAIM_SECONDS must exceed {longest_send:g}s (one whole send) so a live sender's "
                "claim never expires under it"
            )
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ValueError("MAIL_FROM must contain an email address")
        return self
