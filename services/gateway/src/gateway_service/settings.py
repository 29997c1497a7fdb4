"""GatewaySettings: the gateway's environment variables (docs/contracts.md), read only in bootstrap/tests."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode
from servicekit.settings import ServiceSettings, SymmetricSecret

# Groups proxied generically: public group name -> the service that owns it.
PROXIED_GROUPS: tuple[str, ...] = ("users", "gig", "chat", "order", "review")


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"

    redis_url: SecretStr = Field(description="redis://[:pass@]host:6379/db (sessions and rate limits)")
    internal_token_private_key: SecretStr
    access_token_secret: SymmetricSecret
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=1_209_600, ge=60)
    # Absolute session lifetime (refreshing never extends it) and the window in which a just-rotated refresh
    # token may be presented again (two tabs refreshing at once) without counting as reuse.
    session_absolute_lifetime_seconds: int = Field(default=2_592_000, ge=1)
    refresh_reuse_grace_seconds: float = Field(default=5.0, ge=0, le=60)
    # How long a replica remembers that a session was live (adapters/session_cache.py): a revocation made
    # through another replica takes effect here within this bound; 0 asks Redis on every request.
    session_liveness_cache_seconds: float = Field(default=2.0, ge=0, le=10)

    auth_service_url: str | None = "http://127.0.0.1:8001"
    users_service_url: str | None = None
    gig_service_url: str | None = None
    chat_service_url: str | None = None
    order_service_url: str | None = None
    review_service_url: str | None = None

    cors_origins: Annotated[list[str], NoDecode] = []
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    rate_limit_per_ip_per_minute: int = Field(default=600, ge=1)
    rate_limit_per_account_per_minute: int = Field(default=300, ge=1)
    signin_failures_before_lock: int = Field(default=5, ge=1)
    signin_failure_window_seconds: int = Field(default=900, ge=1)

    # Downstream HTTP client: per-call timeouts, and the retry budget for requests that never reached
    # the service (connect failures) or that are safe to repeat (idempotent methods).
    downstream_connect_timeout_seconds: float = 2.0
    downstream_read_timeout_seconds: float = 10.0
    downstream_max_retries: int = Field(default=2, ge=0, le=5)
    # The proxied operations answered by a dispatch in front of FastAPI's routing, through the same
    # middleware (entrypoints/front_dispatch.py); false sends every request through FastAPI's router.
    front_dispatch: bool = True

    # Realtime (docs/adr/0019): the bus carries chat and order events to push; without it, sockets still
    # connect (presence) but nothing is pushed. Heartbeats refresh presence and re-check sessions.
    amqp_url: SecretStr | None = None
    consumer_prefetch: int = Field(default=64, ge=1, le=1000)
    realtime_heartbeat_seconds: float = Field(default=10.0, gt=0)
    presence_ttl_seconds: float = Field(default=30.0, gt=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("access_token_secret")
    @classmethod
    def _access_secret_long_enough(cls, value: SecretStr) -> SecretStr:
        # HS256 keys shorter than the hash output weaken the MAC (RFC 7518 section 3.2).
        if len(value.get_secret_value().encode()) < 32:
            raise ValueError("ACCESS_TOKEN_SECRET must be at least 32 bytes")
        return value

    def service_urls(self) -> dict[str, str | None]:
        return {
            "auth": self.auth_service_url,
            "users": self.users_service_url,
            "gig": self.gig_service_url,
            "chat": self.chat_service_url,
            "order": self.order_service_url,
            "review": self.review_service_url,
        }
