"""What the Mongo outbox relay's write claims cost, on the FerretDB and RabbitMQ the test fixtures start.

With write claims on (FerretDB) `MongoOutboxRelay` updates each versioned document it relays inside the claim
a writer of the document's next version would take (servicekit.write_claims): a claim insert and a claim
delete around its one update. Without them (MongoDB, DocumentDB) it sends the one update alone, as it did
before claims existed, so "off" is also the relay as it was. This stages one event in each of `--documents`
versioned aggregate documents (the flag set, as `VersionedRepository` writes them) and times how long
one relay takes to publish (publisher confirms, a bound queue) and remove them all, claims on and off,
alternating the order round by round so machine noise hits both alike.

Reported: documents relayed per second of each and the ratio off / on, with the load average.
Results: bench/results/outbox_relay_claims.json.

    nice uv run --frozen python bench/outbox_relay_claims/run.py                    # 300 documents, 6 rounds
    nice uv run --frozen python bench/outbox_relay_claims/run.py --documents 100 --rounds 2
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

import aio_pika
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.bus import declare_exchanges
from servicekit.events.mongo import MongoOutboxRelay, with_staged_events
from servicekit.metrics import OutboxMetrics

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: bench is importable

from bench.run_report import write_report

RESULTS = Path(__file__).resolve().parents[1] / "results" / "outbox_relay_claims.json"
EVENT_TYPE = "bench.relayclaims.staged.v1"
QUEUE = "bench.relayclaims"
BODY = "x" * 400  # with the other fields, ~500 bytes of BSON per aggregate
AMQP_TIMEOUT = 10.0


async def stage(database: AsyncDatabase[Any], name: str, documents: int) -> Any:
    collection = database[name]
    await collection.insert_many(
        [
            with_staged_events(
                {"_id": f"a-{n}", "version": 3, "body": BODY},
                EventEnvelope.new(type=EVENT_TYPE, producer="bench", payload={"n": n}),
            )
            for n in range(documents)
        ]
    )
    return collection


async def timed_drain(
    database: AsyncDatabase[Any], bus: EventBus, name: str, *, claims: bool, documents: int
) -> float:
    """Seconds one relay takes to publish and remove every staged entry of a fresh collection.

    Its first pass also runs the full scan (every relay's first pass does); it finds nothing left by then,
    in either mode.
    """
    collection = await stage(database, name, documents)
    relay = MongoOutboxRelay(
        [collection],
        bus,
        service_name="bench",
        metrics=OutboxMetrics(CollectorRegistry(), service="bench"),
        write_claims=claims,
        full_scan_interval_seconds=3600,
    )
    await relay.ensure_indexes()
    started = time.perf_counter()
    relayed = 0
    while relayed < documents:
        published = await relay.relay_batch()
        if not published:
            raise RuntimeError(f"the relay stopped at {relayed} of {documents}")
        relayed += published
    elapsed = time.perf_counter() - started
    if await collection.count_documents({"_outbox.0": {"$exists": True}}):
        raise RuntimeError("entries left behind")
    await collection.drop()
    return elapsed


async def measure(documents: int, rounds: int) -> dict[str, Any]:
    backend = choose_backend()
    endpoint = backend.mongodb()
    amqp_url = backend.rabbitmq().endpoint.url()
    database_name = isolation.unique_name("bench")
    client: AsyncMongoClient[Any] = AsyncMongoClient(endpoint.url(database_name), timeoutMS=60_000)
    probe = await aio_pika.connect_robust(amqp_url, timeout=AMQP_TIMEOUT)
    bus = EventBus(amqp_url, service_name="bench", connect_timeout=AMQP_TIMEOUT)
    seconds: dict[bool, list[float]] = {True: [], False: []}
    try:
        async with probe.channel() as channel:
            events = await declare_exchanges(channel, timeout=AMQP_TIMEOUT)
            queue = await channel.declare_queue(QUEUE, auto_delete=False, timeout=AMQP_TIMEOUT)
            await queue.bind(events, routing_key=EVENT_TYPE, timeout=AMQP_TIMEOUT)
        await bus.connect()
        database = client.get_default_database()
        for round_ in range(rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for claims in order:
                name = f"aggregates_{'on' if claims else 'off'}_{round_}"
                seconds[claims].append(
                    await timed_drain(database, bus, name, claims=claims, documents=documents)
                )
    finally:
        await bus.close()
        async with probe.channel() as channel:
            await channel.queue_delete(QUEUE)
        await probe.close()
        await client.drop_database(database_name)
        await client.close()
        backend.close()
    off, on = statistics.mean(seconds[False]), statistics.mean(seconds[True])
    return {
        "documents": documents,
        "rounds": rounds,
        "claims_off_documents_per_second": round(documents / off, 1),
        "claims_on_documents_per_second": round(documents / on, 1),
        "ratio_off_over_on": round(on / off, 2),
        "per_round_seconds_off": [round(s, 2) for s in seconds[False]],
        "per_round_seconds_on": [round(s, 2) for s in seconds[True]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = asyncio.run(measure(args.documents, args.rounds))
    command = f"bench/outbox_relay_claims/run.py --documents {args.documents} --rounds {args.rounds}"
    write_report(result, command=command, load_before=load_before, path=RESULTS)


if __name__ == "__main__":
    main()
