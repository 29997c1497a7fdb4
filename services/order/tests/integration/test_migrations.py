"""The Alembic scripts create exactly the ORM's schema, run twice harmlessly, and downgrade cleanly."""

from __future__ import annotations

from alembic import command
from order_service.adapters.migrations import alembic_config, upgrade_to_head
from order_service.adapters.orm import metadata
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


async def test_upgrade_is_idempotent_and_matches_the_orm(postgres_url: str) -> None:
    await upgrade_to_head(postgres_url)
    await upgrade_to_head(postgres_url)
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert set(metadata.tables) <= tables

        def downgrade(sync: Connection) -> set[str]:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.downgrade(config, "base")
            return set(inspect(sync).get_table_names())

        async with engine.begin() as connection:
            remaining = await connection.run_sync(downgrade)
        assert remaining <= {"alembic_version"}
    finally:
        await engine.dispose()
    await upgrade_to_head(postgres_url)
