"""Gateway overhead: the same authenticated read (``GET me``) through the gateway and straight to auth.

One run starts MariaDB, Redis and RabbitMQ (gigstack_testinfra's local servers or containers), migrates
auth, starts auth and the gateway as real processes, creates one user, then alternates equal time slices of
load against both targets (direct, gateway, direct, gateway, ...) so drift on the shared machine hits both
alike. Reports throughput ratio (gateway / direct, target >= 0.85), p99 ratio (gateway / direct, target
<= 1.2) and the gateway's CPU per request (target <= 1.0 ms), with the load average. Usage::

    uv run python bench/gateway_overhead/run.py --duration 30 --concurrency 32
    uv run python bench/gateway_overhead/run.py --baseline-ref <commit>   # before/after side by side
    uv run python bench/gateway_overhead/run.py --floor   # + the thinnest proxies (floor_apps.py)
    uv run python bench/gateway_overhead/run.py --ladder  # + the cost ladder from the floor to the gateway
    uv run python bench/gateway_overhead/run.py --tracing eks  # the eks overlay's tracing, tracing_presets.py

Besides the gateway's and auth's CPU, each target's slices count the CPU of every other process on its path
(this process, i.e. the load generator; Redis; MariaDB; the collector with ``--tracing eks``) and the whole
machine's busy time, and the report derives the throughput ratio those per-request CPUs imply when the cores
are the bottleneck ("cpu_bound"; docs/benchmarks.md, "Throughput ratio bound on this machine").

The load generator is this process: httpx, one client of one keep-alive connection per worker
(``--loadgen-pool per-worker``; ``shared``, one client for all, was the only way before 2026-12-06 and is
kept for comparison: its pool's bookkeeping made this process's CPU per read depend on the target's timing,
loadgen.py). Its context switches, and with asyncio's loop its wake-ups, are counted per read
(loop_stats.py); ``--compare-loadgen-pool`` loads direct and gateway with both pools in the same rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend, choose_backend
from gigstack_testinfra.backends.local import LocalBackend
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceProcess
from loadgen import POOLS, LoadResult, run_load
from loop_stats import LOOPS, LoopCounters, loop_factory, per_read
from servicekit.events import EventEnvelope
from servicekit.security import InternalTokenIssuer
from tracing_presets import PRESETS, TRACING_VARIABLES, collector_process, tracing_env

THROUGHPUT_RATIO_TARGET = 0.85
OTHER_POOL = {"shared": "per-worker", "per-worker": "shared"}
P99_RATIO_TARGET = 1.2
GATEWAY_CPU_MS_TARGET = 1.0  # gateway CPU per proxied authenticated read (issue 14)
ACCESS_TOKEN_SECRET = "bench-access-token-key-0123456789abcdef-not-for-production"
DEVICE = {"X-Device-Id": "bench-device"}
EMAIL_QUEUE = "notification.email"
VERIFICATION_EVENT = "auth.email.verification_requested.v1"
# Internal tokens live 30 s; the direct path re-mints well before that.
DIRECT_TOKEN_REFRESH_SECONDS = 10.0
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
FLOOR_APPS = Path(__file__).resolve().parent / "floor_apps.py"
# `--floor` targets: the floor_apps.py kind each runs, in the order they are loaded after the gateway.
FLOOR_KINDS = {"floor_asgi": "asgi", "floor_fastapi": "fastapi", "floor_constant": "constant"}
# `--ladder` rungs, bottom up: the FastAPI floor, then the real gateway app with its `GET me` route swapped
# for the floor's forwarding plus the gateway's own pieces up to each step (floor_apps.py), then the gateway.
LADDER_KINDS = {
    "floor_fastapi": "fastapi",
    "gw_routes": "gw_routes",
    "gw_stack": "gw_stack",
    "gw_verify": "gw_verify",
    "gw_admit": "gw_admit",
    "gw_mint": "gw_mint",
    "gw_routes_gcfreeze": "gw_routes_gcfreeze",
}
LADDER_STEPS = {
    "floor_fastapi": "one FastAPI route + aiohttp forward (no middleware)",
    "gw_routes": "+ the gateway's route table (no middleware)",
    "gw_stack": "+ the gateway's middleware stack",
    "gw_verify": "+ access-token verification",
    "gw_admit": "+ admission (EVALSHA) and session rule, instead of verification alone",
    "gw_mint": "+ internal token minted per request",
    "gateway": "+ DownstreamClient and relay (the real gateway)",
}
# Beside the ladder, compared with `gw_routes` only: the same after `gc.freeze()` once the app is built.
LADDER_SIDE = {"gw_routes_gcfreeze": ("gw_routes", "gw_routes after gc.freeze() (side rung, vs gw_routes)")}


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process and its live child processes, from /proc (Linux).

    The children count for servers that run the app in a worker process (granian, `--gateway-server`);
    uvicorn's single process has none.
    """
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    child_pids = children.read_text().split() if children.exists() else []
    return own + sum(_cpu_seconds(int(child)) for child in child_pids)


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot, all cores and processes (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _server_pids(backend: Backend) -> dict[str, int | None]:
    """Redis's and MariaDB's pids where this run started them (local servers; containers: unknown)."""
    if not isinstance(backend, LocalBackend):
        return {"redis": None, "mariadb": None}
    return {"redis": backend.server_pid("redis"), "mariadb": backend.server_pid("mariadb")}


def _service(
    name: str, module: str, env: dict[str, str], log_dir: Path, *, server: str = "uvicorn"
) -> ServiceProcess:
    port = free_port()
    args = [sys.executable, "-m", module]
    if server == "granian":
        # Evaluation only (ADR 0024, edge redesign): the same app factory served by granian's ASGI
        # interface on uvloop, one worker. Needs granian installed: `uv run --with granian==2.8.7 ...`.
        args = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--loop", "uvloop",
            "--workers", "1", "--host", LOOPBACK, "--port", str(port),
            f"{module}.entrypoints.app:create_app",
        ]  # fmt: skip
    return ServiceProcess(name, args, {**env, "PORT": str(port)}, port, log_dir / f"{name}.log")


