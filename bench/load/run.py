"""Whole-app load: the sustainable request rate through the gateway at p99 < 500 ms, then a soak at 70 %.

Starts the whole marketplace (bench/whole_app.py: every store and all eight services as real processes),
signs up a few members who buy and sell, publishes their gigs, then drives the mix of bench/load/scenario.py
(search-heavy reads, signed-in reads, gig writes, messages, orders through their life with reviews, signups)
through the gateway with an open-loop generator: requests leave on schedule whether or not earlier ones
answered, and latency counts from the scheduled moment, so an overloaded system cannot hide its queueing (no
coordinated omission).

1. Ramp: each rate of ``--rates`` for ``--step-seconds``. A step is sustained when its p99 is under 500 ms,
   fewer than 0.1 % of its requests fail, the achieved rate is at least 95 % of the offered one, and the
   event backlog it leaves drains within ``STEP_DRAIN_GRACE_SECONDS`` (10 s) of its end with no load
   offered: the depth of every subscribed work queue (ready messages, as a passive declaration reports them;
   dead-letter queues excluded) back to zero and every service's ``outbox_pending_events`` at zero. Fast
   answers prove nothing about asynchronous work: a consumer running behind its queue answers no request,
   so without this check a step whose backlog grows all along counts as sustained and the soak at 70 % of
   it fails. Why 10 s: a 20 s step whose backlog
   needs more than half as long again to clear had its consumers working at under ~2/3 of the arrival
   rate, i.e. growing without bound; and it covers the outbox gauge's own 5 s sampling period. A step that
   is not sustained says why in ``not_sustained_because`` (e.g. ``"backlog gig.sellers=210"``, the depths
   still there when the grace period ran out). The sustainable rate is the highest sustained step below the
   first one that is not.
2. Soak at ``--soak-fraction`` (70 %) of it for ``--soak-seconds``: error rate (< 0.1 %), resident memory of
   every service sampled every 5 s (growth after the warm-up, the first fifth, must stay within 10 %), the
   depth of every subscribed queue sampled every 5 s (bounded: its second half within twice its first half or
   100 messages; back to zero at the end; no message in any dead-letter queue), and every service's outbox
   pending gauge (``outbox_pending_events`` on its /metrics) drained at the end.

Usage::

    uv run python bench/load/run.py                                   # ramp, then a 10-minute soak
    uv run python bench/load/run.py --soak-seconds 120 --step-seconds 15
    uv run python bench/load/run.py --hashing-cost fast-for-tests  # auth cheap: what bounds the rest

``--hashing-cost`` is auth's ``HASHING_COST``: ``production`` (the default) makes signups' Argon2 the bound
on one machine; ``fast-for-tests`` removes it, as scaling auth out would, to find the next bound.

Writes ``bench/results/load.json``; exits non-zero when a soak target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "idle_memory"))

from gigstack_testinfra.servers.ferretdb import DIAGNOSTICS_ENV
from memory import tree_memory
from servicekit.events.subscriptions import SUBSCRIPTIONS
from servicekit.events.topology import dead_letter_queue_name

from bench.load.ferretdb_stats import FerretDBStats
from bench.load.scenario import Marketplace, pick, populate
from bench.whole_app import HASHING_COSTS, GigstackStack, whole_app

P99_TARGET_SECONDS = 0.5
ERROR_RATE_TARGET = 0.001
RSS_GROWTH_TARGET = 0.10
ACHIEVED_FRACTION = 0.95
MAX_IN_FLIGHT = 400
REQUEST_TIMEOUT_SECONDS = 10.0
SAMPLE_SECONDS = 5.0
DRAIN_SECONDS = 60.0
# After each ramp step, how long its queue and outbox backlog may take to clear (module docstring).
STEP_DRAIN_GRACE_SECONDS = 10.0
STEP_DRAIN_POLL_SECONDS = 1.0
# A queue is bounded when its depth in the soak's second half stays within twice the first half's (or this).
QUEUE_BOUND_FLOOR = 100
RESULTS_FILE = Path(__file__).resolve().parents[1] / "results" / "load.json"


@dataclass
class Window:
    offered_rate: float
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    latencies_by_operation: dict[str, list[float]] = field(default_factory=dict)
    conflicts_retried: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return sum(self.errors.values()) / self.requests if self.requests else 0.0

    def p(self, fraction: float) -> float:
        if not self.latencies:
            return math.inf
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]

    def summary(self) -> dict[str, Any]:
        return {
            "offered_rps": self.offered_rate,
            "achieved_rps": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0.0,
            "requests": self.requests,
            "errors": dict(self.errors),
            "error_rate": round(self.error_rate, 5),
            "p50_ms": round(self.p(0.50) * 1000, 1),
            "p99_ms": round(self.p(0.99) * 1000, 1),
            "version_conflicts_retried": self.conflicts_retried,
        }

    def by_operation_ms(self) -> dict[str, dict[str, float]]:
        """Per operation: requests, p50 and p99 of its successes (where the tail comes from)."""
        table = {}
        for name, count in sorted(self.by_operation.items()):
            ordered = sorted(self.latencies_by_operation.get(name, [])) or [math.inf]
            table[name] = {
                "requests": count,
                "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000, 1),
            }
        return table

    def shortfalls(self) -> list[str]:
        """Why this window's requests did not meet the targets (empty when they did)."""
        achieved = len(self.latencies) / self.seconds if self.seconds else 0.0
        reasons = []
        if not self.p(0.99) < P99_TARGET_SECONDS:
            reasons.append(f"p99 {self.p(0.99) * 1000:.0f} ms")
        if not self.error_rate < ERROR_RATE_TARGET:
            reasons.append(f"error rate {self.error_rate:.2%}")
        if achieved < ACHIEVED_FRACTION * self.offered_rate:
            reasons.append(f"achieved {achieved:.1f} of {self.offered_rate:g} req/s")
        return reasons


