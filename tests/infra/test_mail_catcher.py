"""Mail catcher: a real SMTP round trip, the JSON API, and an outage (stop/start on the same port)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest
from gigstack_testinfra.mail import MailCatcher

pytestmark = pytest.mark.integration


def _email(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Gigstack <no-reply@gigstack.test>"
    message["To"] = "ada@example.test"
    message["Subject"] = subject
    message["Message-ID"] = "<msg-1@gigstack.test>"
    message.set_content("Your code is 123456")
    message.add_alternative("<p>Your code is <b>123456</b></p>", subtype="html")
    return message


async def test_smtp_round_trip(mail_catcher: MailCatcher) -> None:
    assert mail_catcher.messages() == []
    await aiosmtplib.send(
        _email("Verify your email"),
        hostname=mail_catcher.smtp_host,
        port=mail_catcher.smtp_port,
        username="notification",
        password="any-password-is-accepted",
        start_tls=False,
        timeout=10,
    )
    [message] = await mail_catcher.wait_for_messages(1, timeout=10)
    assert message["subject"] == "Verify your email"
    assert message["to"] == ["ada@example.test"]
    assert message["from"] == "Gigstack <no-reply@gigstack.test>"
    assert message["message-id"] == "<msg-1@gigstack.test>"
    assert "123456" in message["text"]
    assert "<b>123456</b>" in message["html"]

    async with httpx.AsyncClient(base_url=mail_catcher.api_url, timeout=5) as client:
        page = await client.get("/")
        assert "Verify your email" in page.text
        one = await client.get(f"/api/messages/{message['id']}")
        assert one.json()["subject"] == "Verify your email"

    mail_catcher.clear()
    assert mail_catcher.messages() == []


async def test_smtp_outage_and_recovery(mail_catcher: MailCatcher) -> None:
    mail_catcher.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await aiosmtplib.send(
            _email("lost?"), hostname=mail_catcher.smtp_host, port=mail_catcher.smtp_port, timeout=5
        )
    mail_catcher.start()
    await aiosmtplib.send(
        _email("after the outage"), hostname=mail_catcher.smtp_host, port=mail_catcher.smtp_port, timeout=10
    )
    messages = mail_catcher.messages()
    assert [m["subject"] for m in messages] == ["after the outage"]
