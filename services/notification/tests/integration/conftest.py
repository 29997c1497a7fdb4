"""Integration tests of the notification service against real RabbitMQ, Redis and an SMTP catcher.

The service runs in-process (its real lifespan, consumer, ledger and SMTP adapter); only the servers come
from the ``gigstack_testinfra`` plugin. Helpers live in ``notification_harness`` beside this file.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gigstack_testinfra.plugin import RedisWithServiceUsers

# --import-mode=importlib does not put test directories on sys.path (unique module name: sys.path is shared).
sys.path.insert(0, str(Path(__file__).parent))

from notification_harness import RunningNotification, start_notification

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url(redis_with_service_users: RedisWithServiceUsers) -> str:
    """As notification's own Redis user (the ACL of every environment): other keys and commands fail."""
    return redis_with_service_users.url("notification")


@pytest.fixture
async def notification(
    amqp_url: str, redis_url: str, mail_catcher: Any, internal_keypair: tuple[str, str]
) -> AsyncIterator[RunningNotification]:
    async with start_notification(
        amqp_url=amqp_url,
        redis_url=redis_url,
        smtp_host=mail_catcher.smtp_host,
        smtp_port=mail_catcher.smtp_port,
        public_key_pem=internal_keypair[1],
    ) as running:
        yield running
