"""Settings refuse placeholder secrets outside development/test, naming the field but never the value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import PostgresDsn, SecretStr, ValidationError
from servicekit.settings import ServiceSettings, SymmetricSecret

REAL_PUBLIC_KEY = "\n".join(
    [
        "-----BEGIN PUBLIC KEY-----",
        "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
        "-----END PUBLIC KEY-----",
    ]
)


class GatewayLikeSettings(ServiceSettings):
    service_name: str = "gateway"
    access_token_secret: SymmetricSecret
    smtp_password: SecretStr | None = None
    database_url: PostgresDsn | None = None


def _settings(environment: str, **fields: object) -> GatewayLikeSettings:
    values: dict[str, Any] = {
        "environment": environment,
        "internal_token_public_key": REAL_PUBLIC_KEY,
        "access_token_secret": "Zq8v1X2m9Jr4TbLw7Ns5Kd3Hp6Fy0Ac2Ue",
    }
    values.update(fields)
    return GatewayLikeSettings(**values)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_token_secret", "changeme-changeme-changeme-1234"),
        ("access_token_secret", "this-is-a-PLACEHOLDER-value-12345"),
        ("access_token_secret", "dev-only-access-token-secret-xyz"),
        ("smtp_password", "password123"),
        ("internal_token_public_key", "my-secret-key-material"),
        ("database_url", "postgresql+asyncpg://order:changeme@db:5432/order"),
    ],
)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_placeholder_secret_is_refused_outside_dev_naming_field_not_value(
    environment: str, field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(environment, **{field: value})
    message = str(refused.value)
    assert field.upper() in message
    assert value not in message
    for part in value.split(":"):
        if len(part) > 6:
            assert part not in message


def test_short_symmetric_key_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="ACCESS_TOKEN_SECRET is shorter than 16"):
        _settings("production", access_token_secret="Zq8v1X2m9J")


@pytest.mark.parametrize("environment", ["development", "test"])
def test_placeholders_are_allowed_in_development_and_test(environment: str) -> None:
    settings = _settings(environment, access_token_secret="changeme", smtp_password="password")
    assert settings.access_token_secret.get_secret_value() == "changeme"


def test_real_secrets_pass_in_production() -> None:
    settings = _settings(
        "production",
        smtp_password="T4f!kq9Lr0pz",
        database_url="postgresql+asyncpg://order:N7dh3kQ0xPz1@db:5432/order",
    )
    assert settings.environment == "production"
    assert not settings.is_development
    assert "T4f!kq9Lr0pz" not in repr(settings)


def test_settings_are_read_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("INTERNAL_TOKEN_PUBLIC_KEY", REAL_PUBLIC_KEY)
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", "Zq8v1X2m9Jr4TbLw7Ns5Kd3Hp6Fy0Ac2Ue")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")

    settings = GatewayLikeSettings()

    assert settings.environment == "staging"
    assert settings.log_level == "DEBUG"
    assert settings.otel_traces_sampler_arg == 0.25
    assert settings.otel_exporter_otlp_endpoint is None
    assert settings.shutdown_grace_seconds == 20


def test_invalid_value_error_does_not_echo_other_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERNAL_TOKEN_PUBLIC_KEY", REAL_PUBLIC_KEY)
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", "Zq8v1X2m9Jr4TbLw7Ns5Kd3Hp6Fy0Ac2Ue")
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ValidationError) as refused:
        GatewayLikeSettings()
    assert "Zq8v1X2m9Jr4" not in str(refused.value)


def test_a_missing_environment_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.setenv("INTERNAL_TOKEN_PUBLIC_KEY", REAL_PUBLIC_KEY)
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", "Zq8v1X2m9Jr4TbLw7Ns5Kd3Hp6Fy0Ac2Ue")

    settings = GatewayLikeSettings()

    assert settings.environment == "production"
    assert not settings.is_development


def test_a_missing_environment_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fail closed: forgetting ENVIRONMENT must not relax the check (it used to default to development).
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.setenv("INTERNAL_TOKEN_PUBLIC_KEY", REAL_PUBLIC_KEY)
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", "changeme-changeme-changeme-1234")
    with pytest.raises(ValidationError, match="ACCESS_TOKEN_SECRET looks like a placeholder"):
        GatewayLikeSettings()


@pytest.mark.parametrize("value", ["prod", "dev", "Development ", ""])
def test_an_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ENVIRONMENT", value)
    monkeypatch.setenv("INTERNAL_TOKEN_PUBLIC_KEY", REAL_PUBLIC_KEY)
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", "Zq8v1X2m9Jr4TbLw7Ns5Kd3Hp6Fy0Ac2Ue")
    with pytest.raises(ValidationError):
        GatewayLikeSettings()
