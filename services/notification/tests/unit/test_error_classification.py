"""SMTP failures sort into permanent (dead-letter), per-message transient and whole-server transient."""

from __future__ import annotations

from uuid import uuid4

import aiosmtplib
import pytest
from notification_service.adapters.smtp import classify_smtp_error, mime_message
from notification_service.domain.errors import (
    DeliveryDeferredError,
    SmtpConfigurationError,
    SmtpUnavailableError,
    UndeliverableEmailError,
)
from notification_service.domain.model import OutgoingEmail


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        aiosmtplib.SMTPConnectError("cannot connect"),
        aiosmtplib.SMTPConnectTimeoutError("connect timeout"),
        aiosmtplib.SMTPReadTimeoutError("read timeout"),
        aiosmtplib.SMTPServerDisconnected("gone"),
        aiosmtplib.SMTPResponseException(421, "service not available"),
        aiosmtplib.SMTPConnectResponseError(554, "no SMTP service here"),
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(421, "closing", "a@b.c")]),
        aiosmtplib.SMTPSenderRefused(452, "insufficient storage", "no-reply@gigstack.local"),
    ],
    ids=["refused", "timeout", "connect", "connect-timeout", "read-timeout", "disconnected", "421",
         "greeting-554", "rcpt-421", "mail-452"],
)  # fmt: skip
def test_connection_problems_pause_every_delivery(error: Exception) -> None:
    assert type(classify_smtp_error(error)) is SmtpUnavailableError


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPSenderRefused(554, "5.7.1 sender address not verified", "no-reply@gigstack.local"),
        aiosmtplib.SMTPSenderRefused(553, "sender not allowed", "no-reply@gigstack.local"),
        aiosmtplib.SMTPAuthenticationError(535, "bad credentials"),
        aiosmtplib.SMTPResponseException(530, "authentication required"),
        aiosmtplib.SMTPNotSupported("STARTTLS not supported"),
    ],
    ids=["mail-554", "mail-553", "auth-535", "auth-530", "no-starttls"],
)
def test_our_own_configuration_errors_pause_every_delivery_as_ours(error: Exception) -> None:
    # A 5xx to MAIL FROM refuses every email alike: dead-lettering would silently drop all mail.
    classified = classify_smtp_error(error)
    assert type(classified) is SmtpConfigurationError
    assert isinstance(classified, SmtpUnavailableError)


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", "a@b.c")]),
        aiosmtplib.SMTPDataError(451, "local error in processing"),
    ],
    ids=["rcpt-450", "data-451"],
)
def test_4xx_answers_defer_only_this_message(error: Exception) -> None:
    assert type(classify_smtp_error(error)) is DeliveryDeferredError


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b.c")]),
        aiosmtplib.SMTPDataError(554, "message rejected"),
        aiosmtplib.SMTPDataError(552, "message too large"),
    ],
    ids=["rcpt-550", "data-554", "data-552"],
)
def test_5xx_rejections_are_permanent(error: Exception) -> None:
    classified = classify_smtp_error(error)
    assert type(classified) is UndeliverableEmailError
    assert "(55" in classified.reason


def test_mixed_recipient_answers_are_retried() -> None:
    error = aiosmtplib.SMTPRecipientsRefused(
        [
            aiosmtplib.SMTPRecipientRefused(550, "x", "a@b.c"),
            aiosmtplib.SMTPRecipientRefused(451, "y", "d@e.f"),
        ]
    )
    assert type(classify_smtp_error(error)) is DeliveryDeferredError


def test_mime_message_has_both_parts_and_the_deterministic_message_id() -> None:
    event_id = uuid4()
    email = OutgoingEmail(
        event_id=event_id,
        message_id=f"<{event_id}@gigstack.local>",
        to="ann@example.com",
        subject="Hello",
        text="plain body",
        html="<p>html body</p>",
    )
    message = mime_message(email, "Gigstack <no-reply@gigstack.local>")
    assert message["Message-ID"] == f"<{event_id}@gigstack.local>"
    assert message["To"] == "ann@example.com"
    assert message["X-Gigstack-Event-Id"] == str(event_id)
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert parts["text/plain"].strip() == "plain body"
    assert parts["text/html"].strip() == "<p>html body</p>"
