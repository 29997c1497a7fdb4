"""Review service settings (environment variables, no prefix); built in bootstrap, the CLI and tests only."""

from __future__ import annotations

from pydantic import Field, SecretStr
from servicekit.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    service_name: str = "review"
    database_url: SecretStr = Field(description="postgresql+asyncpg://user:pass@host:5432/review")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    database_pool_size: int = Field(default=5, ge=1)
    database_connect_timeout_seconds: int = Field(default=5, ge=1)
    # Longest a statement may run before it is cancelled (a stuck server must not pin a request forever).
    database_statement_timeout_seconds: int = Field(default=15, ge=1)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
