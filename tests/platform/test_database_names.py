"""Relational database names are not reserved words, asked of a real PostgreSQL (RDS refuses a reserved
DBName such as `order` when the instance is created, which mocks never show)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from gigstack_platform.catalog import StoreKind, services_owning
from gigstack_platform.service_settings import relational_database


async def reserved_keywords(url: str) -> set[str]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch("SELECT word FROM pg_get_keywords() WHERE catcode = 'R'")
    finally:
        await connection.close()
    return {row["word"] for row in rows}


def relational_names() -> set[str]:
    services = [*services_owning(StoreKind.POSTGRES), *services_owning(StoreKind.MYSQL)]
    return {relational_database(service) for service in services}


def test_database_names_are_not_reserved_words(postgres_url: str) -> None:
    # A private loop: asyncio.run would unset the current loop the Pulumi mocks of later tests use.
    loop = asyncio.new_event_loop()
    try:
        reserved = loop.run_until_complete(reserved_keywords(postgres_url))
    finally:
        loop.close()
    assert "order" in reserved, "the planted defect: the bare service name is reserved"
    assert relational_names() & reserved == set()


def test_rds_and_in_cluster_databases_use_the_same_names(build_stack: Any) -> None:
    eks = build_stack("eks")
    db_names = {r.inputs["dbName"] for r in eks.of_type("aws:rds/instance:Instance")}
    assert db_names == relational_names()
