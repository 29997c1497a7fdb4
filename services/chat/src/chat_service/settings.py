"""Chat service settings (environment variables, no prefix); built in bootstrap and tests only."""

from __future__ import annotations

from pydantic import Field, SecretStr
from servicekit.media import ObjectStoreSettings
from servicekit.settings import ServiceSettings


class ChatSettings(ServiceSettings, ObjectStoreSettings):
    """OBJECT_STORE_* come from ObjectStoreSettings: file messages are checked in the media bucket."""

    service_name: str = "chat"
    mongodb_url: SecretStr = Field(description="mongodb://user:pass@host:27017/chat")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
    # How often the outbox relay also scans for outboxes without the `_outbox_pending` flag
    # (servicekit.events.mongo): an unindexable filter, ~0.3 s per pass and collection at 10,000 documents on
    # FerretDB (bench/outbox_full_scan), a collection scan on DocumentDB. It catches outboxes staged without
    # the flag (documents from before it, or written without version and claims); the flag is otherwise
    # exact (on FerretDB because the relay takes the writers' claims) and the eks and minikube overlays set an
    # hour. The
    # first batch after start always scans.
    outbox_full_scan_interval_seconds: float = Field(default=30.0, gt=0, le=86400)
    # FerretDB v1 needs write claims for atomic conditional updates; MongoDB and DocumentDB do not.
    mongo_write_claims: bool = True
    # How long a write claim left by a process that died mid-write blocks its conversation (409, retry).
    mongo_claim_lease_seconds: float = Field(default=30.0, ge=1, le=300)
    unread_email_delay_seconds: float = Field(default=300.0, ge=1)
    unread_email_period_seconds: float = Field(default=3600.0, ge=1)
    unread_sweep_interval_seconds: float = Field(default=30.0, gt=0)
    # How late an offer's expiry may be recorded and announced (chat.offer.updated.v1, status expired).
    offer_expiry_sweep_interval_seconds: float = Field(default=15.0, gt=0)
