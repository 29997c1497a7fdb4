"""Reliability suite: real service processes on the real servers of ``gigstack_testinfra``, with crashes.

Scenarios (each its own test): RabbitMQ killed while auth publishes 1,000 email events; notification
SIGKILLed mid-batch; SMTP down for a while; malformed messages dead-lettered without blocking the queue.
Helpers live in ``reliability_support`` beside this file; the full stack comes from ``tests/e2e/stack.py``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from gigstack_testinfra.mail import MailCatcher
from servicekit.events import EventBus

# importlib import mode does not put test folders on sys.path; the helpers sit beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from reliability_support import NotificationRunner


@pytest.fixture
async def notification_runner(
    amqp_url: str,
    redis_url: str,
    mail_catcher: MailCatcher,
    internal_keypair: tuple[str, str],
    tmp_path: Path,
) -> AsyncIterator[NotificationRunner]:
    runner = NotificationRunner(
        amqp_url=amqp_url,
        redis_url=redis_url,
        mail=mail_catcher,
        public_key_pem=internal_keypair[1],
        log_dir=tmp_path,
    )
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
async def publisher(amqp_url: str) -> AsyncIterator[EventBus]:
    bus = EventBus(amqp_url, service_name="auth")
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
def reliability_report() -> Callable[[str, object], None]:
    """Print measured figures so they show with ``-s`` and in the failure report."""

    def report(name: str, value: object) -> None:
        print(f"[reliability] {name}: {value}")

    return report
