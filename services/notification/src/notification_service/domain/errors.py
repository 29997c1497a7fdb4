"""Failure taxonomy of one delivery attempt.

The split decides what happens to the event: permanent failures are dead-lettered with their reason (retrying
cannot help), deferred ones are retried later (the same email may well go through once the cause is gone).
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Base of every delivery failure; ``reason`` is short, safe to log and to put in a DLQ header."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndeliverableEmailError(DeliveryError):
    """Permanent: unknown template, missing or invalid recipient, missing template fields, 5xx rejection."""


class DeliveryDeferredError(DeliveryError):
    """Transient for this message only (4xx on RCPT/DATA, e.g. a full mailbox): retry this email later."""


class SmtpUnavailableError(DeliveryDeferredError):
    """Transient for every message: the SMTP server cannot be reached or refuses service (421, timeouts).

    Retrying other messages would fail the same way, so delivery pauses until the server answers again.
    """


class SmtpConfigurationError(SmtpUnavailableError):
    """Transient for every message and our own fault: the server refuses our sender (554 "sender not
    verified" on MAIL FROM), our credentials (530/535) or a required extension is missing.

    Dead-lettering would silently drop every email until someone looks; instead delivery pauses (like an
    outage), the problem is logged as an error and exposed as a metric to alert on, and the availability
    probe (which sends MAIL FROM with our sender) reopens delivery once the configuration is fixed.
    """
