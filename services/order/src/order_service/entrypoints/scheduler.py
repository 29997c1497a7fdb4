"""The durable timer and the payment housekeeping, run in every replica (docs/adr/0020).

Each tick: expire unpaid orders past their deadline, send pending refunds, reconcile unsettled payments.
All state lives in PostgreSQL (`orders.expires_at`, `refund_jobs`, `payments`); the rows are claimed with
`FOR UPDATE SKIP LOCKED`, so replicas share the work and nothing is lost when a process dies: the next
tick of any replica, after any restart, finds the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from order_service.service_layer import payments
from order_service.service_layer.dependencies import HandlerDependencies

logger = logging.getLogger(__name__)


async def tick(deps: HandlerDependencies) -> dict[str, int]:
    """One round of each job; a failing job (store or provider away) does not keep the others from running."""
    done: dict[str, int] = {}
    for name, job in (
        ("expired", payments.expire_due),
        ("reconciled", payments.reconcile),
        ("refunded", payments.run_refund_jobs),
    ):
        try:
            done[name] = await job(deps)
        except Exception:
            logger.warning("scheduler job %s failed", name, exc_info=True)
            done[name] = 0
    return done


class Scheduler:
    def __init__(self, deps: HandlerDependencies, interval_seconds: float) -> None:
        self._deps = deps
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                done = await tick(self._deps)
                if any(done.values()):
                    logger.info("scheduler tick", extra=done)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("scheduler tick failed", exc_info=True)
            await asyncio.sleep(self._interval)

    @contextlib.asynccontextmanager
    async def lifespan_hook(self, app: FastAPI) -> AsyncIterator[None]:
        self._task = asyncio.create_task(self._run(), name="order-scheduler")
        try:
            yield
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
