"""Helpers of the reliability suite: run notification as a process, publish, and count what arrived."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aio_pika
from gigstack_testinfra.mail import MailCatcher, MailMessage
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceProcess
from redis.asyncio import Redis
from servicekit.events import EventBus, EventEnvelope

EMAIL_QUEUE = "notification.email"
DEAD_LETTER_QUEUE = f"{EMAIL_QUEUE}.dlq"
RESET_DONE = "auth.email.password_reset_completed.v1"
MAIL_FROM = "Gigstack <no-reply@gigstack.test>"
PUBLIC_URL = "http://app.gigstack.test"
SMTP_MAX_CONNECTIONS = 4
LEDGER_PREFIX = "notification:delivery:"


class NotificationRunner:
    """The notification service as a real process (``python -m notification_service``)."""

    def __init__(
        self, *, amqp_url: str, redis_url: str, mail: MailCatcher, public_key_pem: str, log_dir: Path
    ) -> None:
        port = free_port()
        self.redis_url = redis_url
        self.amqp_url = amqp_url
        self.process = ServiceProcess(
            "notification",
            [sys.executable, "-m", "notification_service"],
            {
                "ENVIRONMENT": "test",
                "HOST": LOOPBACK,
                "PORT": str(port),
                "LOG_LEVEL": "INFO",
                "AMQP_URL": amqp_url,
                "REDIS_URL": redis_url,
                "SMTP_HOST": mail.smtp_host,
                "SMTP_PORT": str(mail.smtp_port),
                "SMTP_TIMEOUT_SECONDS": "2",
                "SMTP_MAX_CONNECTIONS": str(SMTP_MAX_CONNECTIONS),
                "DELIVERY_CLAIM_SECONDS": "10",
                "MAIL_FROM": MAIL_FROM,
                "PUBLIC_URL": PUBLIC_URL,
                "INTERNAL_TOKEN_PUBLIC_KEY": public_key_pem,
                "SHUTDOWN_GRACE_SECONDS": "5",
            },
            port,
            log_dir / "notification.log",
        )

    async def start(self) -> None:
        self.process.start()
        await self.process.wait_ready(timeout=60)

    def stop(self) -> None:
        if self.process.is_running():
            self.process.terminate(timeout=15)


async def wait_for_queue(bus: EventBus, queue: str = EMAIL_QUEUE, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """The consumer declares its queue after it connects; publish only once it exists (else unroutable)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await bus.queue_depth(queue)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def publish_reset_done(bus: EventBus, recipients: Iterable[str]) -> dict[str, EventEnvelope]:
    sent: dict[str, EventEnvelope] = {}
    for address in recipients:
        envelope = EventEnvelope.new(
            type=RESET_DONE, producer="auth", payload={"to": address, "username": address.split("@")[0]}
        )
        await bus.publish(envelope)
        sent[address] = envelope
    return sent


def counts_by_recipient(messages: Iterable[MailMessage], subject: str | None = None) -> Counter[str]:
    return Counter(
        address
        for message in messages
        if subject is None or message.get("subject") == subject
        for address in message.get("to", [])
    )


async def wait_for_recipients(
    mail: MailCatcher,
    recipients: Iterable[str],
    *,
    timeout: float,  # noqa: ASYNC109 - a polling deadline
    subject: str | None = None,
) -> Counter[str]:
    """Poll the catcher until every recipient got at least one message; returns the per-recipient counts."""
    wanted = set(recipients)
    deadline = time.monotonic() + timeout
    while True:
        counts = counts_by_recipient(await asyncio.to_thread(mail.messages), subject)
        missing = wanted - set(counts)
        if not missing:
            return counts
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(missing)} of {len(wanted)} recipients got no email, e.g. {sorted(missing)[:5]}"
            )
        await asyncio.sleep(1.0)


async def settled_counts(
    mail: MailCatcher, subject: str | None = None, quiet_seconds: float = 3.0
) -> Counter[str]:
    """Counts once nothing new arrived for ``quiet_seconds`` (late duplicates would show up by then)."""
    previous = -1
    while True:
        messages = await asyncio.to_thread(mail.messages)
        if len(messages) == previous:
            return counts_by_recipient(messages, subject)
        previous = len(messages)
        await asyncio.sleep(quiet_seconds)


async def claimed_event_ids(redis_url: str) -> set[str]:
    """Event ids whose ledger entry is still ``claimed`` (a sender was inside a send when it died)."""
    client = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        found: set[str] = set()
        async for key in client.scan_iter(match=f"{LEDGER_PREFIX}*", count=500):
            value = await client.get(key)
            if value is not None and _text(value).startswith("claimed:"):
                found.add(_text(key).removeprefix(LEDGER_PREFIX))
        return found
    finally:
        await client.aclose()


async def take_dead_letters(amqp_url: str, expected: int, timeout: float = 20.0) -> list[Any]:  # noqa: ASYNC109
    """Take (and ack) up to ``expected`` messages from the DLQ, waiting up to ``timeout`` for them."""
    found: list[Any] = []
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(DEAD_LETTER_QUEUE, passive=True)
        deadline = time.monotonic() + timeout
        while len(found) < expected and time.monotonic() < deadline:
            message = await queue.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                await asyncio.sleep(0.3)
                continue
            await message.ack()
            found.append(message)
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
