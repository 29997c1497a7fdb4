"""What the Mongo outbox relay's full scan costs per pass, on the FerretDB the test fixtures start.

`MongoOutboxRelay` polls an indexed flag (`_outbox_pending`) every 0.2 s and, every
`full_scan_interval_seconds` (the services' `OUTBOX_FULL_SCAN_INTERVAL_SECONDS`), also scans for any
non-empty outbox (`_outbox.0 $exists`, unindexable). This loads one collection with 10,000 ~500-byte aggregate
documents whose outboxes were relayed (empty, no flag: the steady state) and times, alternating so machine
noise hits both alike, the relay's own `relay_batch()` on two relays of the same collection: one that scans
on every pass and one whose interval is an hour (the eks setting: after its first pass it polls the flag).

Reported: mean milliseconds per pass of each and their ratio, with the load average; the cost of the scan
per replica and hour at the default 30 s interval follows. Results: bench/results/outbox_full_scan.json.

    nice uv run --frozen python bench/outbox_full_scan/run.py              # 10,000 documents, 15 passes each
    nice uv run --frozen python bench/outbox_full_scan/run.py --documents 1000 --passes 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from servicekit.events import EventBus
from servicekit.events.mongo import MongoOutboxRelay
from servicekit.metrics import OutboxMetrics

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: bench is importable

from bench.run_report import write_report

RESULTS = Path(__file__).resolve().parents[1] / "results" / "outbox_full_scan.json"
BODY = "x" * 400  # with the other fields, ~500 bytes of BSON per document
DEFAULT_INTERVAL_SECONDS = 30.0


def relay(collection: Any, bus: EventBus, *, interval: float) -> MongoOutboxRelay:
    metrics = OutboxMetrics(CollectorRegistry(), service="bench")
    return MongoOutboxRelay(
        [collection], bus, service_name="bench", metrics=metrics, full_scan_interval_seconds=interval
    )


async def timed_pass(outbox_relay: MongoOutboxRelay) -> float:
    started = time.perf_counter()
    await outbox_relay.relay_batch()
    return (time.perf_counter() - started) * 1000


async def measure(documents: int, passes: int) -> dict[str, Any]:
    backend = choose_backend()
    endpoint = backend.mongodb()
    database_name = isolation.unique_name("bench")
    client: AsyncMongoClient[Any] = AsyncMongoClient(endpoint.url(database_name), timeoutMS=60_000)
    # Never connected: a pass with nothing pending publishes nothing.
    bus = EventBus("amqp://guest:guest@127.0.0.1:1/", service_name="bench")
    try:
        collection = client.get_default_database()["aggregates"]
        for first in range(0, documents, 1000):
            await collection.insert_many(
                [
                    {"_id": f"a-{n}", "version": 1, "body": BODY, "_outbox": []}
                    for n in range(first, min(first + 1000, documents))
                ]
            )
        scanning = relay(collection, bus, interval=1e-9)  # every pass scans
        polling = relay(collection, bus, interval=3600.0)  # the eks setting
        await scanning.relay_batch()  # both create their indexes and make their first (scanning) pass
        first_pass = await timed_pass(polling)
        with_scan: list[float] = []
        flag_only: list[float] = []
        for _ in range(passes):
            with_scan.append(await timed_pass(scanning))
            flag_only.append(await timed_pass(polling))
    finally:
        await client.drop_database(database_name)
        await client.close()
        backend.close()
    scan_ms, poll_ms = statistics.mean(with_scan), statistics.mean(flag_only)
    return {
        "documents": documents,
        "passes": passes,
        "pass_with_full_scan_ms": round(scan_ms, 1),
        "pass_flag_poll_only_ms": round(poll_ms, 1),
        "ratio": round(scan_ms / poll_ms, 1),
        "first_pass_of_the_hourly_relay_ms": round(first_pass, 1),
        "full_scan_seconds_per_replica_hour_at_30s": round(
            (scan_ms - poll_ms) / 1000 * 3600 / DEFAULT_INTERVAL_SECONDS, 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=15)
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = asyncio.run(measure(args.documents, args.passes))
    command = f"bench/outbox_full_scan/run.py --documents {args.documents} --passes {args.passes}"
    write_report(result, command=command, load_before=load_before, path=RESULTS)


if __name__ == "__main__":
    main()
