"""e2e fixtures: one running stack (notification, users, gig, review, auth and gateway processes) per test
module, on the real servers of the ``gigstack_testinfra`` plugin, with namespaces of its own (databases,
vhost, index prefix, bucket, Redis db). Tests keep out of each other's way by making their own accounts,
gigs and words; a module shares one stack because starting six processes costs more than most tests.
The stack itself lives in ``stack.py`` and ``marketplace_stack.py`` so other suites can reuse it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher

# importlib import mode does not put this folder on sys.path; the helpers sit beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from marketplace_stack import marketplace_stack
from stack import GigstackStack


@pytest.fixture(scope="module")
async def e2e_stack(
    gigstack_backend: Backend,
    _mail_catcher_session: MailCatcher,
    internal_keypair: tuple[str, str],
    _redis_databases: isolation.RedisDatabaseAllocator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[GigstackStack]:
    async with marketplace_stack(
        gigstack_backend,
        _mail_catcher_session,
        internal_keypair,
        Path(tmp_path_factory.mktemp("e2e-logs")),
        with_order=False,
        with_chat=False,
        redis_databases=_redis_databases,
    ) as stack:
        yield stack


@pytest.fixture
async def gateway(e2e_stack: GigstackStack) -> AsyncIterator[httpx.AsyncClient]:
    async with e2e_stack.gateway_client() as client:
        yield client
