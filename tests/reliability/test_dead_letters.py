"""Malformed and undeliverable messages land in the DLQ with their reason and do not hold up the queue."""

from __future__ import annotations

import pytest
from gigstack_testinfra.mail import MailCatcher
from reliability_support import (
    RESET_DONE,
    NotificationRunner,
    publish_reset_done,
    settled_counts,
    take_dead_letters,
    wait_for_queue,
    wait_for_recipients,
)
from servicekit.events import EventBus, EventEnvelope

pytestmark = pytest.mark.slow

GOOD = 100


async def test_malformed_messages_are_dead_lettered_with_reason_and_the_rest_flows(
    notification_runner: NotificationRunner, publisher: EventBus, mail_catcher: MailCatcher
) -> None:
    await notification_runner.start()
    await wait_for_queue(publisher)
    recipients = [f"flow{i}@example.com" for i in range(GOOD)]
    bad_ids: dict[str, str] = {}
    for index in range(0, GOOD, 20):
        await publish_reset_done(publisher, recipients[index : index + 10])
        raw_id = f"garbage-{index}"
        await publisher.publish_serialized(body=b'{"id": "nope"', event_type=RESET_DONE, event_id=raw_id)
        bad_ids[raw_id] = "malformed"
        no_recipient = EventEnvelope.new(type=RESET_DONE, producer="auth", payload={"username": "ghost"})
        await publisher.publish(no_recipient)
        bad_ids[str(no_recipient.id)] = "missing recipient"
        await publish_reset_done(publisher, recipients[index + 10 : index + 20])

    await wait_for_recipients(mail_catcher, recipients, timeout=60)
    counts = await settled_counts(mail_catcher)
    assert {r: counts[r] for r in recipients} == dict.fromkeys(recipients, 1)

    dead = await take_dead_letters(notification_runner.amqp_url, expected=len(bad_ids))
    reasons = {
        message.message_id: str((message.headers or {}).get("x-dead-letter-reason", "")) for message in dead
    }
    assert set(reasons) == set(bad_ids)
    for message_id, expected in bad_ids.items():
        if expected == "missing recipient":
            assert "missing recipient" in reasons[message_id]
        else:
            assert reasons[message_id], f"{message_id} dead-lettered without a reason"
    assert all((message.headers or {}).get("x-original-queue") == "notification.email" for message in dead)
