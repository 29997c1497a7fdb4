"""SMTP delivery with aiosmtplib, and the mapping of SMTP failures onto the delivery-error taxonomy.

One connection per message: simple, no stale pooled sessions after an outage, and cheap at our volumes
(concurrency is capped by the caller). Every network step has a timeout; the whole send has an overall cap.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib
from opentelemetry import trace

from notification_service.domain.errors import (
    DeliveryDeferredError,
    DeliveryError,
    SmtpConfigurationError,
    SmtpUnavailableError,
    UndeliverableEmailError,
)
from notification_service.domain.model import OutgoingEmail

# The server closes the session for everyone ("service not available"), whatever step it answers.
_SERVICE_NOT_AVAILABLE = 421
# Authentication and TLS requirements: our configuration, failing every message the same way.
_CONFIGURATION_CODES = {530, 534, 535, 538}
# One CLIENT span per delivery, child of the consumer's span: a trace then ends at the mail server, and a
# refused or timed-out delivery shows as an error span (start_as_current_span records the exception).
_tracer = trace.get_tracer("notification_service.smtp")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    mail_from: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0


def classify_smtp_error(exc: BaseException) -> DeliveryError:
    """Map an SMTP failure to what it says about the message, the connection or our configuration.

    - 5xx to RCPT or DATA (550 no such user, 554 content refused): `UndeliverableEmailError`, this message
      is dead-lettered and nothing else changes;
    - 4xx to RCPT or DATA (450 mailbox busy): `DeliveryDeferredError`, this message is retried;
    - 421 at any step, a refused greeting, connection refused or timed out: `SmtpUnavailableError`, every
      message waits on the availability gate (probed with backoff), none is retried on its own;
    - 5xx to MAIL FROM (554 sender not verified), 530/535 authentication, missing STARTTLS/AUTH:
      `SmtpConfigurationError`, every message waits and the pause is reported as ours (alert).

    The stage matters: a 554 to RCPT is about that recipient, a 554 to MAIL FROM is about our sender and
    would refuse every email the same way.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        listed = ", ".join(map(str, codes))
        if _SERVICE_NOT_AVAILABLE in codes:
            return SmtpUnavailableError(f"SMTP server closed the session ({listed})")
        if codes and all(500 <= code < 600 for code in codes):
            return UndeliverableEmailError(f"recipient rejected by SMTP server ({listed})")
        return DeliveryDeferredError(f"recipient temporarily refused ({listed})")
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return SmtpUnavailableError(f"SMTP server refused the connection ({exc.code})")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _classify_reply(exc)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return SmtpConfigurationError("SMTP server lacks a required extension (STARTTLS/AUTH)")
    if isinstance(exc, TimeoutError | aiosmtplib.SMTPTimeoutError):
        return SmtpUnavailableError("SMTP timeout")
    if isinstance(exc, OSError | aiosmtplib.SMTPException | ssl.SSLError):
        return SmtpUnavailableError(f"SMTP connection failed ({type(exc).__name__})")
    return SmtpUnavailableError(f"unexpected SMTP failure ({type(exc).__name__})")


def _classify_reply(exc: aiosmtplib.SMTPResponseException) -> DeliveryError:
    code = exc.code
    if code == _SERVICE_NOT_AVAILABLE:
        return SmtpUnavailableError(f"SMTP server refused service ({code})")
    if code in _CONFIGURATION_CODES or isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SmtpConfigurationError(f"SMTP server refused our credentials ({code})")
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        if 500 <= code < 600:
            return SmtpConfigurationError(f"SMTP server refused our sender address ({code})")
        # 451 and friends to MAIL FROM: the server's trouble, not this message's.
        return SmtpUnavailableError(f"SMTP server could not take mail now ({code})")
    if 400 <= code < 500:
        return DeliveryDeferredError(f"SMTP server deferred the message ({code})")
    if 500 <= code < 600:
        return UndeliverableEmailError(f"SMTP server rejected the message ({code})")
    return SmtpUnavailableError(f"unexpected SMTP reply ({code})")


def mime_message(email: OutgoingEmail, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["X-Gigstack-Event-Id"] = str(email.event_id)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class SmtpEmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, email: OutgoingEmail, *, on_accepted: Callable[[], Awaitable[None]]) -> None:
        message = mime_message(email, self._config.mail_from)
        client = self._client()
        accepted = False
        attrs: dict[str, str | int] = {"server.address": self._config.host, "server.port": self._config.port}
        try:
            with _tracer.start_as_current_span("smtp send", kind=trace.SpanKind.CLIENT, attributes=attrs):
                async with asyncio.timeout(self._overall_timeout()):
                    await client.connect()
                    await client.send_message(message, sender=self._config.mail_from, recipients=[email.to])
                    accepted = True
                    await on_accepted()
                    await _quit_quietly(client)
        except Exception as exc:
            if accepted:
                # The server said 250 to DATA: the email is out. A failure after that (QUIT, the overall
                # timeout) must not make the caller retry and send it twice.
                return
            raise classify_smtp_error(exc) from exc
        finally:
            # Also on cancellation (shutdown, readiness timeout): never leave the socket to the GC.
            client.close()

    async def probe(self) -> None:
        """Connect, log in and offer our sender (MAIL FROM, then RSET): a configuration the server refuses
        keeps failing here, so delivery stays paused until it is fixed instead of reopening for nothing."""
        client = self._client()
        try:
            async with asyncio.timeout(self._overall_timeout()):
                await client.connect()
                await client.mail(self._sender_address())
                await client.rset()
                await _quit_quietly(client)
        except Exception as exc:
            raise classify_smtp_error(exc) from exc
        finally:
            client.close()

    def _sender_address(self) -> str:
        return parseaddr(self._config.mail_from)[1] or self._config.mail_from

    def _client(self) -> aiosmtplib.SMTP:
        # AUTH only with both halves: a username alone would make every session fail at login.
        authenticate = bool(self._config.username and self._config.password)
        return aiosmtplib.SMTP(
            hostname=self._config.host,
            port=self._config.port,
            username=self._config.username if authenticate else None,
            password=self._config.password if authenticate else None,
            start_tls=self._config.starttls,
            timeout=self._config.timeout_seconds,
        )

    def _overall_timeout(self) -> float:
        # connect + EHLO + (STARTTLS + AUTH) + MAIL + RCPT + DATA each have their own timeout; cap the sum.
        return self._config.timeout_seconds * 4


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    # The message is already accepted (or already failed) when we say QUIT; a failing QUIT changes nothing.
    if client.is_connected:
        try:
            await client.quit()
        except Exception:
            client.close()
