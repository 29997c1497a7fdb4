"""Startup: seconds from a service's process start to its first 200 on /health/ready (target < 3 s each).

Starts the whole app (bench/whole_app.py: every store, then every existing service as a real process, as the
e2e suite does) and the storefront beside it (its own Redis database, the stack's gateway as its gateway),
then restarts each service ``--repeats`` times with everything else running, the way a
rollout or a scale-out starts a pod: SIGTERM, wait for the exit, spawn ``python -m <service>_service`` and
poll ``/health/live`` and ``/health/ready`` every 20 ms. "live" is when uvicorn serves (imports, settings,
app built); "ready" is when the service's own readiness checks (its stores, the broker) pass. It also reads
the CPU time the process had used when it became ready (/proc): on a busy shared machine the wall time is
mostly waiting for a core, and the CPU time is what an idle core would need. Usage::

    uv run python bench/startup/run.py                 # 3 restarts per service
    uv run python bench/startup/run.py --repeats 5
    uv run python bench/startup/run.py --services gateway,gig   # only these (the whole app still runs)
    uv run python bench/startup/run.py --services storefront

Writes ``bench/results/startup.json``; exits non-zero when any start of any service took 3 s or more to
ready (the target is every start, not the median: a rollout waits for its slowest pod).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from gigstack_testinfra.net import free_port
from gigstack_testinfra.processes import ServiceProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.whole_app import GigstackStack, whole_app

TARGET_SECONDS = 3.0
POLL_SECONDS = 0.02
GIVE_UP_SECONDS = 90.0
RESULTS_FILE = Path(__file__).resolve().parents[1] / "results" / "startup.json"


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _first_200(client: httpx.AsyncClient, path: str, started: float) -> float:
    while time.perf_counter() - started < GIVE_UP_SECONDS:
        try:
            if (await client.get(path)).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"{path} not 200 after {GIVE_UP_SECONDS:.0f} s")


def _storefront(stack: GigstackStack, redis_url: str, log_dir: Path) -> ServiceProcess:
    """The storefront as its Deployment runs it: a web client of the gateway, sessions in Redis."""
    port = free_port()
    environment = {
        "PORT": str(port),
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "INFO",
        "REDIS_URL": redis_url,
        "GATEWAY_URL": stack.gateway_url,
    }
    command = [sys.executable, "-m", "storefront_service"]
    return ServiceProcess("storefront", command, environment, port, log_dir / "storefront.log")


async def _restart_each(
    processes: list[ServiceProcess], args: argparse.Namespace, results: dict[str, dict[str, Any]]
) -> None:
    for process in processes:
        if args.services and process.name not in args.services:
            continue
        live: list[float] = []
        ready: list[float] = []
        cpu: list[float] = []
        for _ in range(args.repeats):
            await asyncio.to_thread(process.terminate, 15.0)
            async with httpx.AsyncClient(base_url=process.base_url, timeout=1.0, trust_env=False) as client:
                started = time.perf_counter()
                process.start()
                live.append(await _first_200(client, "/health/live", started))
                ready.append(await _first_200(client, "/health/ready", started))
                cpu.append(_cpu_seconds(process.pid))
        results[process.name] = {
            "live_seconds": [round(s, 2) for s in live],
            "ready_seconds": [round(s, 2) for s in ready],
            "cpu_seconds_at_ready": [round(s, 2) for s in cpu],
            "median_ready_seconds": round(statistics.median(ready), 2),
            "max_ready_seconds": round(max(ready), 2),
        }
        print(process.name, results[process.name], flush=True)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    load_at_start = os.getloadavg()
    async with whole_app(log_level="INFO") as (stack, info):
        processes = list(stack.processes())
        storefront: ServiceProcess | None = None
        if not args.services or "storefront" in args.services:
            storefront = _storefront(stack, info["spare_redis_url"], info["log_dir"])
            storefront.start()
            await storefront.wait_ready(timeout=GIVE_UP_SECONDS)
            processes.append(storefront)
        try:
            await _restart_each(processes, args, results)
        finally:
            if storefront is not None:
                await asyncio.to_thread(storefront.terminate, 15.0)
    passed = all(figures["max_ready_seconds"] < TARGET_SECONDS for figures in results.values())
    return {
        "benchmark": "startup",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_at_start": load_at_start,
        "load_average": os.getloadavg(),
        "repeats": args.repeats,
        "target_seconds": TARGET_SECONDS,
        "services": results,
        "passed": passed,
    }


def _table(report: dict[str, Any]) -> str:
    lines = [
        "| service | to live s (each start) | to ready s (each start) | CPU s at ready | median ready s "
        "| max ready s |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in report["services"].items():
        live = " / ".join(f"{s:.2f}" for s in figures["live_seconds"])
        ready = " / ".join(f"{s:.2f}" for s in figures["ready_seconds"])
        cpu = " / ".join(f"{s:.2f}" for s in figures["cpu_seconds_at_ready"])
        lines.append(
            f"| {name} | {live} | {ready} | {cpu} | {figures['median_ready_seconds']:.2f} "
            f"| {figures['max_ready_seconds']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="restarts per service")
    parser.add_argument(
        "--services",
        type=lambda text: {name.strip() for name in text.split(",") if name.strip()},
        default=set(),
        help="comma-separated services to restart (default: all)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS_FILE)
    args = parser.parse_args()
    report = asyncio.run(measure(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report))
    print(
        f"load average {report['load_average_at_start']} at start, {report['load_average']} at the end; "
        f"target: every start ready in < {TARGET_SECONDS:g} s"
    )
    if not report["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