def _export_sources(ref: str, into: Path) -> str:
    """The gateway's and servicekit's sources at ``ref``, as a PYTHONPATH that shadows the editable ones."""
    root = Path(__file__).resolve().parents[2]
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref, "services/gateway/src", "libs/servicekit/src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return os.pathsep.join(str(into / part) for part in ("services/gateway/src", "libs/servicekit/src"))


def _baseline_path(args: argparse.Namespace, into: Path) -> str:
    sources = _export_sources(args.baseline_ref, into)
    if not args.baseline_without_hiredis:
        return sources
    # A `hiredis` that fails to import shadows the installed one: redis-py then parses replies in Python,
    # as it does in an environment without hiredis (a lock from before it was added).
    shim = into / "no-hiredis"
    (shim / "hiredis").mkdir(parents=True, exist_ok=True)
    (shim / "hiredis" / "__init__.py").write_text('raise ImportError("hiredis hidden for the baseline")\n')
    return os.pathsep.join((str(shim), sources))


async def _migrate_auth(database_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "auth_service",
        "migrate",
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
    )
    if await asyncio.wait_for(process.wait(), timeout=180) != 0:
        raise RuntimeError("auth migration failed")


async def _verification_token(amqp_url: str, email: str) -> str:
    """The token of the verification email auth published for ``email``.

    No notification service runs here; the event waits in notification's queue (publishers declare it), so the
    benchmark reads it from there, the way the mail would carry it.
    """
    deadline = time.monotonic() + 30
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(EMAIL_QUEUE, passive=True)
        while time.monotonic() < deadline:
            message = await queue.get(fail=False, timeout=5)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            envelope = EventEnvelope.model_validate_json(message.body)
            if envelope.type == VERIFICATION_EVENT and envelope.payload.get("to") == email:
                return str(envelope.payload["token"])
    finally:
        await connection.close()
    raise RuntimeError(f"no verification event for {email} within 30 s")


async def _create_user(gateway_url: str, amqp_url: str) -> tuple[str, str]:
    """Sign up, confirm the email on this device (which makes it known), sign in: (user id, access token)."""
    suffix = uuid.uuid4().hex[:10]
    account = {
        "username": f"bench{suffix}",
        "email": f"bench{suffix}@example.com",
        "password": "Bench-Password-42",
    }
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30, trust_env=False) as client:
        signup = await client.post("/api/v1/gateway/auth/signup", json=account, headers=DEVICE)
        signup.raise_for_status()
        token = await _verification_token(amqp_url, account["email"])
        verified = await client.post(
            "/api/v1/gateway/auth/verify-email", json={"token": token}, headers=DEVICE
        )
        verified.raise_for_status()
        signin = await client.post(
            "/api/v1/gateway/auth/signin",
            json={"email_or_username": account["username"], "password": account["password"]},
            headers=DEVICE,
        )
        signin.raise_for_status()
        body = signin.json()
        return str(body["user"]["id"]), str(body["access_token"])


