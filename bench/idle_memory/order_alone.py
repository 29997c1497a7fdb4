"""Idle RSS of the order service alone (its PostgreSQL and RabbitMQ only), for its Deployment's requests.

The full-stack run (run.py) measures every service together; this one starts only what order needs through
``gigstack_testinfra``, migrates, runs ``python -m order_service`` as a real process (scheduler, consumer
and outbox relay included), lets it idle and reads its resident set (psutil, process plus children)::

    uv run python bench/idle_memory/order_alone.py --idle 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.net import free_port
from gigstack_testinfra.processes import ServiceProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import tree_memory


async def measure(idle_seconds: float) -> dict[str, float]:
    backend = choose_backend()
    postgres = backend.postgres()
    database = isolation.unique_name("bench")
    isolation.create_postgres_database(postgres, database)
    broker = backend.rabbitmq().endpoint
    vhost = isolation.unique_name("bench")
    isolation.create_vhost(broker, vhost)
    _, public_pem = generate_ed25519_pem_pair()
    env = {"DATABASE_URL": postgres.url(database), "PATH": "/usr/bin:/bin"}
    migrate = await asyncio.create_subprocess_exec(sys.executable, "-m", "order_service", "migrate", env=env)
    if await asyncio.wait_for(migrate.wait(), timeout=180) != 0:
        raise RuntimeError("order migration failed")
    port = free_port()
    process = ServiceProcess(
        "order",
        [sys.executable, "-m", "order_service"],
        {
            **env,
            "PORT": str(port),
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "AMQP_URL": broker.url(vhost),
            "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
            "PAYMENT_WEBHOOK_SECRET": "whsec_bench_0123456789abcdef",
            # Delivery files are checked in the object store; nothing connects to it while idle.
            "OBJECT_STORE_BUCKET": "bench-idle-memory",
            "OBJECT_STORE_ENDPOINT": "http://127.0.0.1:9",
        },
        port,
        Path(tempfile.mkdtemp(prefix="gigstack-order-idle-")) / "order.log",
    )
    process.start()
    try:
        await process.wait_ready(timeout=90)
        await asyncio.sleep(idle_seconds)
        assert process.pid is not None
        memory = tree_memory(process.pid)
        return {"rss_mib": round(memory.rss_mib, 1), "uss_mib": round(memory.uss_mib, 1)}
    finally:
        process.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle", type=float, default=20.0)
    print(json.dumps(asyncio.run(measure(parser.parse_args().idle))))


if __name__ == "__main__":
    main()
