"""Settings every service shares, read from environment variables (no prefix) by pydantic-settings.

Services subclass `ServiceSettings`, add their own fields and build the object only in bootstrap, lifespan or
tests, never at import. Outside development/test the model refuses secrets that look like placeholders, so a
copied example value cannot reach staging or production unnoticed.

`ENVIRONMENT` fails closed: when it is missing the service runs as `production` (placeholder secrets refused,
development-only routes absent). Only an explicit `development` or `test` relaxes anything, so a manifest or a
shell that forgot the variable gets the strict behaviour, never the permissive one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "PLACEHOLDER_MARKERS",
    "Environment",
    "ServiceSettings",
    "SymmetricKey",
    "SymmetricSecret",
    "refuse_placeholder_secrets",
]

Environment = Literal["development", "test", "staging", "production"]

PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "placeholder", "dev-only", "secret", "password")
_MIN_SYMMETRIC_KEY_LENGTH = 16
_RELAXED_ENVIRONMENTS = frozenset({"development", "test"})


class SymmetricKey:
    """Field marker: the secret is a symmetric key, so it must also be at least 16 characters long."""


SymmetricSecret = Annotated[SecretStr, SymmetricKey()]


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def _secret_values(value: Any) -> list[str]:
    """The secret parts of a field value: a SecretStr's content or the password(s) of a DSN."""
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    # pydantic's multi-host DSNs (PostgresDsn, MongoDsn) expose hosts(); single-host URLs expose password.
    hosts = getattr(value, "hosts", None)
    if callable(hosts):
        return [str(host["password"]) for host in hosts() if host.get("password")]
    password = getattr(value, "password", None)
    if isinstance(password, str) and password:
        return [password]
    return []


def refuse_placeholder_secrets(settings: BaseSettings, environment: str) -> None:
    """Raise `ValueError` naming the first field holding a placeholder-looking secret (never its value)."""
    if environment in _RELAXED_ENVIRONMENTS:
        return
    for field_name, field in type(settings).model_fields.items():
        value = getattr(settings, field_name)
        secrets = _secret_values(value)
        if not secrets:
            continue
        is_symmetric_key = any(isinstance(meta, SymmetricKey) for meta in field.metadata)
        for secret in secrets:
            if _looks_like_placeholder(secret):
                raise ValueError(
                    f"{field_name.upper()} looks like a placeholder secret, which is refused in {environment}"
                )
            if is_symmetric_key and len(secret) < _MIN_SYMMETRIC_KEY_LENGTH:
                raise ValueError(
                    f"{field_name.upper()} is shorter than {_MIN_SYMMETRIC_KEY_LENGTH} characters, "
                    f"which is refused in {environment}"
                )


class ServiceSettings(BaseSettings):
    """Settings common to every service; subclass per service and set a default `service_name`."""

    model_config = SettingsConfigDict(
        env_prefix="",
        case_sensitive=False,
        extra="ignore",
        # Validation errors otherwise echo the raw input, which here is the environment, secrets included.
        hide_input_in_errors=True,
    )

    service_name: str
    # Fail closed (see the module docstring): the relaxed environments must be asked for by name.
    environment: Environment = "production"
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    internal_token_public_key: SecretStr
    otel_exporter_otlp_endpoint: str | None = None
    otel_traces_sampler_arg: float = 1.0
    shutdown_grace_seconds: float = 20

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        refuse_placeholder_secrets(self, self.environment)
        return self
