"""Shared knowledge of whether the SMTP server can be used: an outage pauses delivery instead of failing it.

When one send finds the server unreachable, every handler waits on the same gate while a single probe loop
retries with capped exponential backoff; the first successful probe (or send) reopens the gate for all.
Messages stay unacknowledged meanwhile, and the consumer's prefetch bounds how many are held, so the
broker's delivery limit is not spent on an outage the messages are not responsible for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from notification_service.domain.errors import DeliveryError, SmtpConfigurationError

logger = logging.getLogger(__name__)


class SmtpAvailability:
    def __init__(
        self,
        probe: Callable[[], Awaitable[None]],
        *,
        first_backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._probe = probe
        self._first_backoff = first_backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._open = asyncio.Event()
        self._open.set()  # optimistic until a send says otherwise; the first send is the cheapest probe
        self._prober: asyncio.Task[None] | None = None
        self.ever_reached = False
        self.last_problem: str | None = None
        # True while the pause is our own configuration's fault (metric `notification_smtp_paused`).
        self.misconfigured = False

    @property
    def is_available(self) -> bool:
        return self._open.is_set()

    def report_available(self) -> None:
        if not self._open.is_set():
            logger.info("SMTP server reachable again; resuming deliveries")
        self.ever_reached = True
        self.last_problem = None
        self.misconfigured = False
        self._open.set()

    def report_unavailable(self, reason: str, *, misconfigured: bool = False) -> None:
        if misconfigured:
            # An operator must act (verify the sender, fix the credentials): an error every time, not once.
            logger.error("SMTP refuses our configuration, deliveries paused until fixed: %s", reason)
        elif self._open.is_set():
            logger.warning("SMTP server unavailable, pausing deliveries: %s", reason)
        self.last_problem = reason
        self.misconfigured = misconfigured
        self._open.clear()
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe_until_open(), name="smtp-availability-probe")

    async def wait_until_available(self, timeout: float) -> bool:  # noqa: ASYNC109 - caller's budget
        """Wait up to ``timeout`` seconds for the server to be usable; returns whether it is."""
        if not self._open.is_set() and timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._open.wait(), timeout=timeout)
        return self._open.is_set()

    async def check_now(self) -> None:
        """Probe once (readiness); raises ``DeliveryError`` when the server cannot be used."""
        await self._probe()
        self.report_available()

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
            self._prober = None

    async def _probe_until_open(self) -> None:
        backoff = self._first_backoff
        while not self._open.is_set():
            await asyncio.sleep(backoff)
            try:
                await self._probe()
            except Exception as exc:  # any probe failure keeps the gate closed; only success opens it
                self.last_problem = exc.reason if isinstance(exc, DeliveryError) else type(exc).__name__
                self.misconfigured = isinstance(exc, SmtpConfigurationError)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self.report_available()
