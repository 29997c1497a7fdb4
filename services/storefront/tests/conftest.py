"""Route-test fixtures: the storefront app on the real Redis (as its own ACL-limited user, so every key it
writes must start with ``sf:``) and a fake gateway behind an ``httpx.MockTransport`` (storefront_fakes.py).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra.plugin import RedisWithServiceUsers
from storefront_service.entrypoints.app import create_app
from storefront_service.settings import StorefrontSettings

# --import-mode=importlib does not put test directories on sys.path; the fakes module lives here.
sys.path.insert(0, str(Path(__file__).parent))

from storefront_fakes import BASE_URL, FakeGateway

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def storefront_settings(redis_with_service_users: RedisWithServiceUsers) -> StorefrontSettings:
    return StorefrontSettings(
        environment="test",
        redis_url=redis_with_service_users.url("storefront"),
        gateway_url="http://gateway.test",
        media_public_origin="http://media.test:9000",
        media_public_base_url="http://media.test:9000/gigstack-media",
        gateway_max_retries=1,
    )


@pytest.fixture
async def client(
    storefront_settings: StorefrontSettings, gateway: FakeGateway
) -> AsyncIterator[httpx.AsyncClient]:
    http = httpx.AsyncClient(base_url="http://gateway.test", transport=httpx.MockTransport(gateway))
    app = create_app(storefront_settings, http=http)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser:
        yield browser
    await app.state.deps.redis.aclose()
    await http.aclose()
