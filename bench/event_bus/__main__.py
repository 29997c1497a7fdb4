"""Event-bus benchmark: raw aio-pika throughput versus the full outbox path, measured in one run.

Starts RabbitMQ and PostgreSQL through `gigstack_testinfra` (local processes, or containers when Docker
answers), then alternates rounds of the two paths on fresh vhosts and databases so drift on a shared
machine hits both alike:

* raw: aio-pika publish with confirms (persistent, 100 in flight) + consume with ack (prefetch 32) on the
  same quorum work-queue topology;
* bus (the target figure): events already staged in the PostgreSQL outbox → `SqlOutboxRelay` → broker →
  `EventConsumer` → handler commits a `claim_event` row: outbox → broker → consumer → commit, the span
  the raw path's publish-with-confirm → consume-with-ack corresponds to;
* staged: the same with the clock also covering the staging, each event in its own PostgreSQL transaction
  (16 writers). Reported beside the target: in a service the INSERT joins a transaction it already pays for.

In both paths the consumer runs in a separate process (`consumer_worker`), as the consuming service would.

Reports the throughputs, the ratios to raw (targets: bus / raw >= 0.5, staged / raw >= 0.35) and loss
(distinct claimed ids must equal N and no outbox row may stay unpublished, in both outbox variants). The
consumer batches its claims (`BatchEventConsumer` + `claim_events`, ADR 0024); `--claims single` measures
the one-transaction-per-event `EventConsumer` instead; `--loop uvloop` runs every process on uvloop.
Usage (from the repository root)::

    uv run python -m bench.event_bus --events 5000 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvloop
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend

from bench.event_bus.full_path import run_full
from bench.event_bus.raw_path import run_raw

THROUGHPUT_RATIO_TARGET = 0.5  # bus / raw
STAGED_RATIO_TARGET = 0.35  # staged / raw
T = TypeVar("T")
RESULTS_PATH = Path(__file__).resolve().parents[1] / "results" / "event_bus.json"


@dataclass(frozen=True)
class Round:
    round: int
    raw_seconds: float
    bus_seconds: float
    staged_seconds: float
    staged_staging_done_after_seconds: float
    raw_client_cpu_ms_per_event: float
    bus_client_cpu_ms_per_event: float
    staged_client_cpu_ms_per_event: float
    raw_per_second: float
    bus_per_second: float
    staged_per_second: float
    bus_ratio: float
    staged_ratio: float
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
    parser.add_argument(
        "--claims",
        choices=["batch", "single"],
        default="batch",
        help="consumer: BatchEventConsumer + claim_events (one transaction per batch) or EventConsumer + "
        "claim_event (one transaction per event)",
    )
    parser.add_argument(
        "--loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="event loop of every process of the run (uvloop speeds raw up more than the outbox path)",
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
            # One database per outbox variant: each counts only its own claims and outbox rows.
            bus_database = isolation.unique_name("bench")
            staged_database = isolation.unique_name("bench")
            isolation.create_vhost(broker.endpoint, vhost)
            isolation.create_postgres_database(postgres, bus_database)
            isolation.create_postgres_database(postgres, staged_database)
            try:
                amqp_url = broker.endpoint.url(vhost)
                raw = await run_raw(
                    amqp_url,
                    events=args.events,
                    queue="bench.raw",
                    prefetch=args.prefetch,
                    publish_window=args.publish_window,
                    loop=args.loop,
                )
                bus = await run_full(
                    amqp_url,
                    postgres.url(bus_database),
                    events=args.events,
                    queue="bench.bus",
                    prefetch=args.prefetch,
                    writers=args.writers,
                    relay_batch=args.relay_batch,
                    unit_of_work=args.unit_of_work,
                    claims=args.claims,
                    loop=args.loop,
                    staging_in_clock=False,
                )
                staged = await run_full(
                    amqp_url,
                    postgres.url(staged_database),
                    events=args.events,
                    queue="bench.staged",
                    prefetch=args.prefetch,
                    writers=args.writers,
                    relay_batch=args.relay_batch,
                    unit_of_work=args.unit_of_work,
                    claims=args.claims,
                    loop=args.loop,
                    staging_in_clock=True,
                )
            finally:
                isolation.delete_vhost(broker.endpoint, vhost)
                isolation.drop_postgres_database(postgres, bus_database)
                isolation.drop_postgres_database(postgres, staged_database)
            raw_rate = args.events / raw.seconds
            bus_rate = args.events / bus.seconds
            staged_rate = args.events / staged.seconds

            def cpu_ms(seconds: float) -> float:
                return round(seconds * 1000 / int(args.events), 3)

            rounds.append(
                Round(
                    round=index,
                    raw_seconds=round(raw.seconds, 3),
                    bus_seconds=round(bus.seconds, 3),
                    staged_seconds=round(staged.seconds, 3),
                    staged_staging_done_after_seconds=round(staged.staged_after, 3),
                    raw_client_cpu_ms_per_event=cpu_ms(raw.client_cpu_seconds),
                    bus_client_cpu_ms_per_event=cpu_ms(bus.client_cpu_seconds),
                    staged_client_cpu_ms_per_event=cpu_ms(staged.client_cpu_seconds),
                    raw_per_second=round(raw_rate, 1),
                    bus_per_second=round(bus_rate, 1),
                    staged_per_second=round(staged_rate, 1),
                    bus_ratio=round(bus_rate / raw_rate, 3),
                    staged_ratio=round(staged_rate / raw_rate, 3),
                    # Both outbox variants must be lossless: the figures below add them up.
                    handler_calls=bus.handler_calls + staged.handler_calls,
                    distinct_claimed=bus.distinct_claimed + staged.distinct_claimed,
                    outbox_unpublished=bus.outbox_unpublished + staged.outbox_unpublished,
                )
            )
            print(f"round {index}: {asdict(rounds[-1])}", flush=True)
        return rounds
    finally:
        backend.close()


def _report(args: argparse.Namespace, rounds: list[Round]) -> bool:
    raw_total = sum(r.raw_seconds for r in rounds)
    bus_total = sum(r.bus_seconds for r in rounds)
    staged_total = sum(r.staged_seconds for r in rounds)
    events_total = args.events * len(rounds)
    bus_ratio = raw_total / bus_total
    staged_ratio = raw_total / staged_total
    # Each round runs two outbox variants of `events` events each.
    lossless = all(r.distinct_claimed == 2 * args.events and r.outbox_unpublished == 0 for r in rounds)
    passed = bus_ratio >= THROUGHPUT_RATIO_TARGET and staged_ratio >= STAGED_RATIO_TARGET and lossless
    # Client CPU per event, raw / outbox path: what the throughput ratio tends to on a CPU-bound machine,
    # and far steadier than it when other work shares the cores (a raw round lasts only seconds).
    raw_cpu = sum(r.raw_client_cpu_ms_per_event for r in rounds)
    bus_cpu_ratio = raw_cpu / sum(r.bus_client_cpu_ms_per_event for r in rounds)
    staged_cpu_ratio = raw_cpu / sum(r.staged_client_cpu_ms_per_event for r in rounds)
    print()
    print(
        "| round | raw events/s | bus events/s | bus / raw | staged events/s | staged / raw "
        "| client CPU ms/event raw / bus / staged | distinct claimed | unpublished |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rounds:
        print(
            f"| {r.round} | {r.raw_per_second:.0f} | {r.bus_per_second:.0f} | {r.bus_ratio:.2f} | "
            f"{r.staged_per_second:.0f} | {r.staged_ratio:.2f} | {r.raw_client_cpu_ms_per_event:.2f} / "
            f"{r.bus_client_cpu_ms_per_event:.2f} / {r.staged_client_cpu_ms_per_event:.2f} | "
            f"{r.distinct_claimed} / {2 * args.events} | {r.outbox_unpublished} |"
        )
    claimed = sum(r.distinct_claimed for r in rounds)
    unpublished = sum(r.outbox_unpublished for r in rounds)
    print(
        f"| all | {events_total / raw_total:.0f} | {events_total / bus_total:.0f} | **{bus_ratio:.2f}** | "
        f"{events_total / staged_total:.0f} | {staged_ratio:.2f} | | {claimed} / {2 * events_total} "
        f"| {unpublished} |"
    )
    print(
        f"\nbus / raw throughput ratio {bus_ratio:.2f} (target >= {THROUGHPUT_RATIO_TARGET}); "
        f"staged / raw {staged_ratio:.2f} (target >= {STAGED_RATIO_TARGET}); lossless: {lossless}; "
        f"client CPU per event raw / bus {bus_cpu_ratio:.2f}, raw / staged {staged_cpu_ratio:.2f}; "
        f"load average {os.getloadavg()}"
    )
    summary = {
        "benchmark": "event_bus",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"},
        "rounds": [asdict(r) for r in rounds],
        "throughput_ratio": round(bus_ratio, 3),
        "throughput_ratio_including_staging": round(staged_ratio, 3),
        "throughput_ratio_target": THROUGHPUT_RATIO_TARGET,
        "throughput_ratio_including_staging_target": STAGED_RATIO_TARGET,
        "client_cpu_ratio": round(bus_cpu_ratio, 3),
        "client_cpu_ratio_including_staging": round(staged_cpu_ratio, 3),
        "load_average": os.getloadavg(),
        "lossless": lossless,
        "passed": passed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return passed


def run(coroutine: Coroutine[Any, Any, T], loop: str) -> T:
    """Run on `loop`: asyncio (the figures in docs/benchmarks.md) or uvloop (what uvicorn runs on)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if loop == "uvloop" else None) as runner:
        return runner.run(coroutine)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    args = _arguments()
    rounds = run(_measure(args), args.loop)
    sys.exit(0 if _report(args, rounds) else 1)


if __name__ == "__main__":
    main()
