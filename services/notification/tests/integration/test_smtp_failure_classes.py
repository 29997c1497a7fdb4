"""Each SMTP failure class against a real SMTP server on loopback (aiosmtpd) that answers with those codes:
a rejected recipient costs only its own message, 421 pauses without spending retries, a refused sender
pauses and alerts instead of dropping mail, and dead letters never hold an OTP or token in clear."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from notification_harness import RunningNotification, start_notification
from scripted_smtp import ScriptedSmtpServer

pytestmark = pytest.mark.integration

OTP_EVENT = "auth.email.otp_requested.v1"
VERIFY_EVENT = "auth.email.verification_requested.v1"
RESET_DONE = "auth.email.password_reset_completed.v1"


@pytest.fixture
def smtp_server() -> Any:
    server = ScriptedSmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def notification(
    amqp_url: str, redis_url: str, smtp_server: ScriptedSmtpServer, internal_keypair: tuple[str, str]
) -> AsyncIterator[RunningNotification]:
    async with start_notification(
        amqp_url=amqp_url,
        redis_url=redis_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        public_key_pem=internal_keypair[1],
    ) as running:
        yield running


def _paused(notification: RunningNotification, cause: str) -> float:
    for metric in notification.app.state.metrics_registry.collect():
        for sample in metric.samples:
            if sample.name == "notification_smtp_paused" and sample.labels.get("cause") == cause:
                return float(sample.value)
    raise AssertionError("notification_smtp_paused is not exported")


async def _until(condition: Any, timeout: float, what: str) -> None:  # noqa: ASYNC109 - a polling deadline
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_rejected_recipient_dead_letters_only_its_message_without_secrets(
    notification: RunningNotification, smtp_server: ScriptedSmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp_server.script.rejected_local_parts["bad"] = "550 5.1.1 No such user here"
    otp = await notification.publish(
        OTP_EVENT, {"to": "bad-otp@example.com", "username": "eve", "otp": "739154", "expires_in_minutes": 10}
    )
    verify = await notification.publish(
        VERIFY_EVENT, {"to": "bad-link@example.com", "username": "eve", "token": "v-secret-8f2a91"}
    )
    good = [f"user{i}@example.com" for i in range(5)]
    for address in good:
        await notification.publish(RESET_DONE, {"to": address, "username": address.split("@")[0]})

    await _until(lambda: len(smtp_server.handler.accepted) >= len(good), 30, "the good emails")
    dead = await notification.dead_letters(2)

    assert sorted(smtp_server.handler.recipients()) == sorted(good)
    # One RCPT per rejected message: no retry storm, and nobody else waited for them.
    assert smtp_server.handler.rcpt_attempts["bad-otp@example.com"] == 1
    assert smtp_server.handler.rcpt_attempts["bad-link@example.com"] == 1
    assert notification.consumed("retried") == 0
    assert _paused(notification, "unavailable") == 0
    assert _paused(notification, "configuration") == 0

    bodies = {m.message_id: m.body for m in dead}
    assert set(bodies) == {str(otp.id), str(verify.id)}
    assert json.loads(bodies[str(otp.id)])["payload"]["otp"] == "[redacted]"
    assert json.loads(bodies[str(verify.id)])["payload"]["token"] == "[redacted]"
    for body in bodies.values():
        assert b"739154" not in body
        assert b"v-secret-8f2a91" not in body
    reasons = {str((m.headers or {}).get("x-dead-letter-reason")) for m in dead}
    assert all("550" in reason for reason in reasons)
    # The dead letter is still useful: who it was for and what it was.
    assert json.loads(bodies[str(otp.id)])["payload"]["to"] == "bad-otp@example.com"
    assert "739154" not in caplog.text
    assert "v-secret-8f2a91" not in caplog.text


async def test_421_pauses_everyone_and_retries_without_spending_the_delivery_limit(
    notification: RunningNotification, smtp_server: ScriptedSmtpServer
) -> None:
    smtp_server.script.service_unavailable_until = time.monotonic() + 6
    recipients = [f"later{i}@example.com" for i in range(3)]
    for address in recipients:
        await notification.publish(RESET_DONE, {"to": address, "username": address.split("@")[0]})

    await _until(lambda: sum(smtp_server.handler.rcpt_attempts.values()) > 0, 15, "a first attempt")
    await _until(lambda: _paused(notification, "unavailable") == 1, 5, "the pause")
    await _until(lambda: len(smtp_server.handler.accepted) >= 3, 40, "delivery after the 421s")

    assert sorted(smtp_server.handler.recipients()) == sorted(recipients)
    # Held while the server said 421, never handed back to the broker (no requeue, no dead letter).
    assert notification.consumed("retried") == 0
    assert notification.consumed("dead_lettered") == 0
    assert _paused(notification, "unavailable") == 0


async def test_a_refused_sender_pauses_and_alerts_instead_of_dropping_mail(
    notification: RunningNotification, smtp_server: ScriptedSmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.script.mail_from_reply = "554 5.7.1 Sender address not verified"
    recipients = [f"waiting{i}@example.com" for i in range(3)]
    for address in recipients:
        await notification.publish(RESET_DONE, {"to": address, "username": address.split("@")[0]})

    await _until(lambda: _paused(notification, "configuration") == 1, 15, "the configuration alert")
    await asyncio.sleep(3)  # long enough for a dead-lettering or retrying bug to show
    assert notification.consumed("dead_lettered") == 0
    assert notification.consumed("retried") == 0
    assert smtp_server.handler.accepted == []
    assert any(
        record.levelno >= logging.ERROR and "configuration" in record.getMessage()
        for record in caplog.records
    )

    smtp_server.script.mail_from_reply = None  # the operator verified the sender
    await _until(lambda: len(smtp_server.handler.accepted) >= 3, 30, "delivery once the sender is accepted")
    assert sorted(smtp_server.handler.recipients()) == sorted(recipients)
    assert _paused(notification, "configuration") == 0
    assert notification.consumed("dead_lettered") == 0


async def test_a_long_refusal_never_spends_the_delivery_limit(
    amqp_url: str, redis_url: str, smtp_server: ScriptedSmtpServer, internal_keypair: tuple[str, str]
) -> None:
    # Each message waits 1 s for SMTP, then is handed back; with the queue's delivery limit of 5 a requeue
    # would dead-letter it by the fifth hand-back. Hand-backs republish a fresh copy instead.
    async with start_notification(
        amqp_url=amqp_url,
        redis_url=redis_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        public_key_pem=internal_keypair[1],
        smtp_outage_wait_seconds=1,
    ) as notification:
        smtp_server.script.mail_from_reply = "554 5.7.1 Sender address not verified"
        await notification.publish(RESET_DONE, {"to": "patient@example.com", "username": "patient"})
        await _until(lambda: notification.consumed("handed_back") >= 7, 60, "more hand-backs than the limit")
        assert notification.consumed("dead_lettered") == 0

        smtp_server.script.mail_from_reply = None
        await _until(lambda: len(smtp_server.handler.accepted) >= 1, 30, "delivery once the sender is fixed")
        assert smtp_server.handler.recipients() == ["patient@example.com"]
        assert notification.consumed("dead_lettered") == 0
