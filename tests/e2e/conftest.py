"""e2e fixtures: one running stack (notification + auth + gateway processes) per test, on the real servers
of the ``gigstack_testinfra`` plugin. The stack itself lives in ``stack.py`` so other suites can reuse it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.object_store import ObjectStoreBucket

# importlib import mode does not put this folder on sys.path; the helpers sit beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import GigstackStack, running_stack


@pytest.fixture
async def e2e_stack(
    mariadb_url: str,
    postgres_url: str,
    redis_url: str,
    amqp_url: str,
    mongodb_url: str,
    mail_catcher: MailCatcher,
    internal_keypair: tuple[str, str],
    opensearch_url: str,
    opensearch_index_prefix: str,
    object_store_bucket: ObjectStoreBucket,
    tmp_path: Path,
) -> AsyncIterator[GigstackStack]:
    async with running_stack(
        mariadb_url=mariadb_url,
        review_database_url=postgres_url,
        redis_url=redis_url,
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mail_catcher=mail_catcher,
        internal_keypair=internal_keypair,
        log_dir=tmp_path,
        search_url=opensearch_url,
        search_index_alias=f"{opensearch_index_prefix}gigs",
        object_store=object_store_bucket,
    ) as stack:
        yield stack


@pytest.fixture
async def gateway(e2e_stack: GigstackStack) -> AsyncIterator[httpx.AsyncClient]:
    async with e2e_stack.gateway_client() as client:
        yield client