class DirectTokenHeaders:
    """Headers for straight-to-auth calls: an internal token minted directly, re-minted every few seconds."""

    def __init__(self, issuer: InternalTokenIssuer, user_id: str) -> None:
        self._issuer = issuer
        self._user_id = user_id
        self._minted_at = 0.0
        self._headers: dict[str, str] = {}

    def __call__(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self._minted_at > DIRECT_TOKEN_REFRESH_SECONDS:
            token = self._issuer.issue("auth", subject=self._user_id)
            self._headers = {"Authorization": f"Bearer {token}", **DEVICE}
            self._minted_at = now
        return self._headers


async def measure(args: argparse.Namespace, loop_counters: LoopCounters) -> dict[str, Any]:
    backend = choose_backend()
    log_dir = Path(tempfile.mkdtemp(prefix="gigstack-bench-"))
    processes: list[ServiceProcess] = []
    try:
        mariadb = backend.mariadb()
        database = isolation.unique_name("bench")
        isolation.create_mariadb_database(mariadb, database)
        broker = backend.rabbitmq().endpoint
        vhost = isolation.unique_name("bench")
        isolation.create_vhost(broker, vhost)
        redis_url = backend.redis().url(isolation.RedisDatabaseAllocator(backend.redis()).allocate())
        private_pem, public_pem = generate_ed25519_pem_pair()
        await _migrate_auth(mariadb.url(database))
        collector: ServiceProcess | None = None
        collector_url: str | None = None
        if args.tracing == "eks":
            collector, collector_url = collector_process(log_dir)
            collector.start()
            processes.append(collector)
            await collector.wait_ready(timeout=60)

        # Request logs at WARNING on both sides: per-request INFO lines would measure logging, not routing.
        common = {
            "ENVIRONMENT": "test",
            "HOST": LOOPBACK,
            "LOG_LEVEL": "WARNING",
            "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
            # Every service of the run (auth, the gateway, the baseline) under the same tracing preset.
            **tracing_env(args.tracing, collector_url),
        }
        auth = _service(
            "auth",
            "auth_service",
            {**common, "DATABASE_URL": mariadb.url(database), "AMQP_URL": broker.url(vhost)},
            log_dir,
        )
        gateway = _service(
            "gateway",
            "gateway_service",
            {
                **common,
                "REDIS_URL": redis_url,
                "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
                "ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
                "AUTH_SERVICE_URL": auth.base_url,
                "RATE_LIMIT_PER_IP_PER_MINUTE": "100000000",
                "RATE_LIMIT_PER_ACCOUNT_PER_MINUTE": "100000000",
            },
            log_dir,
            server=args.gateway_server,
        )
        baseline: ServiceProcess | None = None
        if args.baseline_ref:
            # The same gateway at another commit, beside this one: its CPU per read is measured in the same
            # run, under the same machine load, so before/after is a ratio of two figures taken together.
            baseline_env = {**gateway.env, "PYTHONPATH": _baseline_path(args, log_dir)}
            if args.baseline_tracing is not None:
                # The baseline gateway alone under another preset (auth keeps the run's): the same code under
                # two tracing configurations, side by side, with `--baseline-ref HEAD`.
                for name in TRACING_VARIABLES:
                    baseline_env.pop(name, None)
                baseline_env.update(tracing_env(args.baseline_tracing, collector_url))
            baseline = _service("gateway-baseline", "gateway_service", baseline_env, log_dir)
        floors: dict[str, ServiceProcess] = {}
        if args.ladder:
            # Each rung builds the real gateway app, so it runs with the gateway's environment (same Redis,
            # keys, budgets and auth); the FastAPI floor only needs the upstream.
            for name, kind in LADDER_KINDS.items():
                port = free_port()
                env = {**gateway.env, "UPSTREAM_URL": auth.base_url, "PORT": str(port)}
                floors[name] = ServiceProcess(
                    name, [sys.executable, str(FLOOR_APPS), kind], env, port, log_dir / f"{name}.log"
                )
        if args.floor:
            # The thinnest proxies (and a constant answer) as processes of their own, served like the gateway:
            # their CPU per read is the floor under the gateway's, measured in the same rounds.
            for name, kind in FLOOR_KINDS.items():
                if name in floors:
                    continue
                port = free_port()
                floors[name] = ServiceProcess(
                    name,
                    [sys.executable, str(FLOOR_APPS), kind],
                    {"HOST": LOOPBACK, "PORT": str(port), "UPSTREAM_URL": auth.base_url},
                    port,
                    log_dir / f"{name}.log",
                )
        for process in (auth, gateway, *([baseline] if baseline else []), *floors.values()):
            process.start()
            processes.append(process)
            await process.wait_ready(timeout=90)

        user_id, access_token = await _create_user(gateway.base_url, broker.url(vhost))
        direct_headers = DirectTokenHeaders(InternalTokenIssuer(private_pem), user_id)
        gateway_headers = {"Authorization": f"Bearer {access_token}", **DEVICE}
        targets: dict[str, tuple[str, str, Callable[[], dict[str, str]]]] = {
            "direct": (auth.base_url, "/api/v1/auth/me", direct_headers),
            "gateway": (gateway.base_url, "/api/v1/gateway/auth/me", lambda: gateway_headers),
        }
        # The process whose CPU counts as "gateway" for each target.
        gateway_of = {"direct": gateway, "gateway": gateway}
        if baseline is not None:
            targets["baseline"] = (baseline.base_url, "/api/v1/gateway/auth/me", lambda: gateway_headers)
            gateway_of["baseline"] = baseline
        for name, floor in floors.items():
            # No token translation in a floor app: it is sent the internal token, as auth is directly. The
            # ladder's gateway rungs are sent the access token, as the gateway is.
            sent = direct_headers if name in FLOOR_KINDS else (lambda: gateway_headers)
            targets[name] = (floor.base_url, "/api/v1/gateway/auth/me", sent)
            gateway_of[name] = floor
        # How the load generator holds its connections, per target (loadgen.py); with `--compare-loadgen-pool`
        # the direct and gateway targets again, with the other pool, in the same rounds.
        pool_of = dict.fromkeys(targets, args.loadgen_pool)
        if args.compare_loadgen_pool:
            other = OTHER_POOL[args.loadgen_pool]
            for name in ("direct", "gateway"):
                targets[f"{name}@{other}"] = targets[name]
                gateway_of[f"{name}@{other}"] = gateway_of[name]
                pool_of[f"{name}@{other}"] = other
        totals = {name: LoadResult(label=name, duration_seconds=0.0) for name in targets}
        # CPU seconds each process spent while each target was under load: auth, the target's gateway, and
        # the rest of the path (PATH_ROLES), plus the whole machine's busy seconds.
        shared_pids = {**_server_pids(backend), "collector": collector.pid if collector else None}
        cpu: dict[str, dict[str, float]] = {
            name: dict.fromkeys(("auth", "gateway", *PATH_ROLES, "machine"), 0.0) for name in targets
        }
        # The load generator's context switches (and loop wake-ups, on asyncio's loop) in each target's
        # slices.
        loop: dict[str, dict[str, float]] = {name: {} for name in targets}
        for name, (
            url,
            path,
            headers,
        ) in targets.items():  # warm up pools, JIT-free but caches and connections
            await run_load(
                name,
                url,
                path,
                headers,
                concurrency=args.concurrency,
                duration_seconds=args.warmup,
                pool=pool_of[name],
            )
        slice_seconds = args.duration / args.rounds
        # Each round's own figures, so what the machine's load did between slices can be told apart from
        # what the gateway costs (the merged ratios hide it).
        rounds: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            this_round: dict[str, Any] = {}
            for name, (url, path, headers) in targets.items():
                pids = {"auth": auth.pid, "gateway": gateway_of[name].pid, **shared_pids}
                before = _path_cpu_seconds(pids)
                counted = loop_counters.snapshot()
                sliced = await run_load(
                    name,
                    url,
                    path,
                    headers,
                    concurrency=args.concurrency,
                    duration_seconds=slice_seconds,
                    pool=pool_of[name],
                )
                counters = {key: value - counted[key] for key, value in loop_counters.snapshot().items()}
                totals[name].merge(sliced)
                after = _path_cpu_seconds(pids)
                spent = {role: after[role] - before[role] for role in before}
                for role, seconds in spent.items():
                    cpu[name][role] += seconds
                for key, value in counters.items():
                    loop[name][key] = loop[name].get(key, 0.0) + value
                this_round[name] = _summary(sliced, spent)
                this_round[name]["loadgen_loop_per_read"] = per_read(counters, sliced.requests)
            this_round["load_average_1m"] = round(os.getloadavg()[0], 2)
            rounds.append(this_round)
        report = _report(totals, cpu, rounds, args)
        report["loadgen_loop"] = args.loadgen_loop
        report["loadgen_pool"] = args.loadgen_pool
        if args.compare_loadgen_pool:
            report["loadgen_pool_comparison"] = _pool_comparison(
                OTHER_POOL[args.loadgen_pool], totals, cpu, rounds
            )
        report["loadgen_loop_per_read"] = {
            name: {
                **per_read(loop[name], totals[name].requests),
                "per_round": [one[name]["loadgen_loop_per_read"] for one in rounds],
            }
            for name in targets
        }
        return report
    finally:
        for process in reversed(processes):
            process.terminate(timeout=15)
        backend.close()


# Processes on a read's path besides auth and the gateway. "loadgen" is this process (the load generator and
# little else while a slice runs); the collector only runs with `--tracing eks`.
PATH_ROLES = ("loadgen", "redis", "mariadb", "collector")


def _path_cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    seconds = {role: _cpu_seconds(pid) for role, pid in pids.items()}
    seconds["loadgen"] = time.process_time()
    seconds["machine"] = _machine_busy_seconds()
    return seconds


def _summary(result: LoadResult, cpu: dict[str, float]) -> dict[str, Any]:
    requests = max(result.requests, 1)
    seconds = max(result.duration_seconds, 1e-9)
    return {
        "requests": result.requests,
        "errors": result.errors,
        "error_kinds": dict(result.error_kinds),
        "seconds": round(result.duration_seconds, 2),
        "throughput_rps": round(result.throughput, 1),
        "p50_ms": round(result.percentile(0.50) * 1000, 2),
        "p90_ms": round(result.percentile(0.90) * 1000, 2),
        "p99_ms": round(result.percentile(0.99) * 1000, 2),
        "auth_cpu_ms_per_request": round(cpu["auth"] * 1000 / requests, 3),
        "gateway_cpu_ms_per_request": round(cpu["gateway"] * 1000 / requests, 3),
        "path_cpu_ms_per_request": {
            role: round(cpu.get(role, 0.0) * 1000 / requests, 3) for role in PATH_ROLES
        },
        # Cores busy on the whole machine (every process, other sessions' too) while the slice ran.
        "machine_cores_busy": round(cpu.get("machine", 0.0) / seconds, 2),
    }


def _report(
    totals: dict[str, LoadResult],
    cpu: dict[str, dict[str, float]],
    rounds: list[dict[str, Any]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    direct, via_gateway = totals["direct"], totals["gateway"]
    throughput_ratio = via_gateway.throughput / direct.throughput
    p99_ratio = via_gateway.percentile(0.99) / direct.percentile(0.99)
    gateway_cpu_ms = cpu["gateway"]["gateway"] * 1000 / max(via_gateway.requests, 1)
    return {
        "benchmark": "gateway_overhead",
        "concurrency": args.concurrency,
        "duration_seconds_each": args.duration,
        "rounds": args.rounds,
        "direct": _summary(direct, cpu["direct"]),
        "gateway": _summary(via_gateway, cpu["gateway"]),
        "throughput_ratio": round(throughput_ratio, 3),
        "throughput_ratio_target": THROUGHPUT_RATIO_TARGET,
        "p99_ratio": round(p99_ratio, 3),
        "p99_ratio_target": P99_RATIO_TARGET,
        "gateway_cpu_ms_per_request": round(gateway_cpu_ms, 3),
        "gateway_cpu_ms_target": GATEWAY_CPU_MS_TARGET,
        "tracing": args.tracing,
        "load_average": os.getloadavg(),
        "rounds_detail": [
            {
                "throughput_ratio": _ratio(one["gateway"]["throughput_rps"], one["direct"]["throughput_rps"]),
                "p99_ratio": _ratio(one["gateway"]["p99_ms"], one["direct"]["p99_ms"]),
                "gateway_cpu_ms_per_request": one["gateway"]["gateway_cpu_ms_per_request"],
                "auth_cpu_ms_per_request": [
                    one["direct"]["auth_cpu_ms_per_request"],
                    one["gateway"]["auth_cpu_ms_per_request"],
                ],
                "p99_ms": [one["direct"]["p99_ms"], one["gateway"]["p99_ms"]],
                "load_average_1m": one["load_average_1m"],
            }
            for one in rounds
        ],
        "cpu_bound": _cpu_bound(
            _summary(direct, cpu["direct"]),
            {name: _summary(totals[name], cpu[name]) for name in ("gateway", "baseline") if name in totals},
            rounds,
        ),
        **_baseline_report(totals, cpu, rounds, args),
        **_floor_report(totals, cpu, rounds),
        **_ladder_report(totals, cpu, rounds),
        "passed": throughput_ratio >= THROUGHPUT_RATIO_TARGET
        and p99_ratio <= P99_RATIO_TARGET
        and gateway_cpu_ms <= GATEWAY_CPU_MS_TARGET,
    }


# What a read costs on each path, process by process: straight to auth, and through a gateway (Redis for the
# admission). MariaDB serves auth's lookup on both; the collector gets both sides' spans (`--tracing eks`).
DIRECT_PATH = ("loadgen", "auth", "mariadb", "collector")
GATEWAY_PATH = ("loadgen", "gateway", "auth", "redis", "mariadb", "collector")


def _path_ms(summary: dict[str, Any], roles: tuple[str, ...]) -> dict[str, float]:
    own = {"auth": summary["auth_cpu_ms_per_request"], "gateway": summary["gateway_cpu_ms_per_request"]}
    return {role: own.get(role, summary["path_cpu_ms_per_request"].get(role, 0.0)) for role in roles}


def _implied(direct: dict[str, Any], via: dict[str, Any]) -> dict[str, Any]:
    """The throughput ratio the per-request CPUs imply if the machine's cores are what limits both paths.

    A closed loop that keeps the cores busy serves (cores available) / (CPU per read over the whole path)
    reads per second, so gateway / direct throughput = direct path's CPU / gateway path's CPU, whatever the
    number of cores, as long as both slices get the same share of them ("path_cores": the cores the path's
    processes actually got; measured ratio = implied ratio x gateway slices' cores / direct slices' cores,
    exactly). The gateway CPU that would give the
    target ratio follows from the same equation, once with the rest of the gateway path as measured in its
    slices, once with the load generator, auth and MariaDB costing what they cost on the direct path (their
    per-read CPU moves between slices with the machine's load; the second figure leaves that out). Each
    process is also single-threaded (one core at most), which caps a path at 1000 / its busiest process's
    ms per second.
    """
    direct_ms, via_ms = _path_ms(direct, DIRECT_PATH), _path_ms(via, GATEWAY_PATH)
    direct_total, via_total = sum(direct_ms.values()), sum(via_ms.values())
    rest_of_path = via_total - via_ms["gateway"]
    return {
        "direct_path_ms": direct_ms,
        "gateway_path_ms": via_ms,
        "direct_path_total_ms": round(direct_total, 3),
        "gateway_path_total_ms": round(via_total, 3),
        "implied_throughput_ratio": _ratio(direct_total, via_total),
        "measured_throughput_ratio": _ratio(via["throughput_rps"], direct["throughput_rps"]),
        "gateway_cpu_ms_for_target_ratio": round(direct_total / THROUGHPUT_RATIO_TARGET - rest_of_path, 3),
        "gateway_cpu_ms_for_target_ratio_rest_as_direct": round(
            direct_total / THROUGHPUT_RATIO_TARGET - direct_total - via_ms["redis"], 3
        ),
        # With the gateway at exactly its CPU target and the rest of the path as direct.
        "implied_throughput_ratio_at_gateway_cpu_target": _ratio(
            direct_total, direct_total + GATEWAY_CPU_MS_TARGET + via_ms["redis"]
        ),
        "path_cores": [
            round(direct_total * direct["throughput_rps"] / 1000, 3),
            round(via_total * via["throughput_rps"] / 1000, 3),
        ],
        "machine_cores_busy": [direct["machine_cores_busy"], via["machine_cores_busy"]],
    }


def _cpu_bound(
    direct: dict[str, Any], vias: dict[str, dict[str, Any]], rounds: list[dict[str, Any]]
) -> dict[str, Any]:
    """`_implied` for the gateway (and the baseline) over the run and per round."""
    return {
        name: {
            **_implied(direct, via),
            "implied_throughput_ratio_per_round": [
                _implied(one["direct"], one[name])["implied_throughput_ratio"] for one in rounds
            ],
            "measured_throughput_ratio_per_round": [
                _ratio(one[name]["throughput_rps"], one["direct"]["throughput_rps"]) for one in rounds
            ],
        }
        for name, via in vias.items()
    }


def _baseline_report(
    totals: dict[str, LoadResult],
    cpu: dict[str, dict[str, float]],
    rounds: list[dict[str, Any]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """With ``--baseline-ref``: the baseline gateway's figures and this gateway's relative to them."""
    if "baseline" not in totals:
        return {}
    via_gateway, baseline = totals["gateway"], totals["baseline"]
    gateway_cpu = cpu["gateway"]["gateway"] / max(via_gateway.requests, 1)
    baseline_cpu = cpu["baseline"]["gateway"] / max(baseline.requests, 1)
    return {
        "baseline_ref": args.baseline_ref,
        "baseline_without_hiredis": args.baseline_without_hiredis,
        "baseline_tracing": args.baseline_tracing or args.tracing,
        "gateway_server": args.gateway_server,
        "baseline": _summary(baseline, cpu["baseline"]),
        "baseline_throughput_ratio": round(baseline.throughput / totals["direct"].throughput, 3),
        "baseline_p99_ratio": round(baseline.percentile(0.99) / totals["direct"].percentile(0.99), 3),
        "gateway_cpu_vs_baseline": _ratio(gateway_cpu, baseline_cpu),
        "gateway_cpu_vs_baseline_per_round": [
            _ratio(
                one["gateway"]["gateway_cpu_ms_per_request"], one["baseline"]["gateway_cpu_ms_per_request"]
            )
            for one in rounds
        ],
    }


def _floor_report(
    totals: dict[str, LoadResult], cpu: dict[str, dict[str, float]], rounds: list[dict[str, Any]]
) -> dict[str, Any]:
    """With ``--floor``: each floor app's figures (its own process's CPU in the gateway column), the gateway's
    CPU per read over the floor's, and throughput and p99 against direct."""
    names = [name for name in FLOOR_KINDS if name in totals]
    if not names:
        return {}
    direct = totals["direct"]
    gateway_cpu = cpu["gateway"]["gateway"] / max(totals["gateway"].requests, 1)
    floor: dict[str, Any] = {}
    for name in names:
        result = totals[name]
        own_cpu = cpu[name]["gateway"] / max(result.requests, 1)
        floor[name] = {
            **_summary(result, cpu[name]),
            "throughput_ratio": _ratio(result.throughput, direct.throughput),
            "p99_ratio": _ratio(result.percentile(0.99), direct.percentile(0.99)),
            "gateway_cpu_over_this": _ratio(gateway_cpu, own_cpu),
            "gateway_cpu_over_this_per_round": [
                _ratio(one["gateway"]["gateway_cpu_ms_per_request"], one[name]["gateway_cpu_ms_per_request"])
                for one in rounds
            ],
            "cpu_ms_per_request_per_round": [one[name]["gateway_cpu_ms_per_request"] for one in rounds],
        }
    return {"floor": floor}


def _ladder_report(
    totals: dict[str, LoadResult], cpu: dict[str, dict[str, float]], rounds: list[dict[str, Any]]
) -> dict[str, Any]:
    """With ``--ladder``: each rung's own CPU per read (merged and per round) and its step over the rung
    below, the gateway last."""
    names = [name for name in (*LADDER_STEPS, *LADDER_SIDE) if name in totals]
    if "gw_routes" not in names:
        return {}
    ladder: list[dict[str, Any]] = []
    below: dict[str, Any] | None = None
    by_name: dict[str, dict[str, Any]] = {}
    for name in names:
        if name in LADDER_SIDE:
            below = by_name[LADDER_SIDE[name][0]]
        per_round = [one[name]["gateway_cpu_ms_per_request"] for one in rounds]
        own = cpu[name]["gateway"] * 1000 / max(totals[name].requests, 1)
        rung: dict[str, Any] = {
            "rung": name,
            "step": LADDER_STEPS[name] if name in LADDER_STEPS else LADDER_SIDE[name][1],
            "cpu_ms_per_request": round(own, 3),
            "cpu_ms_per_request_per_round": per_round,
            "throughput_rps": round(totals[name].throughput, 1),
            "errors": totals[name].errors,
            "error_kinds": dict(totals[name].error_kinds),
            "delta_ms": None if below is None else round(own - below["cpu_ms_per_request"], 3),
            "delta_ms_per_round": None
            if below is None
            else [
                round(a - b, 3) for a, b in zip(per_round, below["cpu_ms_per_request_per_round"], strict=True)
            ],
        }
        ladder.append(rung)
        by_name[name] = below = rung
    return {"ladder": ladder}


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def _table(report: dict[str, Any]) -> str:
    rows = [
        "| target | requests | errors | req/s | p50 ms | p90 ms | p99 ms "
        "| auth CPU ms/req | gateway CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("direct", "gateway", "baseline"):
        if name not in report:
            continue
        cells = [name, *(str(report[name][key]) for key in ("requests", "errors", "throughput_rps"))]
        cells += [str(report[name][key]) for key in ("p50_ms", "p90_ms", "p99_ms")]
        cells += [str(report[name][key]) for key in ("auth_cpu_ms_per_request", "gateway_cpu_ms_per_request")]
        rows.append("| " + " | ".join(cells) + " |")
    rows.append("")
    rows.append(
        "| round | throughput ratio | p99 ratio | p99 ms direct / gateway "
        "| gateway CPU ms/req | load avg 1m |"
    )
    rows.append("|---|---|---|---|---|---|")
    for number, one in enumerate(report["rounds_detail"], start=1):
        rows.append(
            f"| {number} | {one['throughput_ratio']} | {one['p99_ratio']} "
            f"| {one['p99_ms'][0]} / {one['p99_ms'][1]} | {one['gateway_cpu_ms_per_request']} "
            f"| {one['load_average_1m']} |"
        )
    rows.append("")
    rows.append(
        f"throughput ratio (gateway/direct) = {report['throughput_ratio']} "
        f"(target >= {THROUGHPUT_RATIO_TARGET}); "
        f"p99 ratio = {report['p99_ratio']} (target <= {P99_RATIO_TARGET}); "
        f"gateway CPU ms/req = {report['gateway_cpu_ms_per_request']} (target <= {GATEWAY_CPU_MS_TARGET}); "
        f"load average {report['load_average']}; passed = {report['passed']}"
    )
    if "baseline" in report:
        rows.append(
            f"baseline {report['baseline_ref']}"
            f"{' (without hiredis)' if report.get('baseline_without_hiredis') else ''}"
            f" (tracing {report['baseline_tracing']}): "
            f"throughput ratio {report['baseline_throughput_ratio']}, "
            f"p99 ratio {report['baseline_p99_ratio']}; gateway CPU / baseline gateway CPU = "
            f"{report['gateway_cpu_vs_baseline']} (per round {report['gateway_cpu_vs_baseline_per_round']})"
        )
    rows += ["", *_cpu_bound_table(report)]
    if "loadgen_loop_per_read" in report:
        rows += ["", *_loop_table(report)]
    if "loadgen_pool_comparison" in report:
        rows += ["", *_pool_table(report)]
    if "floor" in report:
        rows += ["", *_floor_table(report)]
    if "ladder" in report:
        rows += ["", *_ladder_table(report)]
    return "\n".join(rows)


def _cpu_bound_table(report: dict[str, Any]) -> list[str]:
    roles = GATEWAY_PATH
    rows = [
        f"tracing: {report['tracing']}. CPU ms per read, process by process "
        "(loadgen = the benchmark's own process):",
        "| path | " + " | ".join(roles) + " | total | cores used by the path | cores busy (machine) |",
        "|---|" + "---|" * (len(roles) + 3),
    ]
    bounds = report["cpu_bound"]
    first = next(iter(bounds.values()))
    direct_cells = [str(first["direct_path_ms"].get(role, "-")) for role in roles]
    rows.append(
        f"| direct | {' | '.join(direct_cells)} | {first['direct_path_total_ms']} "
        f"| {first['path_cores'][0]} | {first['machine_cores_busy'][0]} |"
    )
    for name, bound in bounds.items():
        cells = [str(bound["gateway_path_ms"][role]) for role in roles]
        rows.append(
            f"| {name} | {' | '.join(cells)} | {bound['gateway_path_total_ms']} "
            f"| {bound['path_cores'][1]} | {bound['machine_cores_busy'][1]} |"
        )
    for name, bound in bounds.items():
        rows.append(
            f"{name}: throughput ratio measured {bound['measured_throughput_ratio']} "
            f"(per round {bound['measured_throughput_ratio_per_round']}), implied by the CPUs "
            f"{bound['implied_throughput_ratio']} (per round {bound['implied_throughput_ratio_per_round']}); "
            f"gateway CPU for a ratio of {THROUGHPUT_RATIO_TARGET}: "
            f"{bound['gateway_cpu_ms_for_target_ratio']} ms with the rest of the path as measured, "
            f"{bound['gateway_cpu_ms_for_target_ratio_rest_as_direct']} ms with loadgen, auth and MariaDB "
            f"as on the direct path; a gateway at {GATEWAY_CPU_MS_TARGET} ms implies "
            f"{bound['implied_throughput_ratio_at_gateway_cpu_target']}"
        )
    return rows


def _pool_comparison(
    other: str, totals: dict[str, LoadResult], cpu: dict[str, dict[str, float]], rounds: list[dict[str, Any]]
) -> dict[str, Any]:
    """With ``--compare-loadgen-pool``: the direct and gateway pair loaded with the other pool, in the same
    rounds: its ratios and its CPU per read, process by process, beside the run's own pair."""
    direct, via = totals[f"direct@{other}"], totals[f"gateway@{other}"]
    return {
        "pool": other,
        "direct": _summary(direct, cpu[f"direct@{other}"]),
        "gateway": _summary(via, cpu[f"gateway@{other}"]),
        "throughput_ratio": _ratio(via.throughput, direct.throughput),
        "p99_ratio": _ratio(via.percentile(0.99), direct.percentile(0.99)),
        "gateway_cpu_ms_per_request": round(
            cpu[f"gateway@{other}"]["gateway"] * 1000 / max(via.requests, 1), 3
        ),
        "throughput_ratio_per_round": [
            _ratio(one[f"gateway@{other}"]["throughput_rps"], one[f"direct@{other}"]["throughput_rps"])
            for one in rounds
        ],
        "p99_ratio_per_round": [
            _ratio(one[f"gateway@{other}"]["p99_ms"], one[f"direct@{other}"]["p99_ms"]) for one in rounds
        ],
        "cpu_bound": _implied(
            _summary(direct, cpu[f"direct@{other}"]), _summary(via, cpu[f"gateway@{other}"])
        ),
    }


def _pool_table(report: dict[str, Any]) -> list[str]:
    other = report["loadgen_pool_comparison"]
    bound, own = other["cpu_bound"], report["cpu_bound"]["gateway"]
    rows = [
        f"load generator pools side by side (same rounds): {report['loadgen_pool']} (the run's) and "
        f"{other['pool']}",
        "| pool | throughput ratio (per round) | p99 ratio (per round) | gateway CPU ms "
        "| loadgen CPU ms direct / gateway | path total ms direct / gateway | implied ratio |",
        "|---|---|---|---|---|---|---|",
        f"| {report['loadgen_pool']} | {report['throughput_ratio']} "
        f"({[one['throughput_ratio'] for one in report['rounds_detail']]}) | {report['p99_ratio']} "
        f"({[one['p99_ratio'] for one in report['rounds_detail']]}) | {report['gateway_cpu_ms_per_request']} "
        f"| {own['direct_path_ms']['loadgen']} / {own['gateway_path_ms']['loadgen']} "
        f"| {own['direct_path_total_ms']} / {own['gateway_path_total_ms']} "
        f"| {own['implied_throughput_ratio']} |",
        f"| {other['pool']} | {other['throughput_ratio']} ({other['throughput_ratio_per_round']}) "
        f"| {other['p99_ratio']} ({other['p99_ratio_per_round']}) | {other['gateway_cpu_ms_per_request']} "
        f"| {bound['direct_path_ms']['loadgen']} / {bound['gateway_path_ms']['loadgen']} "
        f"| {bound['direct_path_total_ms']} / {bound['gateway_path_total_ms']} "
        f"| {bound['implied_throughput_ratio']} |",
    ]
    return rows


def _loop_table(report: dict[str, Any]) -> list[str]:
    """The load generator's context switches and loop wake-ups per read, per target (loop_stats.py)."""
    rows = [
        f"load generator on {report['loadgen_loop']}'s loop, per read (selects = loop wake-ups that waited "
        "for I/O; events = sockets ready when it woke):",
        "| target | loadgen CPU ms | user / system ms | voluntary switches | involuntary switches | selects "
        "| events | events per select | involuntary switches per round |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, one in report["loadgen_loop_per_read"].items():
        pair, _, pool = name.partition("@")
        summary = report["loadgen_pool_comparison"][pair] if pool else report.get(name, {})
        loadgen_ms = summary.get("path_cpu_ms_per_request", {}).get("loadgen", "-")
        rows.append(
            f"| {name} | {loadgen_ms} | {one.get('user_ms')} / {one.get('system_ms')} "
            f"| {one.get('voluntary_switches')} | {one.get('involuntary_switches')} "
            f"| {one.get('loop_selects', '-')} | {one.get('loop_events', '-')} "
            f"| {one.get('events_per_select', '-')} "
            f"| {[r.get('involuntary_switches') for r in one['per_round']]} |"
        )
    return rows


def _ladder_table(report: dict[str, Any]) -> list[str]:
    rows = [
        "| rung | step | CPU ms/req | per round | delta ms | delta per round | req/s | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rung in report["ladder"]:
        rows.append(
            f"| {rung['rung']} | {rung['step']} | {rung['cpu_ms_per_request']} "
            f"| {rung['cpu_ms_per_request_per_round']} | {rung['delta_ms']} | {rung['delta_ms_per_round']} "
            f"| {rung['throughput_rps']} | {rung['errors']} |"
        )
    rows.append(
        f"load average {report['load_average']} (1m per round "
        f"{[one['load_average_1m'] for one in report['rounds_detail']]})"
    )
    return rows


def _floor_table(report: dict[str, Any]) -> list[str]:
    rows = [
        "| target | req/s | p99 ms | own CPU ms/req | CPU ms/req per round | throughput / direct "
        "| p99 / direct | gateway CPU / this |",
        "|---|---|---|---|---|---|---|---|",
        f"| gateway | {report['gateway']['throughput_rps']} | {report['gateway']['p99_ms']} "
        f"| {report['gateway']['gateway_cpu_ms_per_request']} "
        f"| {[one['gateway_cpu_ms_per_request'] for one in report['rounds_detail']]} "
        f"| {report['throughput_ratio']} | {report['p99_ratio']} | 1.0 |",
    ]
    for name, one in report["floor"].items():
        rows.append(
            f"| {name} | {one['throughput_rps']} | {one['p99_ms']} | {one['gateway_cpu_ms_per_request']} "
            f"| {one['cpu_ms_per_request_per_round']} | {one['throughput_ratio']} | {one['p99_ratio']} "
            f"| {one['gateway_cpu_over_this']} (per round {one['gateway_cpu_over_this_per_round']}) |"
        )
    rows.append(
        f"(direct = auth: {report['direct']['throughput_rps']} req/s, p99 {report['direct']['p99_ms']} ms)"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=30.0, help="measured seconds per target (split in rounds)"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating slices per target")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per target first")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "gateway_overhead.json")
    parser.add_argument(
        "--baseline-ref",
        help="also run the gateway at this git commit (its own process, same auth and Redis) and report this "
        "gateway's CPU per read relative to it, measured side by side in the same rounds",
    )
    parser.add_argument(
        "--baseline-without-hiredis",
        action="store_true",
        help="run the baseline gateway with hiredis hidden (redis-py's Python parser), as an environment "
        "locked before the gateway depended on it runs",
    )
    parser.add_argument(
        "--gateway-server",
        choices=["uvicorn", "granian"],
        default="uvicorn",
        help="the ASGI server of the gateway under test (the baseline always runs its own `python -m`); "
        "granian is an evaluation and must be installed for the run (`uv run --with granian==2.8.7`)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also load the thinnest proxies on the gateway's stack (floor_apps.py: a bare ASGI aiohttp "
        "proxy, the same as one FastAPI route, a constant 200), in the same rounds, and report the "
        "gateway's CPU per read over theirs",
    )
    parser.add_argument(
        "--ladder",
        action="store_true",
        help="also load the cost ladder (floor_apps.py: the FastAPI floor, then the real gateway app with "
        "its `GET me` route built up one step at a time), in the same rounds, and report each rung's CPU "
        "per read and its step over the rung below",
    )
    parser.add_argument(
        "--tracing",
        choices=PRESETS,
        default="bench-default",
        help="tracing of every service of the run (tracing_presets.py): bench-default = sampler 1.0, no "
        "exporter (spans recorded, then dropped; what this benchmark has always measured); eks = the eks "
        "overlay's sampler 0.1 with OTLP export to a real collector on loopback",
    )
    parser.add_argument(
        "--baseline-tracing",
        choices=PRESETS,
        help="run the baseline gateway alone under this tracing preset (auth and the gateway under test keep "
        "--tracing's); with --baseline-ref HEAD, the same code under two presets side by side",
    )
    parser.add_argument(
        "--loadgen-loop",
        choices=LOOPS,
        default="asyncio",
        help="the event loop of this process, i.e. of the load generator (asyncio: the standard library's, "
        "as always; its wake-ups are counted). Every target's slices run on the same loop, so the ratios "
        "stay like for like; the choice moves the load generator's CPU per read on both paths",
    )
    parser.add_argument(
        "--loadgen-pool",
        choices=POOLS,
        default="per-worker",
        help="how the load generator holds its connections (loadgen.py): per-worker = one httpx client of "
        "one connection per worker (the default since 2026-12-06), shared = one client for all (before; "
        "its CPU per read depends on the target's timing, docs/benchmarks.md)",
    )
    parser.add_argument(
        "--compare-loadgen-pool",
        action="store_true",
        help="also load direct and gateway with the other pool, in the same rounds, and report both pairs",
    )
    args = parser.parse_args()
    if args.baseline_tracing == "eks" and args.tracing != "eks":
        parser.error("--baseline-tracing eks needs the run's collector: use --tracing eks")
    factory, loop_counters = loop_factory(args.loadgen_loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        report = runner.run(measure(args, loop_counters))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report))
    if not report["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