async def drive(client: httpx.AsyncClient, market: Marketplace, rate: float, seconds: float) -> Window:
    """Open loop: request i is scheduled at start + i / rate; latency counts from that moment."""
    window = Window(offered_rate=rate)
    in_flight: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()

    async def one(scheduled: float) -> None:
        operation = pick()
        try:
            call = await operation(client, market)
        except httpx.HTTPError as exc:
            window.errors[f"{operation.__name__} {type(exc).__name__}"] += 1
            return
        window.by_operation[call.operation] += 1
        window.conflicts_retried += call.conflicts
        if call.response.status_code in call.ok:
            latency = loop.time() - scheduled
            window.latencies.append(latency)
            window.latencies_by_operation.setdefault(call.operation, []).append(latency)
        else:
            window.errors[f"{call.operation} {call.response.status_code}"] += 1

    started = loop.time()
    count = int(rate * seconds)
    for index in range(count):
        scheduled = started + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= MAX_IN_FLIGHT:
            window.errors["generator: too many in flight"] += 1
            continue
        task = asyncio.create_task(one(scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT_SECONDS + 5)
    window.seconds = loop.time() - started
    return window


def _queues() -> list[str]:
    """Every subscribed work queue and its dead-letter queue."""
    return [name for s in SUBSCRIPTIONS for name in (s.queue, dead_letter_queue_name(s.queue))]


async def _queue_depths(amqp_url: str) -> dict[str, int]:
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        depths = {}
        for name in _queues():
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True, timeout=10)
                depths[name] = int(queue.declaration_result.message_count or 0)
            except aio_pika.exceptions.ChannelClosed:
                depths[name] = -1  # not declared (its consumer does not exist yet)
            finally:
                if not channel.is_closed:
                    await channel.close()
        return depths
    finally:
        await connection.close()


async def _outbox_pending(client: httpx.AsyncClient, stack: GigstackStack) -> dict[str, float]:
    """Each service's `outbox_pending_events` (set by its relay every pass); services without an outbox have
    no such line and are left out."""
    pending: dict[str, float] = {}
    for process in stack.processes():
        text = (await client.get(f"{process.base_url}/metrics")).text
        values = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("outbox_pending_events{")
        ]
        if values:
            pending[process.name] = sum(values)
    return pending


