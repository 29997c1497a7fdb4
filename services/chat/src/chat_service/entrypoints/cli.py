"""Command line: ``python -m chat_service`` serves the API and workers; ``... backfill FILE``
(``-`` for stdin) fills the directory replica from an account export (JSON lines in the payload shape of
`auth.account.created.v1`, as users' backfill; docs/adr/0015)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from servicekit.http import run_service
from servicekit.logging import configure_logging
from servicekit.mongo import create_mongo_client

from chat_service.adapters.directory import MongoDirectory
from chat_service.adapters.repositories import ensure_indexes
from chat_service.domain.directory import InvalidAccount, entry_from_payload
from chat_service.service_layer.directory import record_account
from chat_service.service_layer.unit_of_work import Directory
from chat_service.settings import ChatSettings

USAGE = "usage: python -m chat_service [serve | backfill FILE|-]"
logger = logging.getLogger(__name__)


class BackfillSettings(BaseSettings):
    """Only the store: a backfill job needs neither the broker nor the token key."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mongodb_url: SecretStr
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"


@dataclass
class BackfillReport:
    added: int = 0
    refreshed: int = 0
    rejected_lines: list[int] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(
            {
                "added": self.added,
                "refreshed": self.refreshed,
                "rejected": len(self.rejected_lines),
                "rejected_lines": self.rejected_lines[:100],
            }
        )


async def backfill_directory(lines: Iterable[str], directory: Directory) -> BackfillReport:
    """The consumer's own idempotent write per line: safe to run twice or while the consumer runs."""
    report = BackfillReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
            if not isinstance(payload, dict):
                raise InvalidAccount("a line must hold one JSON object")
            entry = entry_from_payload(payload)
        except (ValueError, InvalidAccount) as error:
            # The reason, never the line: it holds personal data.
            logger.warning("backfill line %d rejected: %s", number, getattr(error, "message", error))
            report.rejected_lines.append(number)
            continue
        if await record_account(entry, directory):
            report.added += 1
        else:
            report.refreshed += 1
    return report


async def run_backfill(source: Path | None, settings: BackfillSettings) -> BackfillReport:
    client = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    try:
        database = client.get_default_database()
        await ensure_indexes(database)
        directory = MongoDirectory(database)
        if source is None:
            return await backfill_directory(sys.stdin, directory)
        with source.open(encoding="utf-8") as lines:
            return await backfill_directory(lines, directory)
    finally:
        await client.close()


def backfill(argument: str) -> None:
    settings = BackfillSettings()
    configure_logging("chat", settings.log_level)
    report = asyncio.run(run_backfill(None if argument == "-" else Path(argument), settings))
    print(report.as_json())
    if report.rejected_lines:
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else "serve"
    if command == "serve" and len(arguments) <= 1:
        run_service("chat_service.entrypoints.app:create_app", ChatSettings())
    elif command == "backfill" and len(arguments) == 2:
        backfill(arguments[1])
    else:
        sys.exit(USAGE)
