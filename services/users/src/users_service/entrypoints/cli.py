"""Command line: ``python -m users_service`` serves the API and consumer; ``python -m users_service backfill
FILE`` (``-`` for stdin) creates missing profiles from an account export (docs/adr/0015)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from servicekit.http import run_service
from servicekit.logging import configure_logging
from servicekit.mongo import create_mongo_client

from users_service.adapters.profiles import MongoProfileReader
from users_service.entrypoints.backfill import BackfillReport, backfill_profiles
from users_service.entrypoints.bootstrap import database_of, handler_dependencies
from users_service.settings import UsersSettings

USAGE = "usage: python -m users_service [serve | backfill FILE|-]"


class BackfillSettings(BaseSettings):
    """Only the store: a backfill job needs neither the broker nor the token key."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mongodb_url: SecretStr
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0)
    mongo_write_claims: bool = True  # as the service's MONGO_WRITE_CLAIMS (settings.py)
    log_level: str = "INFO"


async def run_backfill(source: Path | None, settings: BackfillSettings) -> BackfillReport:
    client = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    try:
        database = database_of(client)
        await MongoProfileReader(database).ensure_indexes()
        deps = handler_dependencies(
            database,
            store_timeout_seconds=settings.mongodb_timeout_seconds,
            write_claims=settings.mongo_write_claims,
        )
        if source is None:
            return await backfill_profiles(sys.stdin, deps)
        with source.open(encoding="utf-8") as lines:
            return await backfill_profiles(lines, deps)
    finally:
        await client.close()


def backfill(argument: str) -> None:
    settings = BackfillSettings()
    configure_logging("users", settings.log_level)
    report = asyncio.run(run_backfill(None if argument == "-" else Path(argument), settings))
    print(report.as_json())
    if report.rejected_lines:
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else "serve"
    if command == "serve" and len(arguments) <= 1:
        run_service("users_service.entrypoints.app:create_app", UsersSettings())
    elif command == "backfill" and len(arguments) == 2:
        backfill(arguments[1])
    else:
        sys.exit(USAGE)