def _backlog(depths: Mapping[str, int], pending: Mapping[str, float]) -> list[str]:
    """What is still waiting: non-empty work queues and outboxes with pending events (dead letters apart)."""
    dead_letter_queues = {dead_letter_queue_name(s.queue) for s in SUBSCRIPTIONS}
    queues = [
        f"{queue}={depth}" for queue, depth in depths.items() if depth > 0 and queue not in dead_letter_queues
    ]
    outboxes = [f"outbox {name}={value:g}" for name, value in pending.items() if value > 0]
    return [f"backlog {item}" for item in queues] + outboxes


async def step_backlog(client: httpx.AsyncClient, stack: GigstackStack) -> dict[str, Any]:
    """The backlog a ramp step left: at its end, and whether (and when) it cleared within the grace period."""
    loop = asyncio.get_running_loop()
    ended = loop.time()
    depths, pending = await _queue_depths(stack.amqp_url), await _outbox_pending(client, stack)
    at_end = _backlog(depths, pending)
    left = at_end
    while left and loop.time() - ended < STEP_DRAIN_GRACE_SECONDS:
        await asyncio.sleep(STEP_DRAIN_POLL_SECONDS)
        depths, pending = await _queue_depths(stack.amqp_url), await _outbox_pending(client, stack)
        left = _backlog(depths, pending)
    return {
        "backlog_at_end": at_end,
        "backlog_after_grace": left,
        "drained_after_s": None if left else round(loop.time() - ended, 1),
    }


