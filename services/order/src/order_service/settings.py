"""Order service settings (environment variables, no prefix); built in bootstrap and tests only."""

from __future__ import annotations

from pydantic import Field, SecretStr
from servicekit.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    service_name: str = "order"
    mongodb_url: SecretStr = Field(description="mongodb://user:pass@host:27017/order")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
