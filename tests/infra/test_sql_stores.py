"""PostgreSQL and MariaDB fixtures: real queries, and each test gets its own empty database."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncmy
import asyncpg
import pytest

pytestmark = pytest.mark.integration

_seen_databases: dict[str, set[str]] = {"postgres": set(), "mariadb": set()}


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.mark.parametrize("run", [1, 2])
async def test_postgres_database_is_fresh_and_private(postgres_url: str, run: int) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    name = _database_name(postgres_url)
    assert name not in _seen_databases["postgres"]
    _seen_databases["postgres"].add(name)

    conn = await asyncpg.connect(postgres_url.replace("+asyncpg", ""), timeout=10)
    try:
        assert await conn.fetchval("SELECT current_database()") == name
        version = await conn.fetchval("SHOW server_version_num")
        assert int(version) >= 150000
        # A table left by the other run would mean the database is shared.
        assert await conn.fetchval("SELECT to_regclass('public.marker')") is None
        await conn.execute("CREATE TABLE marker (run int)")
        await conn.execute("INSERT INTO marker VALUES ($1)", run)
        assert await conn.fetchval("SELECT run FROM marker") == run
    finally:
        await conn.close()


@pytest.mark.parametrize("run", [1, 2])
async def test_mariadb_database_is_fresh_and_private(mariadb_url: str, run: int) -> None:
    assert mariadb_url.startswith("mysql+asyncmy://")
    parts = urlsplit(mariadb_url)
    name = parts.path.lstrip("/")
    assert name not in _seen_databases["mariadb"]
    _seen_databases["mariadb"].add(name)

    conn = await asyncmy.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        database=name,
        connect_timeout=10,
    )
    try:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT DATABASE(), VERSION()")
            database, version = await cursor.fetchone()
            assert database == name
            assert "MariaDB" in version
            await cursor.execute("SHOW TABLES")
            assert await cursor.fetchall() in ((), [])
            await cursor.execute("CREATE TABLE marker (run INT) ENGINE=InnoDB")
            await cursor.execute("INSERT INTO marker VALUES (%s)", (run,))
            await conn.commit()
            await cursor.execute("SELECT run FROM marker")
            assert await cursor.fetchone() == (run,)
    finally:
        conn.close()