async def soak(
    client: httpx.AsyncClient, stack: GigstackStack, market: Marketplace, rate: float, seconds: float
) -> dict[str, Any]:
    pids = {process.name: process.pid for process in stack.processes() if process.pid is not None}
    rss: dict[str, list[float]] = {name: [] for name in pids}
    depths: list[dict[str, int]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            for name, pid in pids.items():
                rss[name].append(round(tree_memory(pid).rss_mib, 1))
            depths.append(await _queue_depths(stack.amqp_url))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=SAMPLE_SECONDS)

    dead_letter_queues = {dead_letter_queue_name(s.queue) for s in SUBSCRIPTIONS}
    sampler = asyncio.create_task(sample())
    window = await drive(client, market, rate, seconds)
    stop.set()
    await sampler
    # Drained: every work queue empty and no outbox with pending events (the gauge is sampled every 5 s).
    deadline = time.monotonic() + DRAIN_SECONDS
    drained_depths, pending = await _queue_depths(stack.amqp_url), await _outbox_pending(client, stack)
    while time.monotonic() < deadline and (
        any(depth > 0 for queue, depth in drained_depths.items() if queue not in dead_letter_queues)
        or any(value > 0 for value in pending.values())
    ):
        await asyncio.sleep(2)
        drained_depths, pending = await _queue_depths(stack.amqp_url), await _outbox_pending(client, stack)
    await asyncio.sleep(SAMPLE_SECONDS + 1)  # one more pending sample after the last publication
    pending = await _outbox_pending(client, stack)
    warm = max(1, len(next(iter(rss.values()))) // 5)
    growth = {
        name: round(samples[-1] / statistics.median(samples[:warm]) - 1, 3) for name, samples in rss.items()
    }
    work_queues = [queue for queue in drained_depths if queue not in dead_letter_queues]
    half = len(depths) // 2
    bounded = {
        queue: max((sample.get(queue, 0) for sample in depths[half:]), default=0)
        <= max(QUEUE_BOUND_FLOOR, 2 * max((sample.get(queue, 0) for sample in depths[:half]), default=0))
        for queue in work_queues
    }
    return {
        "rate_rps": rate,
        "seconds": seconds,
        "window": window.summary(),
        "by_operation": window.by_operation_ms(),
        "rss_mib_first_last_max": {
            name: [samples[0], samples[-1], max(samples)] for name, samples in rss.items()
        },
        "rss_growth_after_warmup": growth,
        "max_queue_depth": {queue: max(sample.get(queue, 0) for sample in depths) for queue in depths[0]}
        if depths
        else {},
        "queue_depth_after": drained_depths,
        "outbox_pending_after": pending,
        "passed": {
            "error_rate": window.error_rate < ERROR_RATE_TARGET,
            "rss_growth": all(value <= RSS_GROWTH_TARGET for value in growth.values()),
            "queues_bounded": all(bounded.values()),
            "queues_drained": all(drained_depths[queue] <= 0 for queue in work_queues),
            "no_dead_letters": all(drained_depths[queue] <= 0 for queue in dead_letter_queues),
            "outbox_drained": all(value == 0 for value in pending.values()),
        },
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    random.seed(args.seed)
    # Tokens must outlive the run; the budgets are raised out of the way (all traffic comes from 127.0.0.1).
    gateway_env = {"ACCESS_TOKEN_TTL_SECONDS": "86400"}
    if args.ferretdb_stats:
        os.environ[DIAGNOSTICS_ENV] = "1"  # read by the FerretDBServer whole_app starts
    async with whole_app(
        log_level=args.log_level, gateway_env=gateway_env, hashing_cost=args.hashing_cost
    ) as (stack, extra):
        stats = (
            FerretDBStats(extra["ferretdb"], args.ferretdb_stats)
            if args.ferretdb_stats and extra.get("ferretdb") is not None
            else None
        )
        stats_stop = asyncio.Event()
        stats_task = asyncio.create_task(stats.run(stats_stop)) if stats else None
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64)
        async with httpx.AsyncClient(
            base_url=stack.gateway_url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits, trust_env=False
        ) as client:
            market = await populate(client, stack.mail, members=args.members, gigs=args.gigs)
            await drive(client, market, rate=args.rates[0], seconds=5)  # warm-up, not reported
            steps: list[dict[str, Any]] = []
            sustainable = 0.0
            for rate in args.rates:
                window = await drive(client, market, rate, args.step_seconds)
                backlog = await step_backlog(client, stack)
                reasons = window.shortfalls() + backlog["backlog_after_grace"]
                steps.append({**window.summary(), **backlog, "sustained": not reasons})
                if reasons:
                    steps[-1]["not_sustained_because"] = reasons
                print(f"step {steps[-1]}", flush=True)
                steps[-1]["by_operation"] = window.by_operation_ms()
                if reasons:
                    break
                sustainable = rate
            soak_result = None
            if args.soak_seconds > 0:
                # With no sustained step (a saturated machine) the soak still runs, at the fraction of the
                # lowest step, so error rate, memory, queues and outboxes are measured all the same.
                soak_rate = round((sustainable or args.rates[0]) * args.soak_fraction, 2)
                soak_result = await soak(client, stack, market, soak_rate, args.soak_seconds)
                print(f"soak {soak_result}", flush=True)
        if stats and stats_task:
            stats_stop.set()
            await stats_task
            await stats.snapshot("end")
            stats.keep_log()
    return {
        "benchmark": "load",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": os.getloadavg(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"},
        "steps": steps,
        "sustainable_rps": sustainable,
        "soak": soak_result,
        "passed": sustainable > 0 and soak_result is not None and all(soak_result["passed"].values()),
    }


def _rates(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=_rates, default=_rates("2,4,6,8,10,15,20,30,40,50,65,80,100"))
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--soak-seconds", type=float, default=600.0, help="0 skips the soak")
    parser.add_argument("--soak-fraction", type=float, default=0.7)
    parser.add_argument("--members", type=int, default=6, help="signed-in members who buy and sell")
    parser.add_argument("--gigs", type=int, default=40, help="gigs published before the load")
    parser.add_argument("--log-level", default="INFO", help="the services' LOG_LEVEL (INFO as in the pods)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--hashing-cost",
        choices=HASHING_COSTS,
        default="production",
        help="auth's HASHING_COST: production (Argon2 bounds signups), fast-for-tests (auth scaled out)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS_FILE)
    parser.add_argument(
        "--ferretdb-stats",
        type=Path,
        default=None,
        help="instrument FerretDB's PostgreSQL and write its per-minute statistics and log to this directory",
    )
    args = parser.parse_args()
    report = asyncio.run(measure(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("sustainable_rps", "passed", "load_average")}))
    if not report["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
