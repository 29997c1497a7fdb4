"""The whole marketplace as real processes for the benchmarks that need all of it (startup, load).

Starts the stores through ``gigstack_testinfra`` (local processes, or containers when Docker answers):
MariaDB, PostgreSQL (review's and order's databases), Redis, RabbitMQ, FerretDB, OpenSearch, the S3 object
store (a bucket of its own) and an SMTP catcher, then all eight services with the e2e suite's
``running_stack`` (tests/e2e/stack.py): the benchmarks run exactly what the cross-service tests run.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gigstack_testinfra import isolation, object_store
from gigstack_testinfra.backends import choose_backend
from gigstack_testinfra.backends.local import LocalBackend
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.mail import MailCatcher

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))

from stack import GigstackStack, running_stack  # noqa: E402 - the e2e suite's module, found through sys.path

__all__ = ["HASHING_COSTS", "GigstackStack", "whole_app"]

HASHING_COSTS = ("production", "fast-for-tests")  # auth's HASHING_COST values


@asynccontextmanager
async def whole_app(
    *,
    log_level: str = "INFO",
    gateway_env: Mapping[str, str] | None = None,
    order_env: Mapping[str, str] | None = None,
    hashing_cost: str = "production",
) -> AsyncIterator[tuple[GigstackStack, dict[str, Any]]]:
    """Yield the running stack and what the benchmark may want to inspect (broker endpoint and vhost)."""
    if hashing_cost not in HASHING_COSTS:
        raise ValueError(f"hashing_cost must be one of {HASHING_COSTS}, got {hashing_cost!r}")
    backend = choose_backend()
    mail = MailCatcher.for_tests()
    log_dir = Path(tempfile.mkdtemp(prefix="gigstack-bench-"))
    try:
        mail.start()
        mariadb = backend.mariadb()
        database = isolation.unique_name("bench")
        isolation.create_mariadb_database(mariadb, database)
        broker = backend.rabbitmq().endpoint
        vhost = isolation.unique_name("bench")
        isolation.create_vhost(broker, vhost)
        redis = backend.redis()
        allocator = isolation.RedisDatabaseAllocator(redis)
        mongodb = backend.mongodb()
        search = backend.opensearch()
        postgres = backend.postgres()
        review_database, order_database = isolation.unique_name("bench"), isolation.unique_name("bench")
        isolation.create_postgres_database(postgres, review_database)
        isolation.create_postgres_database(postgres, order_database)
        store = backend.object_store()
        bucket = object_store.unique_bucket_name()
        object_store.create_bucket(store, bucket)
        level = {"LOG_LEVEL": log_level}
        async with running_stack(
            mariadb_url=mariadb.url(database),
            redis_url=redis.url(allocator.allocate()),
            amqp_url=broker.url(vhost),
            mail_catcher=mail,
            internal_keypair=generate_ed25519_pem_pair(),
            log_dir=log_dir,
            gateway_env={**level, "REFRESH_REUSE_GRACE_SECONDS": "5", **(gateway_env or {})},
            # Production password hashing unless asked: the e2e stack lowers it for tests
            # (HASHING_COST=fast-for-tests), which makes signups ~300x cheaper and raises every rate the
            # benchmarks report; a benchmark asks for it only to find what bounds the rest (auth scaled out).
            auth_env={**level, "HASHING_COST": hashing_cost},
            notification_env=level,
            gig_env=level,
            mongodb_url=mongodb.url(database),
            search_url=search.url,
            search_index_alias=f"{database}_gigs",
            object_store=object_store.ObjectStoreBucket(store, bucket),
            review_database_url=postgres.url(review_database),
            order_database_url=postgres.url(order_database),
            order_env={**level, **(order_env or {})},
            with_chat=True,
            chat_env=level,
        ) as stack:
            yield (
                stack,
                {
                    "broker": broker,
                    "vhost": vhost,
                    "log_dir": log_dir,
                    # FerretDB's server object (local backend only): its backing PostgreSQL's URL and log.
                    "ferretdb": backend.ferretdb_server() if isinstance(backend, LocalBackend) else None,
                    # A Redis database of its own for a web client started beside the stack (the storefront).
                    "spare_redis_url": redis.url(allocator.allocate()),
                },
            )
    finally:
        mail.stop()
        backend.close()
