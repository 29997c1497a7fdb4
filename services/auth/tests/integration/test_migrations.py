"""The Alembic scripts build exactly the schema the code declares, and re-running them is harmless."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from auth_service.adapters.migrations import upgrade_to_head
from auth_service.adapters.orm import metadata
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.integration


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_match_the_declared_schema(mariadb_url: str) -> None:
    await upgrade_to_head(mariadb_url)
    await upgrade_to_head(mariadb_url)  # idempotent: make up and the PreSync hook run it on every deploy

    engine = create_async_engine(mariadb_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()

    assert differences == []
    assert {"accounts", "known_devices", "otp_challenges", "account_tokens"} <= tables
    assert {"outbox_events", "processed_events"} <= tables
    assert revision == "0002"


async def test_tables_store_full_unicode_even_on_a_latin1_database(mariadb_url: str) -> None:
    """A default RDS MySQL parameter group creates latin1 databases; emoji in a profile field must not 500."""
    engine = create_async_engine(mariadb_url)
    try:
        async with engine.begin() as connection:
            database = (await connection.execute(text("SELECT DATABASE()"))).scalar_one()
            await connection.execute(text(f"ALTER DATABASE `{database}` CHARACTER SET latin1"))
        await upgrade_to_head(mariadb_url)
        async with engine.connect() as connection:
            charsets = (
                await connection.execute(
                    text(
                        "SELECT DISTINCT CCSA.character_set_name FROM information_schema.TABLES T"
                        " JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA"
                        " ON CCSA.collation_name = T.table_collation WHERE T.table_schema = :db"
                        " AND T.table_name != 'alembic_version'"  # Alembic's own ASCII bookkeeping
                    ),
                    {"db": database},
                )
            ).scalars()
            assert set(charsets) == {"utf8mb4"}
    finally:
        await engine.dispose()
