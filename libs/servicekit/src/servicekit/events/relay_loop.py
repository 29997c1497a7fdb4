"""The loop both outbox relays share: poll, publish a batch, back off while a dependency is down, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from servicekit.events.backoff import Backoff
from servicekit.metrics import OutboxMetrics

logger = logging.getLogger("servicekit.events.relay")


class PollingRelay(ABC):
    """Runs `relay_batch()` until stopped; subclasses say how to publish a batch and count what is pending.

    A failing batch is retried with jittered backoff whatever the error: an expected one (broker or store
    down, listed in `expected_errors`) is logged as a warning, anything else with its traceback, because a
    relay that died on a bug would silently stop all publishing.
    """

    expected_errors: tuple[type[BaseException], ...] = ()

    def __init__(
        self,
        *,
        service_name: str,
        metrics: OutboxMetrics,
        batch_size: int,
        poll_interval: float,
        pending_sample_interval_seconds: float,
        backoff: Backoff | None,
    ) -> None:
        self.service_name = service_name
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._pending_interval = pending_sample_interval_seconds
        self._backoff = backoff or Backoff(base_seconds=0.2, cap_seconds=10.0)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def relay_batch(self) -> int:
        """Publish one batch; returns how many events were confirmed and marked."""

    @abstractmethod
    async def pending_count(self) -> int:
        """How many staged events are not published yet (sampled into the pending gauge)."""

    async def parked_count(self) -> int:
        """How many staged events were set aside after repeated failures (sampled into the parked gauge)."""
        return 0

    async def maintain(self) -> None:  # noqa: B027 - an optional hook, not an abstract step
        """Periodic housekeeping between batches (pruning); nothing by default."""

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"{type(self).__name__}:{self.service_name}")

    async def stop(self, timeout_seconds: float = 10.0) -> None:
        """Finish the batch in progress (bounded) and stop; unpublished events stay for the next relay."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=timeout_seconds)
        except TimeoutError:
            # Cancelling abandons the batch before it is marked: it is published again later, never lost.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        next_sample = loop.time()
        while not self._stopping.is_set():
            try:
                published = await self.relay_batch()
                if loop.time() >= next_sample:
                    next_sample = loop.time() + self._pending_interval
                    self._metrics.set_pending(await self.pending_count())
                    self._metrics.set_parked(await self.parked_count())
                await self.maintain()
            except Exception as exc:
                failures += 1
                delay = self._backoff.delay(failures)
                expected = isinstance(exc, self.expected_errors)
                logger.log(
                    logging.WARNING if expected else logging.ERROR,
                    "%s of %s failed (%r); retrying in %.2fs",
                    type(self).__name__,
                    self.service_name,
                    exc,
                    delay,
                    exc_info=not expected,
                )
                await self._sleep(delay)
                continue
            failures = 0
            if published < self._batch_size:
                await self._sleep(self._poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
