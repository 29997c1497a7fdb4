"""The Alembic scripts build exactly the declared schema; the directory backfill is idempotent."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from review_service.adapters.migrations import upgrade_to_head
from review_service.adapters.orm import metadata
from review_service.entrypoints.cli import StoreOnlySettings, run_backfill
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.integration


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_match_the_declared_schema_and_rerun_harmlessly(database_url: str) -> None:
    await upgrade_to_head(database_url)  # the fixture ran it once already: make up and the Job rerun it
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert differences == []
    assert revision == "0002"


async def test_backfill_fills_the_directory_once_and_reports_bad_lines(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = uuid.uuid4()
    export = tmp_path / "accounts.jsonl"
    lines = [
        json.dumps({"user_id": user.hex, "username": "bea", "email": "bea@example.test", "country": "NL"}),
        "",
        json.dumps({"user_id": "u2", "username": "no-email"}),
        "not json",
    ]
    export.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("DATABASE_URL", database_url)
    first = await run_backfill(export, StoreOnlySettings())
    second = await run_backfill(export, StoreOnlySettings())
    assert (first.written, first.rejected_lines) == (1, [3, 4])
    assert second.written == 1
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT user_id, email FROM directory"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(str(user), "bea@example.test")]
