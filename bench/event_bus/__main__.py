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
  (16 writers): a transaction no service pays for an event alone (kept for comparison with earlier runs);
* joined / direct (what a service does, side by side): 16 writers each commit a business row per event;
  joined puts the outbox row in that same transaction (outbox -> relay -> consumer -> claim), direct
  publishes with a confirm after the commit (the dual write the outbox replaces) to an acking consumer.
  Both pay the business transaction, so joined / direct is what the outbox costs a service end to end.

In both paths the consumer runs in a separate process (`consumer_worker`), as the consuming service would.

Reports the throughputs, the ratios (targets: bus / raw >= 0.5 and, counting the staging, joined / direct
>= 0.35; `--staged-target own` applies the 0.35 to staged / raw instead, issue 14's first reading) and loss
(distinct claimed ids must equal N and no outbox row may stay unpublished, in every outbox variant). The
consumer batches its claims (`BatchEventConsumer` + `claim_events`, ADR 0024); `--claims single` measures
the one-transaction-per-event `EventConsumer` instead; `--loop uvloop` runs every process on uvloop.
Usage (from the repository root)::

    uv run python -m bench.event_bus --events 5000 --rounds 2 [--ab-relay] [--ab-consumer] [--ab-deferred]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
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
from bench.event_bus.raw_path import run_direct, run_raw

THROUGHPUT_RATIO_TARGET = 0.5  # bus / raw
STAGED_RATIO_TARGET = 0.35  # joined / direct (default) or staged / raw (--staged-target own)
OUTBOX_VARIANTS = 3  # bus, staged, joined: each claims `events` distinct ids per round
T = TypeVar("T")
RESULTS_PATH = Path(__file__).resolve().parents[1] / "results" / "event_bus.json"


@dataclass(frozen=True)
class Round:
    round: int
    raw_seconds: float
    bus_seconds: float
    staged_seconds: float
    direct_seconds: float
    joined_seconds: float
    staged_staging_done_after_seconds: float
    joined_staging_done_after_seconds: float
    # When the relay had published the last event: against the end of staging and the last claim, it tells
    # whether a round's tail after staging was the relay or the consumer catching up.
    staged_published_after_seconds: float
    joined_published_after_seconds: float
    raw_client_cpu_ms_per_event: float
    bus_client_cpu_ms_per_event: float
    staged_client_cpu_ms_per_event: float
    direct_client_cpu_ms_per_event: float
    joined_client_cpu_ms_per_event: float
    raw_per_second: float
    bus_per_second: float
    staged_per_second: float
    direct_per_second: float
    joined_per_second: float
    bus_ratio: float
    staged_ratio: float
    joined_ratio: float  # joined / direct
    # --ab-staging: the joined path once more with the outbox INSERT through SQLAlchemy (0 when not run)
    joined_sqlalchemy_seconds: float
    joined_sqlalchemy_client_cpu_ms_per_event: float
    joined_sqlalchemy_ratio: float
    # --ab-relay: the staged path once more with the relay publishing row by row (0 when not run)
    staged_per_message_seconds: float
    staged_per_message_client_cpu_ms_per_event: float
    staged_per_message_ratio: float  # raw / it, beside staged_ratio
    # --ab-consumer: the staged path once more with the consumer before the session of 18:35 (each ack its
    # own write, no linger before a batch; 0 when not run)
    staged_old_consumer_seconds: float
    staged_old_consumer_client_cpu_ms_per_event: float
    staged_old_consumer_ratio: float  # raw / it, beside staged_ratio
    # --ab-deferred: the staged path once more with each outbox row written when staged (BEGIN, INSERT,
    # COMMIT), as before the session of 21:40's deferred staging (0 when not run)
    staged_immediate_seconds: float
    staged_immediate_client_cpu_ms_per_event: float
    staged_immediate_ratio: float  # raw / it, beside staged_ratio
    # --ab-relay-batch N: the staged path once more with the relay locking and publishing N rows per batch
    # instead of --relay-batch (0 when not run)
    staged_other_batch_seconds: float
    staged_other_batch_client_cpu_ms_per_event: float
    staged_other_batch_ratio: float  # raw / it, beside staged_ratio
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
    parser.add_argument(
        "--ab-staging",
        action="store_true",
        help="also run the joined path with the outbox INSERT forced through SQLAlchemy (before/after of "
        "ADR 0024's asyncpg staging, side by side)",
    )
    parser.add_argument(
        "--ab-relay",
        action="store_true",
        help="also run the staged path with the relay publishing each row on its own (before/after of "
        "ADR 0024's batched relay writes, side by side)",
    )
    parser.add_argument(
        "--ab-consumer",
        action="store_true",
        help="also run the staged path with the batch consumer acking each message on its own and starting "
        "a batch at the first message (before/after of the 18:35 session's consumer, side by side)",
    )
    parser.add_argument(
        "--ab-deferred",
        action="store_true",
        help="also run the staged path with each outbox row written when staged (BEGIN, INSERT, COMMIT) "
        "instead of deferred to its transaction's commit (before/after of the 21:40 session's deferred "
        "staging, side by side)",
    )
    parser.add_argument(
        "--ab-relay-batch",
        type=int,
        default=0,
        metavar="N",
        help="also run the staged path with the relay's batch at N rows instead of --relay-batch, side by "
        "side (order alternating between rounds)",
    )
    parser.add_argument(
        "--staged-target",
        choices=["joined", "own"],
        default="joined",
        help="which ratio the 0.35 target applies to: joined / direct (the outbox row in the business "
        "transaction, default) or staged / raw (a transaction per event for the outbox row alone)",
    )
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
            joined_database = isolation.unique_name("bench")
            direct_database = isolation.unique_name("bench")
            ab_database = isolation.unique_name("bench")
            ab_relay_database = isolation.unique_name("bench")
            ab_consumer_database = isolation.unique_name("bench")
            ab_deferred_database = isolation.unique_name("bench")
            ab_batch_database = isolation.unique_name("bench")
            databases = (
                (bus_database, staged_database, joined_database, direct_database)
                + ((ab_database,) if args.ab_staging else ())
                + ((ab_relay_database,) if args.ab_relay else ())
                + ((ab_consumer_database,) if args.ab_consumer else ())
                + ((ab_deferred_database,) if args.ab_deferred else ())
                + ((ab_batch_database,) if args.ab_relay_batch else ())
            )
            isolation.create_vhost(broker.endpoint, vhost)
            for database in databases:
                isolation.create_postgres_database(postgres, database)
            try:
                amqp_url = broker.endpoint.url(vhost)
                # Every outbox path runs with the same settings; only its database, queue and staging differ.
                outbox_path = functools.partial(
                    run_full,
                    amqp_url,
                    events=args.events,
                    prefetch=args.prefetch,
                    writers=args.writers,
                    relay_batch=args.relay_batch,
                    unit_of_work=args.unit_of_work,
                    claims=args.claims,
                    loop=args.loop,
                )
                raw = await run_raw(
                    amqp_url,
                    events=args.events,
                    queue="bench.raw",
                    prefetch=args.prefetch,
                    publish_window=args.publish_window,
                    loop=args.loop,
                )
                bus = await outbox_path(postgres.url(bus_database), queue="bench.bus", staging="before")
                # Odd rounds run the before first, even rounds after, so drift hits both alike.
                staged_per_message = None
                if args.ab_relay and index % 2 == 1:
                    staged_per_message = await outbox_path(
                        postgres.url(ab_relay_database),
                        queue="bench.staged-per-message",
                        staging="own",
                        relay_publishing="per-message",
                    )
                staged_old_consumer = None
                old_consumer = functools.partial(
                    outbox_path,
                    postgres.url(ab_consumer_database),
                    queue="bench.staged-old-consumer",
                    staging="own",
                    consumer_options=("--batch-acks=per-message", "--batch-linger-ms=0"),
                )
                if args.ab_consumer and index % 2 == 1:
                    staged_old_consumer = await old_consumer()
                staged_immediate = None
                immediate = functools.partial(
                    outbox_path,
                    postgres.url(ab_deferred_database),
                    queue="bench.staged-immediate",
                    staging="own",
                    deferred_staging=False,
                )
                if args.ab_deferred and index % 2 == 1:
                    staged_immediate = await immediate()
                staged_other_batch = None
                other_batch = functools.partial(
                    outbox_path,
                    postgres.url(ab_batch_database),
                    queue="bench.staged-other-batch",
                    staging="own",
                    relay_batch=args.ab_relay_batch,
                )
                if args.ab_relay_batch and index % 2 == 1:
                    staged_other_batch = await other_batch()
                staged = await outbox_path(postgres.url(staged_database), queue="bench.staged", staging="own")
                if args.ab_consumer and index % 2 == 0:
                    staged_old_consumer = await old_consumer()
                if args.ab_deferred and index % 2 == 0:
                    staged_immediate = await immediate()
                if args.ab_relay_batch and index % 2 == 0:
                    staged_other_batch = await other_batch()
                if args.ab_relay and index % 2 == 0:
                    staged_per_message = await outbox_path(
                        postgres.url(ab_relay_database),
                        queue="bench.staged-per-message",
                        staging="own",
                        relay_publishing="per-message",
                    )
                direct = await run_direct(
                    amqp_url,
                    postgres.url(direct_database),
                    events=args.events,
                    queue="bench.direct",
                    prefetch=args.prefetch,
                    writers=args.writers,
                    loop=args.loop,
                )
                joined = await outbox_path(
                    postgres.url(joined_database), queue="bench.joined", staging="joined"
                )
                joined_sqlalchemy = (
                    await outbox_path(
                        postgres.url(ab_database),
                        queue="bench.joined-sqlalchemy",
                        staging="joined-sqlalchemy",
                    )
                    if args.ab_staging
                    else None
                )
            finally:
                isolation.delete_vhost(broker.endpoint, vhost)
                for database in databases:
                    isolation.drop_postgres_database(postgres, database)
            outbox_variants = (
                [bus, staged, joined]
                + ([joined_sqlalchemy] if joined_sqlalchemy else [])
                + ([staged_per_message] if staged_per_message else [])
                + ([staged_old_consumer] if staged_old_consumer else [])
                + ([staged_immediate] if staged_immediate else [])
                + ([staged_other_batch] if staged_other_batch else [])
            )
            raw_rate = args.events / raw.seconds
            bus_rate = args.events / bus.seconds
            staged_rate = args.events / staged.seconds
            direct_rate = args.events / direct.seconds
            joined_rate = args.events / joined.seconds

            def cpu_ms(seconds: float) -> float:
                return round(seconds * 1000 / int(args.events), 3)

            def variant_fields(name: str, result: Any, reference_seconds: float) -> dict[str, Any]:
                """An optional A/B variant's three `Round` fields (zeros when it did not run)."""
                if result is None:
                    return {
                        f"{name}_seconds": 0.0,
                        f"{name}_client_cpu_ms_per_event": 0.0,
                        f"{name}_ratio": 0.0,
                    }
                return {
                    f"{name}_seconds": round(result.seconds, 3),
                    f"{name}_client_cpu_ms_per_event": cpu_ms(result.client_cpu_seconds),
                    f"{name}_ratio": round(reference_seconds / result.seconds, 3),
                }

            rounds.append(
                Round(
                    round=index,
                    raw_seconds=round(raw.seconds, 3),
                    bus_seconds=round(bus.seconds, 3),
                    staged_seconds=round(staged.seconds, 3),
                    direct_seconds=round(direct.seconds, 3),
                    joined_seconds=round(joined.seconds, 3),
                    staged_staging_done_after_seconds=round(staged.staged_after, 3),
                    joined_staging_done_after_seconds=round(joined.staged_after, 3),
                    staged_published_after_seconds=round(staged.published_after, 3),
                    joined_published_after_seconds=round(joined.published_after, 3),
                    raw_client_cpu_ms_per_event=cpu_ms(raw.client_cpu_seconds),
                    bus_client_cpu_ms_per_event=cpu_ms(bus.client_cpu_seconds),
                    staged_client_cpu_ms_per_event=cpu_ms(staged.client_cpu_seconds),
                    direct_client_cpu_ms_per_event=cpu_ms(direct.client_cpu_seconds),
                    joined_client_cpu_ms_per_event=cpu_ms(joined.client_cpu_seconds),
                    raw_per_second=round(raw_rate, 1),
                    bus_per_second=round(bus_rate, 1),
                    staged_per_second=round(staged_rate, 1),
                    direct_per_second=round(direct_rate, 1),
                    joined_per_second=round(joined_rate, 1),
                    bus_ratio=round(bus_rate / raw_rate, 3),
                    staged_ratio=round(staged_rate / raw_rate, 3),
                    joined_ratio=round(joined_rate / direct_rate, 3),
                    **variant_fields("joined_sqlalchemy", joined_sqlalchemy, direct.seconds),
                    **variant_fields("staged_per_message", staged_per_message, raw.seconds),
                    **variant_fields("staged_old_consumer", staged_old_consumer, raw.seconds),
                    **variant_fields("staged_immediate", staged_immediate, raw.seconds),
                    **variant_fields("staged_other_batch", staged_other_batch, raw.seconds),
                    # Every outbox variant must be lossless: the figures below add them up.
                    handler_calls=sum(v.handler_calls for v in outbox_variants),
                    distinct_claimed=sum(v.distinct_claimed for v in outbox_variants),
                    outbox_unpublished=sum(v.outbox_unpublished for v in outbox_variants),
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
    direct_total = sum(r.direct_seconds for r in rounds)
    joined_total = sum(r.joined_seconds for r in rounds)
    events_total = args.events * len(rounds)
    bus_ratio = raw_total / bus_total
    staged_ratio = raw_total / staged_total
    joined_ratio = direct_total / joined_total
    expected = (
        OUTBOX_VARIANTS
        + (1 if args.ab_staging else 0)
        + (1 if args.ab_relay else 0)
        + (1 if args.ab_consumer else 0)
        + (1 if args.ab_deferred else 0)
        + (1 if args.ab_relay_batch else 0)
    ) * args.events
    lossless = all(r.distinct_claimed == expected and r.outbox_unpublished == 0 for r in rounds)
    staging_ratio = joined_ratio if args.staged_target == "joined" else staged_ratio
    passed = bus_ratio >= THROUGHPUT_RATIO_TARGET and staging_ratio >= STAGED_RATIO_TARGET and lossless
    # Client CPU per event, raw / outbox path: what the throughput ratio tends to on a CPU-bound machine,
    # and far steadier than it when other work shares the cores (a raw round lasts only seconds).
    raw_cpu = sum(r.raw_client_cpu_ms_per_event for r in rounds)
    bus_cpu_ratio = raw_cpu / sum(r.bus_client_cpu_ms_per_event for r in rounds)
    staged_cpu_ratio = raw_cpu / sum(r.staged_client_cpu_ms_per_event for r in rounds)
    joined_cpu_ratio = sum(r.direct_client_cpu_ms_per_event for r in rounds) / sum(
        r.joined_client_cpu_ms_per_event for r in rounds
    )
    print()
    print(
        "| round | raw events/s | bus events/s | bus / raw | staged events/s | staged / raw "
        "| direct events/s | joined events/s | joined / direct "
        "| client CPU ms/event raw / bus / staged / direct / joined | distinct claimed | unpublished |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rounds:
        print(
            f"| {r.round} | {r.raw_per_second:.0f} | {r.bus_per_second:.0f} | {r.bus_ratio:.2f} | "
            f"{r.staged_per_second:.0f} | {r.staged_ratio:.2f} | {r.direct_per_second:.0f} | "
            f"{r.joined_per_second:.0f} | {r.joined_ratio:.2f} | {r.raw_client_cpu_ms_per_event:.2f} / "
            f"{r.bus_client_cpu_ms_per_event:.2f} / {r.staged_client_cpu_ms_per_event:.2f} / "
            f"{r.direct_client_cpu_ms_per_event:.2f} / {r.joined_client_cpu_ms_per_event:.2f} | "
            f"{r.distinct_claimed} / {expected} | {r.outbox_unpublished} |"
        )
    claimed = sum(r.distinct_claimed for r in rounds)
    unpublished = sum(r.outbox_unpublished for r in rounds)
    print(
        f"| all | {events_total / raw_total:.0f} | {events_total / bus_total:.0f} | **{bus_ratio:.2f}** | "
        f"{events_total / staged_total:.0f} | {staged_ratio:.2f} | {events_total / direct_total:.0f} | "
        f"{events_total / joined_total:.0f} | {joined_ratio:.2f} | | {claimed} / {expected * len(rounds)} "
        f"| {unpublished} |"
    )
    if args.ab_staging:
        ab_total = sum(r.joined_sqlalchemy_seconds for r in rounds)
        ab_cpu = sum(r.joined_sqlalchemy_client_cpu_ms_per_event for r in rounds) / len(rounds)
        joined_cpu = sum(r.joined_client_cpu_ms_per_event for r in rounds) / len(rounds)
        print(
            f"\njoined with the outbox INSERT through SQLAlchemy: joined / direct "
            f"{direct_total / ab_total:.2f} (asyncpg path {joined_ratio:.2f}); client CPU ms/event "
            f"{ab_cpu:.3f} (asyncpg path {joined_cpu:.3f})"
        )
    if args.ab_relay:
        ab_total = sum(r.staged_per_message_seconds for r in rounds)
        ab_cpu = sum(r.staged_per_message_client_cpu_ms_per_event for r in rounds) / len(rounds)
        staged_cpu = sum(r.staged_client_cpu_ms_per_event for r in rounds) / len(rounds)
        print(
            f"\nstaged with the relay publishing row by row: staged / raw {raw_total / ab_total:.2f} "
            f"(batched writes {staged_ratio:.2f}; by round "
            f"{', '.join(f'{r.staged_per_message_ratio:.2f} vs {r.staged_ratio:.2f}' for r in rounds)}); "
            f"client CPU ms/event {ab_cpu:.3f} (batched writes {staged_cpu:.3f})"
        )
    if args.ab_consumer:
        ab_total = sum(r.staged_old_consumer_seconds for r in rounds)
        ab_cpu = sum(r.staged_old_consumer_client_cpu_ms_per_event for r in rounds) / len(rounds)
        staged_cpu = sum(r.staged_client_cpu_ms_per_event for r in rounds) / len(rounds)
        print(
            f"\nstaged, consumer acking one by one, no linger: staged / raw {raw_total / ab_total:.2f} "
            f"(now {staged_ratio:.2f}; by round "
            f"{', '.join(f'{r.staged_old_consumer_ratio:.2f} vs {r.staged_ratio:.2f}' for r in rounds)}); "
            f"client CPU ms/event {ab_cpu:.3f} (now {staged_cpu:.3f})"
        )
    if args.ab_deferred:
        ab_total = sum(r.staged_immediate_seconds for r in rounds)
        ab_cpu = sum(r.staged_immediate_client_cpu_ms_per_event for r in rounds) / len(rounds)
        staged_cpu = sum(r.staged_client_cpu_ms_per_event for r in rounds) / len(rounds)
        print(
            f"\nstaged with each outbox row written when staged (BEGIN, INSERT, COMMIT): staged / raw "
            f"{raw_total / ab_total:.2f} (deferred {staged_ratio:.2f}; by round "
            f"{', '.join(f'{r.staged_immediate_ratio:.2f} vs {r.staged_ratio:.2f}' for r in rounds)}); "
            f"client CPU ms/event {ab_cpu:.3f} (deferred {staged_cpu:.3f})"
        )
    if args.ab_relay_batch:
        ab_total = sum(r.staged_other_batch_seconds for r in rounds)
        ab_cpu = sum(r.staged_other_batch_client_cpu_ms_per_event for r in rounds) / len(rounds)
        staged_cpu = sum(r.staged_client_cpu_ms_per_event for r in rounds) / len(rounds)
        print(
            f"\nstaged with relay batches of {args.ab_relay_batch}: staged / raw {raw_total / ab_total:.2f} "
            f"(batches of {args.relay_batch}: {staged_ratio:.2f}; by round "
            f"{', '.join(f'{r.staged_other_batch_ratio:.2f} vs {r.staged_ratio:.2f}' for r in rounds)}); "
            f"client CPU ms/event {ab_cpu:.3f} (batches of {args.relay_batch}: {staged_cpu:.3f})"
        )
    target_on = "joined / direct" if args.staged_target == "joined" else "staged / raw"
    print(
        f"\nbus / raw throughput ratio {bus_ratio:.2f} (target >= {THROUGHPUT_RATIO_TARGET}); "
        f"joined / direct {joined_ratio:.2f}, staged / raw {staged_ratio:.2f} (target >= "
        f"{STAGED_RATIO_TARGET} on {target_on}); "
        f"lossless: {lossless}; client CPU per event raw / bus {bus_cpu_ratio:.2f}, raw / staged "
        f"{staged_cpu_ratio:.2f}, direct / joined {joined_cpu_ratio:.2f}; load average {os.getloadavg()}; "
        f"{'passed' if passed else 'FAILED'}"
    )
    summary = {
        "benchmark": "event_bus",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"},
        "rounds": [asdict(r) for r in rounds],
        "throughput_ratio": round(bus_ratio, 3),
        "throughput_ratio_including_staging": round(staged_ratio, 3),
        "throughput_ratio_joined_to_direct": round(joined_ratio, 3),
        "throughput_ratio_target": THROUGHPUT_RATIO_TARGET,
        "staging_ratio_target": STAGED_RATIO_TARGET,
        "staging_ratio_target_applies_to": args.staged_target,
        "client_cpu_ratio": round(bus_cpu_ratio, 3),
        "client_cpu_ratio_including_staging": round(staged_cpu_ratio, 3),
        "client_cpu_ratio_joined_to_direct": round(joined_cpu_ratio, 3),
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
