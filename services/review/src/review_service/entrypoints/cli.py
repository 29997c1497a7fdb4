"""Command line: ``python -m review_service`` serves the API and consumers; ``migrate`` upgrades the schema
(`make up`, tests, the Kubernetes migration Job); ``backfill FILE`` (``-`` for stdin) fills the directory
from an account export (docs/adr/0021-review-service.md)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from servicekit.http import run_service
from servicekit.logging import configure_logging
from sqlalchemy.ext.asyncio import create_async_engine

from review_service.adapters.migrations import upgrade_to_head
from review_service.entrypoints.backfill import BackfillReport, backfill_directory
from review_service.entrypoints.bootstrap import new_uow_factory
from review_service.settings import ReviewSettings

USAGE = "usage: python -m review_service [serve | migrate | backfill FILE|-]"


class StoreOnlySettings(BaseSettings):
    """Only the database: migrating and backfilling need neither the broker nor the token key."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: SecretStr
    database_connect_timeout_seconds: int = 10
    log_level: str = "INFO"


def migrate() -> None:
    settings = StoreOnlySettings()
    asyncio.run(
        upgrade_to_head(
            settings.database_url.get_secret_value(),
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
        )
    )
    print("review schema is at the latest revision", file=sys.stderr)


async def run_backfill(source: Path | None, settings: StoreOnlySettings) -> BackfillReport:
    engine = create_async_engine(
        settings.database_url.get_secret_value(),
        connect_args={"timeout": settings.database_connect_timeout_seconds},
    )
    try:
        new_uow = new_uow_factory(engine)
        if source is None:
            return await backfill_directory(sys.stdin, new_uow)
        with source.open(encoding="utf-8") as lines:
            return await backfill_directory(lines, new_uow)
    finally:
        await engine.dispose()


def backfill(argument: str) -> None:
    settings = StoreOnlySettings()
    configure_logging("review", settings.log_level)
    report = asyncio.run(run_backfill(None if argument == "-" else Path(argument), settings))
    print(report.as_json())
    if report.rejected_lines:
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else "serve"
    if command == "serve" and len(arguments) <= 1:
        run_service("review_service.entrypoints.app:create_app", ReviewSettings())
    elif command == "migrate" and len(arguments) == 1:
        migrate()
    elif command == "backfill" and len(arguments) == 2:
        backfill(arguments[1])
    else:
        sys.exit(USAGE)
