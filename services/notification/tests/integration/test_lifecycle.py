"""Readiness around SMTP, and a graceful stop that finishes in-flight sends (real servers)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from notification_harness import readiness, start_notification

pytestmark = pytest.mark.integration

RESET_DONE = "auth.email.password_reset_completed.v1"


async def test_smtp_gates_readiness_until_it_has_answered_once(
    amqp_url: str, redis_url: str, mail_catcher: Any, internal_keypair: tuple[str, str]
) -> None:
    await asyncio.to_thread(mail_catcher.stop)
    async with start_notification(
        amqp_url=amqp_url,
        redis_url=redis_url,
        smtp_host=mail_catcher.smtp_host,
        smtp_port=mail_catcher.smtp_port,
        public_key_pem=internal_keypair[1],
        wait_ready=False,
    ) as running:
        response = await readiness(running.app)
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["smtp"] != "ok"
        assert checks["redis"] == "ok"

        await asyncio.to_thread(mail_catcher.start)
        assert (await readiness(running.app)).status_code == 200

        # Once SMTP has answered, an outage pauses delivery but leaves the pod ready.
        await asyncio.to_thread(mail_catcher.stop)
        await running.publish(RESET_DONE, {"to": "ann@example.com", "username": "ann"})
        await asyncio.sleep(1.0)
        assert (await readiness(running.app)).status_code == 200
        await asyncio.to_thread(mail_catcher.start)
        await mail_catcher.wait_for_messages(1, timeout=20)


async def test_graceful_stop_mid_batch_then_restart_sends_every_email_once(
    amqp_url: str, redis_url: str, mail_catcher: Any, internal_keypair: tuple[str, str]
) -> None:
    options = {
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "smtp_host": mail_catcher.smtp_host,
        "smtp_port": mail_catcher.smtp_port,
        "public_key_pem": internal_keypair[1],
    }
    recipients = [f"stop{i}@example.com" for i in range(150)]
    async with start_notification(**options) as running:
        for address in recipients:
            await running.publish(RESET_DONE, {"to": address, "username": address.split("@")[0]})
        await mail_catcher.wait_for_messages(20, timeout=30)
    # The lifespan exited while sends were in flight: those finished and were acked, the rest went back.
    stopped_with = len(mail_catcher.messages())
    assert stopped_with < len(recipients), "the batch finished before the stop; the test proves nothing"

    async with start_notification(**options):
        found = await mail_catcher.wait_for_messages(
            len(recipients), timeout=60, where=lambda m: m["to"][0].startswith("stop")
        )
        await asyncio.sleep(1.5)
        counts = Counter(m["to"][0] for m in mail_catcher.messages())
    assert len(found) >= len(recipients)
    assert {r: counts[r] for r in recipients} == dict.fromkeys(recipients, 1)
