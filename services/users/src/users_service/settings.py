"""Users service settings (environment variables, no prefix); read in bootstrap, the CLI and tests only."""

from __future__ import annotations

from pydantic import Field, SecretStr
from servicekit.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    service_name: str = "users"
    mongodb_url: SecretStr = Field(description="mongodb://user:pass@host:27017/users (database in the path)")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    # Bounds every store operation; also sizes the write-claim lease (see entrypoints/bootstrap.py).
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
