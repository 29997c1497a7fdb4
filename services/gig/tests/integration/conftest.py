"""Real FerretDB, OpenSearch, RabbitMQ and s3proxy from gigstack_testinfra; the app runs its real lifespan
(outbox relay and search projection) behind httpx's ASGI transport, every call with a real internal token."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gig_service.entrypoints.app import create_app
from gig_service.entrypoints.bootstrap import GigDependencies
from gig_service.settings import GigSettings
from gigstack_testinfra.object_store import ObjectStoreBucket
from servicekit.security import InternalTokenIssuer

# --import-mode=importlib does not put test directories on sys.path; the proxy helper lives here.
sys.path.insert(0, str(Path(__file__).parent))


class InternalTokenAuth(httpx.Auth):
    """Mints a fresh gateway token per request, anonymous unless a subject is set."""

    def __init__(
        self, issuer: InternalTokenIssuer, subject: str | None = None, *, email_verified: bool = True
    ) -> None:
        self._issuer = issuer
        self._subject = subject
        # What the gateway says of a session (every session today belongs to a verified account).
        self._claims = {"email_verified": email_verified} if subject is not None else None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._issuer.issue("gig", subject=self._subject, extra=self._claims)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


@dataclass
class GigApi:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: InternalTokenIssuer

    @property
    def deps(self) -> GigDependencies:
        deps = self.app.state.deps
        assert isinstance(deps, GigDependencies)
        return deps

    def as_user(self, user_id: str | None, *, email_verified: bool = True) -> InternalTokenAuth:
        return InternalTokenAuth(self.issuer, subject=user_id, email_verified=email_verified)

    async def create(self, seller: str, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "Professional logo design",
            "description": "Three concepts and unlimited revisions",
            "category": "design",
            "tags": ["logo"],
            "price": 5000,
            "delivery_days": 3,
            **overrides,
        }
        response = await self.client.post("/api/v1/gigs", json=body, auth=self.as_user(seller))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def gig_settings(
    mongodb_url: str,
    amqp_url: str,
    opensearch_url: str,
    opensearch_index_prefix: str,
    internal_keypair: tuple[str, str],
    object_store_bucket: ObjectStoreBucket,
) -> GigSettings:
    store = {name.lower(): value for name, value in object_store_bucket.settings_env().items()}
    return GigSettings(
        **store,  # type: ignore[arg-type]
        environment="test",
        log_level="WARNING",
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        search_url=opensearch_url,
        search_index_alias=f"{opensearch_index_prefix}gigs",
        internal_token_public_key=internal_keypair[1],
    )


@asynccontextmanager
async def running_gig_api(settings: GigSettings, keypair: tuple[str, str]) -> AsyncIterator[GigApi]:
    app = create_app(settings)
    issuer = InternalTokenIssuer(keypair[0])
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://gig", auth=InternalTokenAuth(issuer), timeout=60
        ) as client,
    ):
        yield GigApi(app=app, client=client, issuer=issuer)


@pytest.fixture
async def gig_api(gig_settings: GigSettings, internal_keypair: tuple[str, str]) -> AsyncIterator[GigApi]:
    async with running_gig_api(gig_settings, internal_keypair) as api:
        yield api
