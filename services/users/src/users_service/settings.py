"""Users service settings (environment variables, no prefix); read in bootstrap, the CLI and tests only."""

from __future__ import annotations

from pydantic import Field, SecretStr
from servicekit.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    service_name: str = "users"
    mongodb_url: SecretStr = Field(description="mongodb://user:pass@host:27017/users (database in the path)")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    # How often the outbox relay also scans for outboxes without the `_outbox_pending` flag
    # (servicekit.events.mongo): an unindexable filter, ~0.3 s per pass and collection at 10,000 documents on
    # FerretDB (bench/outbox_full_scan), a collection scan on DocumentDB. It catches outboxes staged without
    # the flag (documents from before it, or written without version and claims); the flag is otherwise
    # exact (on FerretDB because the relay takes the writers' claims) and the eks and minikube overlays set an
    # hour. The first batch after start always scans.
    outbox_full_scan_interval_seconds: float = Field(default=30.0, gt=0, le=86400)
    # Write claims make FerretDB v1's conditional updates conflict as MongoDB's and DocumentDB's do on their
    # own (servicekit.write_claims); the mongodb-atomic-store component turns them off there (ADR 0026).
    mongo_write_claims: bool = True
    # Bounds every store operation; also sizes the write-claim lease (see entrypoints/bootstrap.py).
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
