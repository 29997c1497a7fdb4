"""Staging alone: client CPU and wall time per unit of work for the ways an event can enter the outbox.

No broker, no relay: `writers` concurrent units of work against one PostgreSQL database, each variant in
turn and the whole sequence `--rounds` times, so drift on a shared machine hits every variant alike. Each
unit of work is one transaction; the variants:

* own: the outbox row alone (the benchmark's `staged` path);
* business: the business row alone (what a service pays anyway);
* joined / joined-sqlalchemy: business row + outbox row, through asyncpg inside the begun transaction
  (ADR 0024) or forced through SQLAlchemy (before);
* three-loop / three-loop-sqlalchemy: business row + three events, `stage_event` three times;
* three-batch: business row + three events in one `stage_events` (one INSERT).

A tool for before/after comparisons (docs/benchmarks.md), with no target of its own.
Usage: `uv run python -m bench.event_bus.staging --units 2000 --rounds 2`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend
from servicekit.events import EventEnvelope
from servicekit.events import sql as outbox_sql
from servicekit.events.sql import outbox_table, stage_event, stage_events
from servicekit.events.sql_asyncpg import driver_in_transaction
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bench.event_bus.worker_process import business_table

VARIANTS = (
    "own",
    "business",
    "joined-sqlalchemy",
    "joined",
    "three-loop-sqlalchemy",
    "three-loop",
    "three-batch",
)
Unit = Callable[[AsyncConnection, int], Awaitable[None]]


def _envelope(n: int) -> EventEnvelope:
    return EventEnvelope.new(type="bench.order.placed.v1", producer="bench", payload={"n": n})


def _units(orders: sa.Table) -> dict[str, Unit]:
    async def own(connection: AsyncConnection, n: int) -> None:
        await stage_event(connection, _envelope(n))

    async def business(connection: AsyncConnection, n: int) -> None:
        await connection.execute(orders.insert(), {"n": n})

    async def joined(connection: AsyncConnection, n: int) -> None:
        await connection.execute(orders.insert(), {"n": n})
        await stage_event(connection, _envelope(n))

    async def three_loop(connection: AsyncConnection, n: int) -> None:
        await connection.execute(orders.insert(), {"n": n})
        for _ in range(3):
            await stage_event(connection, _envelope(n))

    async def three_batch(connection: AsyncConnection, n: int) -> None:
        await connection.execute(orders.insert(), {"n": n})
        await stage_events(connection, [_envelope(n) for _ in range(3)])

    return {
        "own": own,
        "business": business,
        "joined-sqlalchemy": joined,
        "joined": joined,
        "three-loop-sqlalchemy": three_loop,
        "three-loop": three_loop,
        "three-batch": three_batch,
    }


async def _no_driver(session: object) -> None:
    return None


async def _run(
    engine: AsyncEngine, unit: Unit, *, units: int, writers: int, sqlalchemy_only: bool
) -> tuple[float, float]:
    vars(outbox_sql)["driver_in_transaction"] = _no_driver if sqlalchemy_only else driver_in_transaction
    pending = iter(range(units))

    async def writer() -> None:
        for n in pending:
            async with engine.begin() as connection:
                await unit(connection, n)

    cpu, started = time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(writer() for _ in range(writers)))
    finally:
        vars(outbox_sql)["driver_in_transaction"] = driver_in_transaction
    return time.perf_counter() - started, time.process_time() - cpu


async def _measure(args: argparse.Namespace) -> None:
    backend = choose_backend()
    postgres = backend.postgres()
    database = isolation.unique_name("bench")
    isolation.create_postgres_database(postgres, database)
    try:
        engine = create_async_engine(postgres.url(database), pool_size=args.writers + 4)
        metadata = sa.MetaData()
        outbox_table(metadata)
        units = _units(business_table(metadata))
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        wall: dict[str, float] = defaultdict(float)
        cpu: dict[str, float] = defaultdict(float)
        for _ in range(args.rounds):
            for name in VARIANTS:
                seconds, cpu_seconds = await _run(
                    engine,
                    units[name],
                    units=args.units,
                    writers=args.writers,
                    sqlalchemy_only=name.endswith("-sqlalchemy"),
                )
                wall[name] += seconds
                cpu[name] += cpu_seconds
        await engine.dispose()
    finally:
        isolation.drop_postgres_database(postgres, database)
        backend.close()
    total = args.units * args.rounds
    print("| variant | wall ms/unit | client CPU ms/unit |")
    print("|---|---|---|")
    for name in VARIANTS:
        print(f"| {name} | {wall[name] * 1000 / total:.3f} | {cpu[name] * 1000 / total:.3f} |")
    print(f"\nload average {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.event_bus.staging", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--units", type=int, default=2000, help="units of work per variant per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--writers", type=int, default=16, help="concurrent units of work")
    asyncio.run(_measure(parser.parse_args()))


if __name__ == "__main__":
    main()
