"""SMTP down for a while: deliveries pause (readiness stays green); every email goes out once it returns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from gigstack_testinfra.mail import MailCatcher
from reliability_support import (
    NotificationRunner,
    publish_reset_done,
    settled_counts,
    wait_for_queue,
    wait_for_recipients,
)
from servicekit.events import EventBus

pytestmark = pytest.mark.slow

BATCH = 200
OUTAGE_SECONDS = 15


async def test_emails_wait_for_smtp_and_go_out_exactly_once(
    notification_runner: NotificationRunner,
    publisher: EventBus,
    mail_catcher: MailCatcher,
    reliability_report: Callable[[str, object], None],
) -> None:
    await notification_runner.start()
    await wait_for_queue(publisher)
    await publish_reset_done(publisher, ["warmup@example.com"])
    await wait_for_recipients(mail_catcher, ["warmup@example.com"], timeout=20)

    await asyncio.to_thread(mail_catcher.stop)
    recipients = [f"outage{i}@example.com" for i in range(BATCH)]
    await publish_reset_done(publisher, recipients)
    await asyncio.sleep(OUTAGE_SECONDS)
    async with httpx.AsyncClient(base_url=notification_runner.process.base_url, timeout=5) as client:
        ready = await client.get("/health/ready")
        metrics = (await client.get("/metrics")).text
    # SMTP had answered before the outage: the pod stays ready, consumption just pauses.
    assert ready.status_code == 200, ready.text
    assert 'outcome="dead_lettered"' not in metrics
    depth = await publisher.queue_depth("notification.email")
    reliability_report("messages still queued during the outage", depth)
    await asyncio.to_thread(mail_catcher.start)

    started = asyncio.get_running_loop().time()
    await wait_for_recipients(mail_catcher, recipients, timeout=90)
    reliability_report(
        "seconds to deliver the backlog after SMTP returned",
        round(asyncio.get_running_loop().time() - started, 1),
    )
    counts = await settled_counts(mail_catcher)
    assert {r: counts[r] for r in recipients} == dict.fromkeys(recipients, 1)
    assert await publisher.queue_depth("notification.email.dlq") == 0
