"""GatewaySettings: environment parsing and refusal of weak secrets."""

from __future__ import annotations

import pytest
from gateway_service.settings import GatewaySettings
from pydantic import ValidationError

BASE = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "INTERNAL_TOKEN_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nunit\n-----END PRIVATE KEY-----",
    "INTERNAL_TOKEN_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nunit\n-----END PUBLIC KEY-----",
    "ACCESS_TOKEN_SECRET": "a-long-enough-access-token-key-for-hs256-0123",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_reads_the_contract_variables(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("CORS_ORIGINS", "https://app.example.com, https://admin.example.com")
    environment.setenv("GIG_SERVICE_URL", "http://gig:8000")
    environment.setenv("SIGNIN_FAILURES_BEFORE_LOCK", "7")

    settings = GatewaySettings()

    assert settings.service_name == "gateway"
    assert settings.cors_origins == ["https://app.example.com", "https://admin.example.com"]
    assert settings.signin_failures_before_lock == 7
    assert settings.access_token_ttl_seconds == 900
    assert settings.max_request_bytes == 1_048_576
    assert settings.service_urls()["gig"] == "http://gig:8000"
    assert settings.service_urls()["users"] is None


def test_short_access_token_secret_is_refused(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ACCESS_TOKEN_SECRET", "x" * 31)
    with pytest.raises(ValidationError, match="32 bytes"):
        GatewaySettings()


def test_placeholder_secrets_are_refused_in_production(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ENVIRONMENT", "production")
    environment.setenv("ACCESS_TOKEN_SECRET", "changeme-changeme-changeme-changeme")
    with pytest.raises(ValidationError, match="ACCESS_TOKEN_SECRET"):
        GatewaySettings()
