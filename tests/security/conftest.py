"""Security suite fixtures: the real stack of ``tests/e2e/marketplace_stack.py`` (notification, auth, review,
order and gateway as processes on the ``gigstack_testinfra`` servers, one stack per module), reached through
the gateway as an attacker would, or directly with internal tokens where the point is a service's own API."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher

# importlib import mode does not put folders on sys.path: the e2e stack and this suite's helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from marketplace_stack import marketplace_stack
from stack import GigstackStack


@pytest.fixture(scope="module")
async def stack(
    gigstack_backend: Backend,
    _mail_catcher_session: MailCatcher,
    internal_keypair: tuple[str, str],
    _redis_databases: isolation.RedisDatabaseAllocator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[GigstackStack]:
    """notification, auth, review, order and the gateway, once per module: each test makes its own
    accounts (per-account budgets and locks stay its own)."""
    async with marketplace_stack(
        gigstack_backend,
        _mail_catcher_session,
        internal_keypair,
        Path(tmp_path_factory.mktemp("security-logs")),
        with_mongo_and_search=False,
        with_chat=False,
        redis_databases=_redis_databases,
    ) as running:
        yield running


@pytest.fixture
async def gateway(stack: GigstackStack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.gateway_client() as client:
        yield client
