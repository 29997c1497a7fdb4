"""Emails opened from the mail catcher, for the browser: the link a message carries (to follow it in a tab) or
its one-time code. The waiting and matching are tests/e2e's (``e2e_mail``)."""

from __future__ import annotations

import html
import re
from typing import Any

from e2e_mail import OTP, wait_for_mail
from gigstack_testinfra.mail import MailCatcher

_URL_CHARS = r"[^\s\"'<>]"


def link_pattern(origin: str, path: str) -> re.Pattern[str]:
    """A link to ``origin`` + ``path`` with its query (the notification service's link shape)."""
    return re.compile(rf"({re.escape(origin.rstrip('/'))}{re.escape(path)}\?{_URL_CHARS}+)")


async def email_link(
    mail: MailCatcher, to: str, origin: str, path: str, *, skip: int = 0, wait_seconds: float = 30.0
) -> str:
    """The link to ``origin + path`` in the (skip+1)-th email to ``to`` that has one (HTML-unescaped)."""
    found: str = await wait_for_mail(
        mail, to, link_pattern(origin, path), skip=skip, wait_seconds=wait_seconds
    )
    return html.unescape(found)


async def email_otp(mail: MailCatcher, to: str, *, skip: int = 0) -> str:
    code: str = await wait_for_mail(mail, to, OTP, skip=skip)
    return code


async def email_with_subject(mail: MailCatcher, to: str, subject: re.Pattern[str]) -> dict[str, Any]:
    """The first email to ``to`` whose subject matches (emails without a link: the order service's)."""

    def matches(message: dict[str, Any]) -> bool:
        return to in message.get("to", []) and subject.search(str(message.get("subject", ""))) is not None

    found: list[dict[str, Any]] = await mail.wait_for_messages(1, timeout=30.0, where=matches)
    return found[0]
