"""Fixtures building service apps the way services do, and clients that talk to them in process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from servicekit.health import ReadinessCheck
from servicekit.http import LifespanHook, create_service_app
from servicekit.security import InternalTokenIssuer, generate_ed25519_keypair
from servicekit.settings import ServiceSettings

SERVICE_NAME = "order"

AppFactory = Callable[..., FastAPI]


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    private_pem, public_pem = generate_ed25519_keypair()
    return private_pem, public_pem


@pytest.fixture(scope="session")
def token_issuer(keypair: tuple[str, str]) -> InternalTokenIssuer:
    return InternalTokenIssuer(keypair[0])


@pytest.fixture
def service_settings(keypair: tuple[str, str]) -> ServiceSettings:
    return ServiceSettings(
        service_name=SERVICE_NAME, environment="test", internal_token_public_key=keypair[1]
    )


@pytest.fixture
def build_app(service_settings: ServiceSettings) -> AppFactory:
    def build(
        *routers: APIRouter,
        readiness: Sequence[ReadinessCheck] = (),
        lifespan_hooks: Sequence[LifespanHook] = (),
        require_internal_token: bool = True,
    ) -> FastAPI:
        app: FastAPI = create_service_app(
            service_settings,
            title="test service",
            version="0.0.1",
            routers=routers,
            readiness=readiness,
            lifespan_hooks=lifespan_hooks,
            require_internal_token=require_internal_token,
        )
        return app

    return build


@pytest.fixture
def auth_headers(token_issuer: InternalTokenIssuer) -> Callable[..., dict[str, str]]:
    def headers(subject: str | None = "user-1", audience: str = SERVICE_NAME, **extra: Any) -> dict[str, str]:
        token = token_issuer.issue(audience, subject=subject, extra=extra or None)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def make_client() -> Callable[[FastAPI], httpx.AsyncClient]:
    """In-process client (no lifespan; tests that need it enter `app.router.lifespan_context`)."""

    def make(app: FastAPI) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service", timeout=10
        )

    return make
