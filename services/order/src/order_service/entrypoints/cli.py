"""Command line: ``python -m order_service`` serves the API, consumer and scheduler; ``migrate`` upgrades the
schema (also ``order-migrate``; `make up`, tests, the PreSync hook); ``backfill FILE|-`` fills the directory
replica from JSON lines in the payload shape of `auth.account.created.v1` (docs/adr/0015)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from servicekit.http import run_service
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from order_service.adapters.repositories import SqlReplicaStore
from order_service.domain.errors import InvalidOrderRequest
from order_service.service_layer.replication import contact_from_payload
from order_service.settings import OrderSettings

USAGE = "usage: python -m order_service [serve | migrate | backfill FILE|-]"


class StoreSettings(BaseSettings):
    """Only the database: migrating and backfilling need neither the broker nor the token key."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: SecretStr
    database_connect_timeout_seconds: int = 10


def migrate() -> None:
    # Alembic is imported by `migrate` only: the serving process never needs it (idle memory).
    from order_service.adapters.migrations import upgrade_to_head

    settings = StoreSettings()
    asyncio.run(
        upgrade_to_head(
            settings.database_url.get_secret_value(),
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
        )
    )
    print("order schema is at the latest revision", file=sys.stderr)


async def backfill_directory(lines: Iterable[str], database_url: str) -> dict[str, int]:
    """Insert each account not yet known; existing entries are kept (idempotent, safe beside the consumer)."""
    report = {"created": 0, "already_present": 0, "rejected": 0}
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        for line in lines:
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
                contact = contact_from_payload(payload if isinstance(payload, dict) else {})
            except (ValueError, InvalidOrderRequest):
                report["rejected"] += 1
                continue
            async with sessions() as session:
                created = await SqlReplicaStore(session).put_contact(contact)
                await session.commit()
            report["created" if created else "already_present"] += 1
    finally:
        await engine.dispose()
    return report


def backfill(argument: str) -> None:
    settings = StoreSettings()
    url = settings.database_url.get_secret_value()
    if argument == "-":
        report = asyncio.run(backfill_directory(sys.stdin, url))
    else:
        with Path(argument).open(encoding="utf-8") as lines:
            report = asyncio.run(backfill_directory(lines, url))
    print(json.dumps(report))


def serve() -> None:
    run_service("order_service.entrypoints.app:create_app", OrderSettings())


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else "serve"
    if command == "serve" and len(arguments) <= 1:
        serve()
    elif command == "migrate" and len(arguments) == 1:
        migrate()
    elif command == "backfill" and len(arguments) == 2:
        backfill(arguments[1])
    else:
        sys.exit(USAGE)
