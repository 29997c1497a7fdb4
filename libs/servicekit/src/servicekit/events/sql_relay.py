"""The relay that moves staged SQL outbox rows to the broker: lock a batch, publish with confirms, mark it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from servicekit.events.backoff import Backoff
from servicekit.events.bus import EventBus, SerializedEvent
from servicekit.events.errors import PublishFailed, PublishNacked, UnroutableEvent
from servicekit.events.outbox_secrets import published_headers, redacted_body, secret_fields_of
from servicekit.events.relay_loop import PollingRelay
from servicekit.events.sql_schema import OUTBOX
from servicekit.metrics import OutboxMetrics

logger = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 500


class SqlOutboxRelay(PollingRelay):
    """Publishes outbox rows in `seq` order, at least once, and never deletes an unpublished row.

    Each batch runs in one transaction at READ COMMITTED: `SELECT ... FOR UPDATE SKIP LOCKED` (so several
    replicas share the work without publishing the same row concurrently), publish the rows in one write
    and await the broker's confirms (`EventBus.publish_serialized_many`), mark the confirmed rows published,
    commit. A crash between confirm and commit
    republishes those rows later, which consumers absorb with `claim_event`. READ COMMITTED matters on
    MariaDB: at its default REPEATABLE READ the locking scan also takes gap locks that would block producers
    inserting new outbox rows while a batch is being published.

    A row the broker keeps refusing while it is reachable (returned unroutable, nacked until the publish
    deadline, or failing while other rows of its batch are confirmed: the batch's failures are republished
    one at a time, so a message that makes the broker close the channel fails alone) is parked after
    `park_after_attempts` such failures, one per batch and so spaced by the loop's backoff: `attempts`
    counts only those failures, the relay skips the row from then on, logs its event id, counts it in
    `outbox_parked_total` (the gauge `outbox_parked_events` holds how many wait), and the rows behind it
    flow. Failures of a whole batch (broker away) never count, so an outage parks nothing. A parked row
    stays unpublished and is never pruned; `UPDATE outbox_events SET attempts = 0 WHERE event_id = ...`
    hands it back to the relay (docs/runbooks/alerts.md#gigstackoutboxeventsparked).
    """

    expected_errors = (PublishFailed, OperationalError, DBAPIError, OSError)

    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        *,
        service_name: str,
        metrics: OutboxMetrics,
        batch_size: int = 100,
        poll_interval: float = 0.2,
        retain_published_hours: float = 24.0,
        prune_interval_seconds: float = 300.0,
        pending_sample_interval_seconds: float = 5.0,
        backoff: Backoff | None = None,
        scrub_secrets: bool = True,
        park_after_attempts: int = 10,
    ) -> None:
        super().__init__(
            service_name=service_name,
            metrics=metrics,
            batch_size=batch_size,
            poll_interval=poll_interval,
            pending_sample_interval_seconds=pending_sample_interval_seconds,
            backoff=backoff,
        )
        self._engine = engine
        self._bus = bus
        # Blank the secret payload fields of rows once confirmed (servicekit.events.outbox_secrets).
        self._scrub = scrub_secrets
        bus.add_unroutable_listener(metrics.record_unroutable)
        self._retention = timedelta(hours=retain_published_hours)
        self._prune_interval = prune_interval_seconds
        self._park_after = park_after_attempts
        self._next_prune: float | None = None

    async def maintain(self) -> None:
        """Prune published rows every `prune_interval_seconds` (the first time one interval after start)."""
        now = asyncio.get_running_loop().time()
        if self._next_prune is None:
            self._next_prune = now + self._prune_interval
        elif now >= self._next_prune:
            self._next_prune = now + self._prune_interval
            await self.prune()

    async def relay_batch(self) -> int:
        """Publish one batch of unpublished rows; returns how many were confirmed and marked published.

        Raises `PublishFailed` after committing the marks of the rows that did get confirmed, so the caller
        backs off while the broker is away.
        """
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="READ COMMITTED")
            async with connection.begin():
                rows = await self._lock_batch(connection)
                if not rows:
                    return 0
                results = await self._publish_rows(rows)
                confirmed = [row.seq for row, result in zip(rows, results, strict=True) if result is None]
                failed = [
                    (row.seq, result)
                    for row, result in zip(rows, results, strict=True)
                    if isinstance(result, BaseException)
                ]
                if confirmed:
                    await connection.execute(
                        sa.update(OUTBOX)
                        .where(OUTBOX.c.seq.in_(confirmed))
                        .values(published_at=datetime.now(UTC))
                    )
                    if self._scrub:
                        await self._scrub_secrets(connection, [row for row in rows if row.seq in confirmed])
                if failed:
                    await self._record_failures(connection, rows, failed, broker_reachable=bool(confirmed))
        if confirmed:
            self._metrics.record_published(len(confirmed))
        if failed:
            first_error = failed[0][1]
            if not isinstance(first_error, Exception):
                raise first_error
            raise PublishFailed(f"{len(failed)} of {len(rows)} outbox events not confirmed") from first_error
        return len(confirmed)

    async def _record_failures(
        self,
        connection: AsyncConnection,
        rows: Sequence[Any],
        failed: Sequence[tuple[int, BaseException]],
        *,
        broker_reachable: bool,
    ) -> None:
        """Keep each failure's reason; count it against the row (and park it) only if the row is at fault."""
        by_seq = {row.seq: row for row in rows}
        for seq, error in failed:
            reason = repr(error)[:_MAX_ERROR_CHARS]
            if not (broker_reachable or isinstance(error, UnroutableEvent | PublishNacked)):
                await connection.execute(
                    sa.update(OUTBOX).where(OUTBOX.c.seq == seq).values(last_error=reason)
                )
                continue
            await connection.execute(
                sa.update(OUTBOX)
                .where(OUTBOX.c.seq == seq)
                .values(attempts=OUTBOX.c.attempts + 1, last_error=reason)
            )
            row = by_seq[seq]
            if row.attempts + 1 >= self._park_after:
                self._metrics.record_parked(row.event_type)
                logger.error(
                    "outbox event %s (%s) of %s parked after %d failed publications: %s; the rows behind it "
                    "go on; replay with docs/runbooks/alerts.md#gigstackoutboxeventsparked",
                    row.event_id,
                    row.event_type,
                    self.service_name,
                    row.attempts + 1,
                    reason,
                )

    async def _lock_batch(self, connection: AsyncConnection) -> Sequence[Any]:
        statement = (
            sa.select(
                OUTBOX.c.seq,
                OUTBOX.c.event_id,
                OUTBOX.c.event_type,
                OUTBOX.c.producer,
                OUTBOX.c.correlation_id,
                OUTBOX.c.body,
                OUTBOX.c.headers,
                OUTBOX.c.occurred_at,
                OUTBOX.c.attempts,
            )
            .where(OUTBOX.c.published_at.is_(None), OUTBOX.c.attempts < self._park_after)
            .order_by(OUTBOX.c.seq)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        return (await connection.execute(statement)).all()

    @staticmethod
    async def _scrub_secrets(connection: AsyncConnection, rows: Sequence[Any]) -> None:
        """Blank the secret payload fields of confirmed rows (servicekit.events.outbox_secrets)."""
        for row in rows:
            fields = secret_fields_of(row.headers)
            if fields:
                await connection.execute(
                    sa.update(OUTBOX)
                    .where(OUTBOX.c.seq == row.seq)
                    .values(body=redacted_body(row.body, fields))
                )

    async def _publish_rows(self, rows: Sequence[Any]) -> list[BaseException | None]:
        """The batch in `seq` order, as one write with pipelined confirms (`publish_serialized_many`)."""
        return await self._bus.publish_serialized_many([serialized_row(row) for row in rows])

    async def pending_count(self) -> int:
        """Unpublished rows the relay still tries (parked ones: `parked_count`)."""
        async with self._engine.connect() as connection:
            statement = (
                sa.select(sa.func.count())
                .select_from(OUTBOX)
                .where(OUTBOX.c.published_at.is_(None), OUTBOX.c.attempts < self._park_after)
            )
            return int((await connection.execute(statement)).scalar_one())

    async def parked_count(self) -> int:
        """Unpublished rows set aside after `park_after_attempts` failures, until replayed."""
        async with self._engine.connect() as connection:
            statement = (
                sa.select(sa.func.count())
                .select_from(OUTBOX)
                .where(OUTBOX.c.published_at.is_(None), OUTBOX.c.attempts >= self._park_after)
            )
            return int((await connection.execute(statement)).scalar_one())

    async def prune(self) -> int:
        """Delete published rows older than the retention; unpublished rows are never touched."""
        cutoff = datetime.now(UTC) - self._retention
        async with self._engine.begin() as connection:
            result = await connection.execute(
                sa.delete(OUTBOX).where(OUTBOX.c.published_at.is_not(None), OUTBOX.c.published_at < cutoff)
            )
        return int(getattr(result, "rowcount", 0) or 0)


def serialized_row(row: Any) -> SerializedEvent:
    """What an outbox row publishes: its stored body, with the headers staging kept minus the secret marks."""
    return SerializedEvent(
        body=row.body.encode(),
        event_type=row.event_type,
        event_id=str(row.event_id),
        occurred_at=row.occurred_at,
        producer=row.producer,
        correlation_id=row.correlation_id,
        headers=published_headers(row.headers),
    )
