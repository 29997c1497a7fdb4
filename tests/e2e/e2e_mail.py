"""Reading what the notification service sent: wait for a message to an address and pull out its secret."""

from __future__ import annotations

import re
from typing import Any

from gigstack_testinfra.mail import MailCatcher

VERIFY_TOKEN = re.compile(r"confirm_email\?v_token=([A-Za-z0-9_\-.~%]+)")
RESET_TOKEN = re.compile(r"reset_password\?token=([A-Za-z0-9_\-.~%]+)")
# Anchored on the OTP email's wording: a bare six-digit pattern also matches a run of six digits inside a
# verification token sent to the same address earlier (random urlsafe text), which made the OTP test flaky.
OTP = re.compile(r"one-time code is:\s+(\d{6})(?!\d)")


def _body(message: dict[str, Any]) -> str:
    return f"{message.get('text', '')}\n{message.get('html', '')}"


async def wait_for_mail(
    mail: MailCatcher, to: str, pattern: re.Pattern[str], *, skip: int = 0, wait_seconds: float = 30.0
) -> str:
    """The first capture of ``pattern`` in the (skip+1)-th message to ``to`` that contains it."""

    def matches(message: dict[str, Any]) -> bool:
        return to in message.get("to", []) and pattern.search(_body(message)) is not None

    found = await mail.wait_for_messages(skip + 1, timeout=wait_seconds, where=matches)
    match = pattern.search(_body(found[skip]))
    assert match is not None
    return match.group(1)


def mail_count(mail: MailCatcher, to: str, pattern: re.Pattern[str]) -> int:
    """How many messages to ``to`` contain ``pattern`` right now."""
    return sum(
        1 for message in mail.messages() if to in message.get("to", []) and pattern.search(_body(message))
    )
