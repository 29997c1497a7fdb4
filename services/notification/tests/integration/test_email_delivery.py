"""Event → email at the catcher, exactly once, with dead-lettering and an SMTP outage (real servers)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from notification_harness import MAIL_DOMAIN, PUBLIC_URL, RunningNotification

pytestmark = pytest.mark.integration

RESET_DONE = "auth.email.password_reset_completed.v1"


async def test_each_auth_email_event_becomes_its_email(
    notification: RunningNotification, mail_catcher: Any
) -> None:
    verify = await notification.publish(
        "auth.email.verification_requested.v1", {"to": "ann@example.com", "username": "ann", "token": "v-123"}
    )
    otp = await notification.publish(
        "auth.email.otp_requested.v1",
        {"to": "bob@example.com", "username": "bob", "otp": "493021", "expires_in_minutes": 10},
    )
    forgot = await notification.publish(
        "auth.email.password_reset_requested.v1",
        {"to": "cat@example.com", "username": "cat", "token": "r-456"},
    )
    done = await notification.publish(RESET_DONE, {"to": "dan@example.com", "username": "dan"})

    messages = await mail_catcher.wait_for_messages(4, timeout=20)
    by_recipient = {m["to"][0]: m for m in messages}
    assert set(by_recipient) == {"ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"}

    ann = by_recipient["ann@example.com"]
    assert ann["subject"] == "Confirm your email address for Gigstack"
    assert f"{PUBLIC_URL}/confirm_email?v_token=v-123" in ann["text"]
    assert f'href="{PUBLIC_URL}/confirm_email?v_token=v-123"' in ann["html"]
    assert ann["message-id"] == f"<{verify.id}@{MAIL_DOMAIN}>"
    assert ann["envelope_to"] == ["ann@example.com"]

    bob = by_recipient["bob@example.com"]
    assert bob["subject"] == "Your Gigstack sign-in code: 493021"
    assert bob["message-id"] == f"<{otp.id}@{MAIL_DOMAIN}>"

    cat = by_recipient["cat@example.com"]
    assert f"{PUBLIC_URL}/reset_password?token=r-456" in cat["text"]
    assert cat["message-id"] == f"<{forgot.id}@{MAIL_DOMAIN}>"

    dan = by_recipient["dan@example.com"]
    assert dan["subject"] == "Your Gigstack password was changed"
    assert dan["message-id"] == f"<{done.id}@{MAIL_DOMAIN}>"
    assert all(m["from"] == f"Gigstack <no-reply@{MAIL_DOMAIN}>" for m in messages)


async def test_duplicate_deliveries_of_one_event_send_one_email(
    notification: RunningNotification, mail_catcher: Any
) -> None:
    envelope = await notification.publish(RESET_DONE, {"to": "ann@example.com", "username": "ann"})
    await mail_catcher.wait_for_messages(1, timeout=15)
    for _ in range(3):
        await notification.republish(envelope)
    # Also concurrently: several copies in flight at once must not race past the ledger.
    await asyncio.gather(*(notification.republish(envelope) for _ in range(3)))

    await notification.wait_for_outcome("duplicate", 6)
    messages = mail_catcher.messages()
    assert len(messages) == 1
    assert messages[0]["message-id"] == f"<{envelope.id}@{MAIL_DOMAIN}>"


async def test_malformed_and_undeliverable_messages_are_dead_lettered_and_the_queue_keeps_flowing(
    notification: RunningNotification, mail_catcher: Any
) -> None:
    await notification.publish_raw(b"{not json", routing_key="auth.email.verification_requested.v1")
    no_recipient = await notification.publish(RESET_DONE, {"username": "nobody"})
    no_template = await notification.publish("auth.email.something_new.v1", {"to": "ann@example.com"})
    good = await notification.publish(RESET_DONE, {"to": "ann@example.com", "username": "ann"})

    messages = await mail_catcher.wait_for_messages(1, timeout=15)
    assert messages[0]["message-id"] == f"<{good.id}@{MAIL_DOMAIN}>"

    dead = await notification.dead_letters(3)
    reasons = {m.message_id: str((m.headers or {}).get("x-dead-letter-reason")) for m in dead}
    assert set(reasons) == {"raw-test-message", str(no_recipient.id), str(no_template.id)}
    assert "missing recipient" in reasons[str(no_recipient.id)]
    assert "unknown template for event type 'auth.email.something_new.v1'" in reasons[str(no_template.id)]
    assert reasons["raw-test-message"] not in ("", "None")
    assert len(mail_catcher.messages()) == 1


async def test_smtp_down_for_ten_seconds_then_every_email_goes_out_once(
    notification: RunningNotification, mail_catcher: Any
) -> None:
    await notification.publish(RESET_DONE, {"to": "warmup@example.com", "username": "warm"})
    await mail_catcher.wait_for_messages(1, timeout=15)

    await asyncio.to_thread(mail_catcher.stop)
    recipients = [f"user{i}@example.com" for i in range(30)]
    for address in recipients:
        await notification.publish(RESET_DONE, {"to": address, "username": address.split("@")[0]})
    await asyncio.sleep(10)
    assert notification.consumed("dead_lettered") == 0
    await asyncio.to_thread(mail_catcher.start)

    messages = await mail_catcher.wait_for_messages(31, timeout=60)
    await asyncio.sleep(2)  # anything that would be sent twice has had time to arrive
    counts = Counter(m["to"][0] for m in mail_catcher.messages())
    assert {address: counts[address] for address in recipients} == dict.fromkeys(recipients, 1)
    assert len(messages) >= 31
    assert len(mail_catcher.messages()) == 31
    assert notification.consumed("dead_lettered") == 0
