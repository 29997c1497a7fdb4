"""Command line: ``python -m auth_service`` serves the API, ``python -m auth_service migrate`` upgrades the
schema (also installed as ``auth-migrate``; used by `make up`, tests and the Kubernetes PreSync hook)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from servicekit.http import run_service

from auth_service.settings import AuthSettings

USAGE = "usage: python -m auth_service [serve | migrate]"


class MigrationSettings(BaseSettings):
    """Only what migrating needs, so the PreSync job does not need the broker or the token key."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: SecretStr
    database_connect_timeout_seconds: int = 10


def migrate() -> None:
    # Imported here: Alembic was about a third of the service's import time, and serving never needs it
    # (bench/startup, docs/benchmarks.md).
    from auth_service.adapters.migrations import upgrade_to_head

    settings = MigrationSettings()
    asyncio.run(
        upgrade_to_head(
            settings.database_url.get_secret_value(),
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
        )
    )
    print("auth schema is at the latest revision", file=sys.stderr)


def serve() -> None:
    run_service("auth_service.entrypoints.app:create_app", AuthSettings())


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else "serve"
    if command == "serve" and len(arguments) <= 1:
        serve()
    elif command == "migrate" and len(arguments) == 1:
        migrate()
    else:
        sys.exit(USAGE)
