"""Runs the Alembic migrations programmatically (`python -m order_service migrate`, tests, PreSync hook)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def migrations_directory() -> Path:
    """Where the migration scripts are: inside an installed wheel, or services/order/alembic in a checkout."""
    packaged = _PACKAGE_DIR / "_migrations"
    if packaged.is_dir():
        return packaged
    source_tree = _PACKAGE_DIR.parent.parent / "alembic"
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError(f"order migrations not found in {packaged} or {source_tree}")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    return config


async def upgrade_to_head(database_url: str, *, connect_timeout_seconds: int = 10) -> None:
    """Apply every pending migration (idempotent: a database already at head is left alone)."""
    engine = create_async_engine(database_url, connect_args={"timeout": connect_timeout_seconds})
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
