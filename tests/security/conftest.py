"""Security suite fixtures: the real stack of ``tests/e2e/stack.py`` (notification, auth and gateway as
processes on the ``gigstack_testinfra`` servers), reached through the gateway as an attacker would, or
directly with internal tokens where the point is a service's own API."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.object_store import ObjectStoreBucket

# importlib import mode does not put folders on sys.path: the e2e stack and this suite's helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import GigstackStack, running_stack


@pytest.fixture
def order_database_url(gigstack_backend: Backend) -> Iterator[str]:
    """A second PostgreSQL database (postgres_url is review's): order runs in the suite's stack too."""
    endpoint = gigstack_backend.postgres()
    name = isolation.unique_name("order")
    isolation.create_postgres_database(endpoint, name)
    yield endpoint.url(name)
    isolation.drop_postgres_database(endpoint, name)


@pytest.fixture
async def stack(
    mariadb_url: str,
    postgres_url: str,
    order_database_url: str,
    object_store_bucket: ObjectStoreBucket,
    redis_url: str,
    amqp_url: str,
    mail_catcher: MailCatcher,
    internal_keypair: tuple[str, str],
    tmp_path: Path,
) -> AsyncIterator[GigstackStack]:
    async with running_stack(
        mariadb_url=mariadb_url,
        review_database_url=postgres_url,
        order_database_url=order_database_url,
        object_store=object_store_bucket,
        redis_url=redis_url,
        amqp_url=amqp_url,
        mail_catcher=mail_catcher,
        internal_keypair=internal_keypair,
        log_dir=tmp_path,
    ) as running:
        yield running


@pytest.fixture
async def gateway(stack: GigstackStack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.gateway_client() as client:
        yield client
