"""Idle memory: RSS of every service at rest and after a short load, vs 120 MiB.

One run starts MariaDB, PostgreSQL, Redis, RabbitMQ, FerretDB, OpenSearch and an SMTP catcher through
``gigstack_testinfra`` (local processes, or containers when Docker answers), migrates auth, review and order,
starts all eight services as real processes (``python -m <service>``, the same settings a pod gets), waits
until each is ready and lets them idle, then measures the resident set (psutil, process plus children). Then
a short load goes through the gateway (authenticated ``GET me`` reads and forgot-password requests, each of
which becomes an event and an email) and the RSS is measured again after the services settle; the peak
during the load is sampled too. Usage::

    uv run python bench/idle_memory/run.py                       # 10 s idle, 1,500 reads + 500 emails
    uv run python bench/idle_memory/run.py --idle 30 --reads 3000 --resets 1000

Writes ``bench/results/idle_memory.json``; exits non-zero when a service's idle RSS exceeds the budget or the
eight together exceed 1 GiB (issue 10).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.object_store import ObjectStoreBucket
from gigstack_testinfra.processes import ServiceProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import run_load
from memory import MIB, PeakSampler, tree_memory

BUDGET_MIB = 120.0
# Issue 10: the whole application (every service, stores excluded) idles within 1 GiB.
WHOLE_APP_BUDGET_MIB = 1024.0
ACCESS_TOKEN_SECRET = "bench-access-token-key-0123456789abcdef-not-for-production"
SERVICES = ("gateway", "auth", "notification", "users", "gig", "review", "chat", "order")
RESULTS_FILE = Path(__file__).resolve().parents[1] / "results" / "idle_memory.json"


def _service(name: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        name,
        [sys.executable, "-m", f"{name}_service"],
        {**env, "PORT": str(port)},
        port,
        log_dir / f"{name}.log",
    )


async def _migrate(service: str, database_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"{service}_service",
        "migrate",
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
    )
    if await asyncio.wait_for(process.wait(), timeout=180) != 0:
        raise RuntimeError(f"{service} migration failed")


def _snapshot(processes: dict[str, ServiceProcess]) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = {}
    for name, process in processes.items():
        assert process.pid is not None, f"{name} is not running"
        memory = tree_memory(process.pid)
        result[name] = {
            "rss_mib": round(memory.rss_mib, 1),
            "uss_mib": round(memory.uss_mib, 1),
            "ratio_to_budget": round(memory.rss_mib / BUDGET_MIB, 2),
            "processes": memory.processes,
        }
    return result


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    backend = choose_backend()
    log_dir = Path(tempfile.mkdtemp(prefix="gigstack-idle-memory-"))
    mail = MailCatcher.for_tests()
    started: list[ServiceProcess] = []
    try:
        mail.start()
        mariadb = backend.mariadb()
        database = isolation.unique_name("bench")
        isolation.create_mariadb_database(mariadb, database)
        broker = backend.rabbitmq().endpoint
        vhost = isolation.unique_name("bench")
        isolation.create_vhost(broker, vhost)
        mongodb = backend.mongodb()
        redis = backend.redis()
        allocator = isolation.RedisDatabaseAllocator(redis)
        private_pem, public_pem = generate_ed25519_pem_pair()
        await _migrate("auth", mariadb.url(database))
        postgres = backend.postgres()
        isolation.create_postgres_database(postgres, database)
        await _migrate("review", postgres.url(database))
        order_database = isolation.unique_name("bench")
        isolation.create_postgres_database(postgres, order_database)
        await _migrate("order", postgres.url(order_database))

        common = {
            "ENVIRONMENT": "test",
            "HOST": LOOPBACK,
            "LOG_LEVEL": "INFO",
            "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
        }
        notification = _service(
            "notification",
            {
                **common,
                "AMQP_URL": broker.url(vhost),
                "REDIS_URL": redis.url(allocator.allocate()),
                "SMTP_HOST": mail.smtp_host,
                "SMTP_PORT": str(mail.smtp_port),
                "MAIL_FROM": "Gigstack <no-reply@gigstack.test>",
                "PUBLIC_URL": "http://app.gigstack.test",
            },
            log_dir,
        )
        auth = _service(
            "auth", {**common, "DATABASE_URL": mariadb.url(database), "AMQP_URL": broker.url(vhost)}, log_dir
        )
        search = backend.opensearch()
        # gig talks to the object store only when an upload is planned or a cover checked: idle, it never
        # connects, so the bucket need not exist.
        store = backend.object_store()
        gig = _service(
            "gig",
            {
                **common,
                "MONGODB_URL": mongodb.url(database),
                "AMQP_URL": broker.url(vhost),
                "SEARCH_URL": search.url,
                "SEARCH_INDEX_ALIAS": f"{database}_gigs",
                **ObjectStoreBucket(store, "bench-idle-memory").settings_env(),
            },
            log_dir,
        )
        review = _service(
            "review",
            {**common, "DATABASE_URL": postgres.url(database), "AMQP_URL": broker.url(vhost)},
            log_dir,
        )
        chat = _service(
            "chat",
            {
                **common,
                "MONGODB_URL": mongodb.url(isolation.unique_name("bench")),
                "AMQP_URL": broker.url(vhost),
                **ObjectStoreBucket(store, "bench-idle-memory").settings_env(),  # as gig: idle, never called
            },
            log_dir,
        )
        users = _service(
            "users",
            {
                **common,
                "MONGODB_URL": mongodb.url(isolation.unique_name("bench")),
                "AMQP_URL": broker.url(vhost),
            },
            log_dir,
        )
        # order idles with its scheduler ticking, its consumer and its outbox relay (PAYMENT_PROVIDER=local).
        order = _service(
            "order",
            {
                **common,
                "DATABASE_URL": postgres.url(order_database),
                "AMQP_URL": broker.url(vhost),
                "PAYMENT_WEBHOOK_SECRET": "whsec_bench_0123456789abcdef",
                # Delivery files are checked in the object store; like gig, nothing connects while idle.
                **ObjectStoreBucket(store, "bench-idle-memory").settings_env(),
            },
            log_dir,
        )
        gateway = _service(
            "gateway",
            {
                **common,
                "REDIS_URL": redis.url(allocator.allocate()),
                "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
                "ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
                "AUTH_SERVICE_URL": auth.base_url,
                "GIG_SERVICE_URL": gig.base_url,
                "REVIEW_SERVICE_URL": review.base_url,
                "USERS_SERVICE_URL": users.base_url,
                "CHAT_SERVICE_URL": chat.base_url,
                "ORDER_SERVICE_URL": order.base_url,
                "AMQP_URL": broker.url(vhost),
                "RATE_LIMIT_PER_IP_PER_MINUTE": "100000000",
                "RATE_LIMIT_PER_ACCOUNT_PER_MINUTE": "100000000",
            },
            log_dir,
        )
        processes = {
            "gateway": gateway,
            "auth": auth,
            "notification": notification,
            "users": users,
            "gig": gig,
            "review": review,
            "chat": chat,
            "order": order,
        }
        # Notification first: its queue must be bound before auth's relay publishes.
        for process in (notification, users, chat, order, auth, gig, review, gateway):
            process.start()
            started.append(process)
            await process.wait_ready(timeout=90)

        await asyncio.sleep(args.idle)
        idle = _snapshot(processes)

        sampler = PeakSampler({name: p.pid for name, p in processes.items() if p.pid is not None})
        async with sampler.sampling():
            load = await run_load(
                gateway.base_url, mail, reads=args.reads, resets=args.resets, concurrency=args.concurrency
            )
            await asyncio.sleep(args.settle)
        after = _snapshot(processes)
        for name, process in processes.items():
            assert process.is_running(), f"{name} died during the load:\n{process.log_tail()}"
        return {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"{platform.machine()} {platform.python_version()}",
            "backend": backend.name,
            "budget_mib": BUDGET_MIB,
            "idle_seconds": args.idle,
            "load": {
                "requests": load.requests,
                "errors": load.errors,
                "error_statuses": {str(code): count for code, count in load.error_statuses.items()},
                "emails_delivered": load.emails,
                "seconds": round(load.seconds, 1),
            },
            "idle": idle,
            "idle_total_rss_mib": round(sum(figures["rss_mib"] for figures in idle.values()), 1),
            "whole_app_budget_mib": WHOLE_APP_BUDGET_MIB,
            "after_load": after,
            "peak_during_load_mib": {name: round(rss / MIB, 1) for name, rss in sampler.peaks.items()},
        }
    finally:
        for process in reversed(started):
            await asyncio.to_thread(process.terminate, 15.0)
        mail.stop()
        backend.close()


def _table(result: dict[str, Any]) -> str:
    lines = [
        "| service | idle RSS MiB | idle / budget | after-load RSS MiB | after-load / budget | peak MiB "
        "| idle USS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in SERVICES:
        idle, after = result["idle"][name], result["after_load"][name]
        lines.append(
            f"| {name} | {idle['rss_mib']} | {idle['ratio_to_budget']} | {after['rss_mib']} | "
            f"{after['ratio_to_budget']} | {result['peak_during_load_mib'].get(name, '-')} "
            f"| {idle['uss_mib']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds to idle before the first sample")
    parser.add_argument("--reads", type=int, default=1500, help="GET me requests through the gateway")
    parser.add_argument("--resets", type=int, default=500, help="forgot-password requests (= emails)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the load before sampling")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(result, indent=2) + "\n")
    print(_table(result))
    print(
        f"total idle RSS of {len(SERVICES)} services: {result['idle_total_rss_mib']} MiB "
        f"(budget {WHOLE_APP_BUDGET_MIB:g})"
    )
    print(json.dumps(result["load"]))
    over = [name for name, figures in result["idle"].items() if figures["ratio_to_budget"] > 1.0]
    if over:
        print(f"idle RSS over the {BUDGET_MIB:g} MiB budget: {', '.join(over)}", file=sys.stderr)
    if result["idle_total_rss_mib"] > WHOLE_APP_BUDGET_MIB:
        print(f"whole-app idle RSS over {WHOLE_APP_BUDGET_MIB:g} MiB", file=sys.stderr)
    if over or result["idle_total_rss_mib"] > WHOLE_APP_BUDGET_MIB:
        sys.exit(1)


if __name__ == "__main__":
    main()
