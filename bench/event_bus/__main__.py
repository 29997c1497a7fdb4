"""Event-bus benchmark: raw aio-pika throughput versus the full outbox path, measured in one run.

Starts RabbitMQ and PostgreSQL through `gigstack_testinfra` (local processes, or containers when Docker
answers), then alternates rounds of the two paths on fresh vhosts and databases so drift on a shared
machine hits both alike:

* raw: aio-pika publish with confirms (persistent, 100 in flight) + consume with ack (prefetch 32) on the
  same quorum work-queue topology;
* full: stage each event in its own PostgreSQL transaction (16 writers) → `SqlOutboxRelay` → broker →
  `EventConsumer` → handler commits a `claim_event` row.

In both paths the consumer runs in a separate process (`consumer_worker`), as the consuming service would.

Reports throughput of both, their ratio (target >= 0.25) and loss (distinct claimed ids must equal N).
Usage (from the repository root)::

    uv run python -m bench.event_bus --events 5000 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend

from bench.event_bus.full_path import run_full
from bench.event_bus.raw_path import run_raw

THROUGHPUT_RATIO_TARGET = 0.25
RESULTS_PATH = Path(__file__).resolve().parents[1] / "results" / "event_bus.json"


@dataclass(frozen=True)
class Round:
    round: int
    raw_seconds: float
    full_seconds: float
    full_staged_after_seconds: float
    full_published_after_seconds: float
    raw_client_cpu_ms_per_event: float
    full_client_cpu_ms_per_event: float
    raw_per_second: float
    full_per_second: float
    ratio: float
    handler_calls: int
    distinct_claimed: int
    outbox_unpublished: int


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.event_bus", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="events per path per round (default 5000)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating raw/full rounds (default 2)")
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--writers", type=int, default=16, help="concurrent staging transactions")
    parser.add_argument("--relay-batch", type=int, default=100)
    parser.add_argument(
        "--unit-of-work",
        choices=["connection", "session"],
        default="connection",
        help="transactions of the producer and the handler: Core connection or ORM AsyncSession",
    )
    parser.add_argument("--publish-window", type=int, default=100, help="raw path: confirms in flight")
    parser.add_argument("--json", type=Path, default=RESULTS_PATH, help="where to write the summary")
    return parser.parse_args()


async def _measure(args: argparse.Namespace) -> list[Round]:
    backend = choose_backend()
    try:
        broker = backend.rabbitmq()
        postgres = backend.postgres()
        rounds: list[Round] = []
        for index in range(1, args.rounds + 1):
            vhost = isolation.unique_name("bench")
            database = isolation.unique_name("bench")
            isolation.create_vhost(broker.endpoint, vhost)
            isolation.create_postgres_database(postgres, database)
            try:
                amqp_url = broker.endpoint.url(vhost)
                raw = await run_raw(
                    amqp_url,
                    events=args.events,
                    queue="bench.raw",
                    prefetch=args.prefetch,
                    publish_window=args.publish_window,
                )
                full = await run_full(
                    amqp_url,
                    postgres.url(database),
                    events=args.events,
                    queue="bench.full",
                    prefetch=args.prefetch,
                    writers=args.writers,
                    relay_batch=args.relay_batch,
                    unit_of_work=args.unit_of_work,
                )
            finally:
                isolation.delete_vhost(broker.endpoint, vhost)
                isolation.drop_postgres_database(postgres, database)
            raw_rate = args.events / raw.seconds
            full_rate = args.events / full.seconds
            rounds.append(
                Round(
                    round=index,
                    raw_seconds=round(raw.seconds, 3),
                    full_seconds=round(full.seconds, 3),
                    full_staged_after_seconds=round(full.staged_after, 3),
                    full_published_after_seconds=round(full.published_after, 3),
                    raw_client_cpu_ms_per_event=round(raw.client_cpu_seconds * 1000 / args.events, 3),
                    full_client_cpu_ms_per_event=round(full.client_cpu_seconds * 1000 / args.events, 3),
                    raw_per_second=round(raw_rate, 1),
                    full_per_second=round(full_rate, 1),
                    ratio=round(full_rate / raw_rate, 3),
                    handler_calls=full.handler_calls,
                    distinct_claimed=full.distinct_claimed,
                    outbox_unpublished=full.outbox_unpublished,
                )
            )
            print(f"round {index}: {asdict(rounds[-1])}", flush=True)
        return rounds
    finally:
        backend.close()


def _report(args: argparse.Namespace, rounds: list[Round]) -> bool:
    raw_total = sum(r.raw_seconds for r in rounds)
    full_total = sum(r.full_seconds for r in rounds)
    events_total = args.events * len(rounds)
    ratio = raw_total / full_total
    lossless = all(r.distinct_claimed == args.events and r.outbox_unpublished == 0 for r in rounds)
    passed = ratio >= THROUGHPUT_RATIO_TARGET and lossless
    print()
    print("| round | raw events/s | full events/s | ratio | handler calls | distinct claimed | unpublished |")
    print("|---|---|---|---|---|---|---|")
    for r in rounds:
        print(
            f"| {r.round} | {r.raw_per_second:.0f} | {r.full_per_second:.0f} | {r.ratio:.2f} | "
            f"{r.handler_calls} | {r.distinct_claimed} / {args.events} | {r.outbox_unpublished} |"
        )
    calls = sum(r.handler_calls for r in rounds)
    claimed = sum(r.distinct_claimed for r in rounds)
    unpublished = sum(r.outbox_unpublished for r in rounds)
    print(
        f"| all | {events_total / raw_total:.0f} | {events_total / full_total:.0f} | {ratio:.2f} | "
        f"{calls} | {claimed} / {events_total} | {unpublished} |"
    )
    print(f"\nthroughput ratio {ratio:.2f} (target >= {THROUGHPUT_RATIO_TARGET}); lossless: {lossless}")
    summary = {
        "benchmark": "event_bus",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "rounds": [asdict(r) for r in rounds],
        "throughput_ratio": round(ratio, 3),
        "throughput_ratio_target": THROUGHPUT_RATIO_TARGET,
        "lossless": lossless,
        "passed": passed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return passed


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    args = _arguments()
    rounds = asyncio.run(_measure(args))
    sys.exit(0 if _report(args, rounds) else 1)


if __name__ == "__main__":
    main()
