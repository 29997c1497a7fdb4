"""The test-only hashing cost: allowed in development and test only; production cost by default."""

from __future__ import annotations

import pytest
from auth_service.adapters.hashing import Argon2idPasswordHasher
from auth_service.entrypoints.bootstrap import bootstrap
from auth_service.settings import AuthSettings
from pydantic import ValidationError


def settings(environment: str, **overrides: str) -> AuthSettings:
    return AuthSettings(
        environment=environment,
        database_url="mysql+asyncmy://auth:pw@127.0.0.1:3306/auth",
        amqp_url="amqp://guest:guest@127.0.0.1:5672/",
        internal_token_public_key="test-key",
        **overrides,  # type: ignore[arg-type]
    )


def hasher_of(settings: AuthSettings) -> Argon2idPasswordHasher:
    hasher = bootstrap(settings).handlers.hasher
    assert isinstance(hasher, Argon2idPasswordHasher)
    return hasher


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_fast_hashing_is_refused_outside_development_and_test(environment: str) -> None:
    with pytest.raises(ValidationError, match="HASHING_COST"):
        settings(environment, hashing_cost="fast-for-tests")


def test_production_cost_by_default_and_minimum_cost_only_when_asked() -> None:
    production = hasher_of(settings("test"))
    fast = hasher_of(settings("test", hashing_cost="fast-for-tests"))
    assert production.needs_rehash(fast._dummy_hash)  # weaker than the production parameters
    assert not fast.needs_rehash(fast._dummy_hash)
