"""StorefrontSettings: the storefront's environment variables (docs/contracts.md), read only in the app
factory, ``__main__`` and tests."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from servicekit.media.settings import ObjectStoreSettings
from servicekit.settings import ServiceSettings, refuse_placeholder_secrets

_RELAXED = frozenset({"development", "test"})


class StorefrontSettings(ServiceSettings):
    service_name: str = "storefront"
    # The storefront is a web client of the gateway: it receives no internal tokens, so it has no key to check
    # them with (the shared setting stays for the common settings model; nothing reads it here).
    internal_token_public_key: SecretStr = SecretStr("")

    redis_url: SecretStr = Field(description="redis://user:pass@host:6379/2 (sessions under sf:)")
    gateway_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of the gateway's public API (no trailing /api)"
    )
    # The object store's public origin (scheme://host[:port]) that presigned upload URLs point at and media
    # is read from: the one origin besides its own that pages may talk to (CSP, docs/adr/0025).
    media_public_origin: str | None = None
    # Where public media (gig covers) is read from: ``<media_public_base_url>/<media key>``; without it,
    # pages show no images. Ignored when MEDIA_PROXY_ENABLED is on.
    media_public_base_url: str | None = None
    # Serve gig covers at ``/media/<key>`` on the storefront's own origin, read from the object store with the
    # OBJECT_STORE_* settings (servicekit.media; read-only use of the bucket), so pages make no cross-origin
    # GET and the CSP's img-src stays 'self' (docs/adr/0025).
    media_proxy_enabled: bool = False
    # Stripe's publishable key (pk_...): with it, checkout mounts Stripe's Payment Element and the CSP names
    # Stripe's origins; without it (local), checkout pays through the local provider (payments.devConfirm).
    stripe_publishable_key: str | None = None

    # Server-side sessions (sessions.py): idle lifetime, sliding on every request. A signed-in session never
    # outlives the gateway's refresh token; when that is gone the user is signed out.
    session_idle_seconds: int = Field(default=1_209_600, ge=60)
    anonymous_session_idle_seconds: int = Field(default=7_200, ge=60)

    # Gateway calls: timeouts per call, and retries for calls that never reached it or are safe to repeat.
    gateway_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    gateway_read_timeout_seconds: float = Field(default=10.0, gt=0)
    gateway_max_retries: int = Field(default=2, ge=0, le=5)

    @field_validator("stripe_publishable_key")
    @classmethod
    def _publishable_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # Only a publishable key is ever sent to browsers; a secret key (sk_/rk_) here would leak it.
        if not value.startswith("pk_") or any(c in value for c in " \"'<>"):
            raise ValueError("STRIPE_PUBLISHABLE_KEY must be a Stripe publishable key (pk_...)")
        return value.strip()

    @field_validator("media_public_origin")
    @classmethod
    def _bare_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        scheme, _, rest = value.partition("://")
        # A CSP source with a path or a quote would widen or break the policy.
        if scheme not in ("http", "https") or not rest or "/" in rest or any(c in rest for c in " ;'\","):
            raise ValueError("MEDIA_PUBLIC_ORIGIN must be scheme://host[:port], nothing more")
        return value

    def object_store(self) -> ObjectStoreSettings:
        """OBJECT_STORE_* from the environment, held to the house rule for secrets: outside development and
        test a placeholder OBJECT_STORE_SECRET_ACCESS_KEY is refused, as the services that mix
        ObjectStoreSettings into their ServiceSettings refuse it. Read only when the media proxy is on (its
        bucket is required then, and the storefront needs no object store otherwise)."""
        store = ObjectStoreSettings()
        refuse_placeholder_secrets(store, self.environment)
        return store

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` everywhere but on a developer's plain-HTTP loopback."""
        return self.environment not in _RELAXED
