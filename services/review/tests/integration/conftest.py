"""Real PostgreSQL (migrated with the service's own Alembic scripts) and RabbitMQ from gigstack_testinfra; the
app runs its real lifespan (engine, consumers, outbox relay) behind httpx's ASGI transport, every call with a
real internal token. Helpers live in review_harness."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from review_service.adapters.migrations import upgrade_to_head
from review_service.settings import ReviewSettings

# --import-mode=importlib does not put test directories on sys.path; the harness module lives here.
sys.path.insert(0, str(Path(__file__).parent))

from review_harness import ReviewApi, running_review_api


@pytest.fixture
async def database_url(postgres_url: str) -> str:
    await upgrade_to_head(postgres_url)
    return postgres_url


@pytest.fixture
def review_settings(database_url: str, amqp_url: str, internal_keypair: tuple[str, str]) -> ReviewSettings:
    return ReviewSettings(
        environment="test",
        log_level="WARNING",
        database_url=database_url,
        amqp_url=amqp_url,
        internal_token_public_key=internal_keypair[1],
    )


@pytest.fixture
async def review_api(
    review_settings: ReviewSettings, internal_keypair: tuple[str, str]
) -> AsyncIterator[ReviewApi]:
    async with running_review_api(review_settings, internal_keypair) as api:
        yield api
