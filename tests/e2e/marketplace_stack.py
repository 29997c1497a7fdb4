"""A whole-marketplace stack (every service) with namespaces of its own, for suites that keep one stack for a
module (the journeys): the function-scoped URL fixtures of ``gigstack_testinfra`` cannot serve a module, so
this creates and removes the databases, vhost, index prefix and bucket itself on the session's servers."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from gigstack_testinfra import isolation, object_store
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher
from stack import GigstackStack, running_stack


def _quietly(what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as error:  # the session's servers are thrown away anyway
        warnings.warn(f"could not remove {what}: {error!r}", stacklevel=2)


def _clean_up(cleanups: list[tuple[str, Callable[[], None]]]) -> None:
    for what, action in reversed(cleanups):
        _quietly(what, action)


@asynccontextmanager
async def marketplace_stack(
    backend: Backend,
    mail: MailCatcher,
    internal_keypair: tuple[str, str],
    log_dir: Path,
    *,
    order_env: Mapping[str, str] | None = None,
    chat_env: Mapping[str, str] | None = None,
    gateway_env: Mapping[str, str] | None = None,
    notification_env: Mapping[str, str] | None = None,
    with_mongo_and_search: bool = True,
    with_order: bool = True,
    with_chat: bool = True,
    redis_databases: isolation.RedisDatabaseAllocator | None = None,
) -> AsyncIterator[GigstackStack]:
    """Every service by default. A suite that needs fewer says so, and only what they use is created:
    without `with_mongo_and_search` neither users, gig nor chat run; without `with_order` no order."""
    if with_chat and not with_mongo_and_search:
        raise ValueError("chat needs MongoDB: with_chat requires with_mongo_and_search")
    name = isolation.unique_name("journey")
    cleanups: list[tuple[str, Callable[[], None]]] = []
    with contextlib.ExitStack() as undo:
        undo.callback(_clean_up, cleanups)
        mariadb, postgres = backend.mariadb(), backend.postgres()
        isolation.create_mariadb_database(mariadb, name)
        cleanups.append(("mariadb database", lambda: isolation.drop_mariadb_database(mariadb, name)))
        for database in (f"{name}_review", f"{name}_order") if with_order else (f"{name}_review",):
            isolation.create_postgres_database(postgres, database)
            cleanups.append(
                ("postgres database", lambda db=database: isolation.drop_postgres_database(postgres, db))  # type: ignore[misc]
            )
        broker = backend.rabbitmq().endpoint
        isolation.create_vhost(broker, name)
        cleanups.append(("vhost", lambda: isolation.delete_vhost(broker, name)))
        mongodb_url = search_url = None
        if with_mongo_and_search:
            mongo, search = backend.mongodb(), backend.opensearch()
            mongodb_url, search_url = mongo.url(name), search.url
            cleanups.append(("mongo database", lambda: isolation.drop_mongo_database(mongo, name)))
            cleanups.append(("indices", lambda: isolation.delete_indices_with_prefix(search, f"{name}_")))
        store = backend.object_store()
        bucket = object_store.unique_bucket_name()
        object_store.create_bucket(store, bucket)
        cleanups.append(("bucket", lambda: object_store.delete_bucket(store, bucket)))
        # The session's allocator when given: a second allocator would start at db 1 again and hand out, and
        # flush, a db another stack or test still uses.
        redis = redis_databases or isolation.RedisDatabaseAllocator(backend.redis())
        mail.start()
        mail.clear()
        async with running_stack(
            mariadb_url=mariadb.url(name),
            review_database_url=postgres.url(f"{name}_review"),
            order_database_url=postgres.url(f"{name}_order") if with_order else None,
            redis_url=redis.endpoint.url(redis.allocate()),
            amqp_url=broker.url(name),
            mongodb_url=mongodb_url,
            mail_catcher=mail,
            internal_keypair=internal_keypair,
            log_dir=log_dir,
            search_url=search_url,
            search_index_alias=f"{name}_gigs",
            object_store=object_store.ObjectStoreBucket(store, bucket),
            order_env=order_env,
            with_chat=with_chat,
            chat_env=chat_env,
            gateway_env=gateway_env,
            notification_env=notification_env,
        ) as stack:
            yield stack
