"""For gig's integration tests of store writes: PyMongo command monitoring (what a unit of work sends, counted
per command) and a gig as the API serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from conftest import GigApi
from gig_service.adapters.unit_of_work import GigUnitOfWork
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent


class Commands(CommandListener):
    """Every command sent, as (name, collection, statements in it)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, int]] = []

    def started(self, event: CommandStartedEvent) -> None:
        name = event.command_name
        statements = sum(len(event.command.get(key, [])) for key in ("updates", "documents", "deletes"))
        self.seen.append((name, event.command.get(name), statements))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def writes(self, collection: str) -> list[tuple[str, int]]:
        return [(name, n) for name, target, n in self.seen if target == collection and name != "find"]

    def updated(self, collection: str) -> int:
        """How many documents the update commands sent to `collection` carried."""
        return sum(n for name, n in self.writes(collection) if name == "update")


@asynccontextmanager
async def monitored_uow(mongodb_url: str) -> AsyncIterator[tuple[Any, Commands]]:
    """A factory of gig units of work on a client of their own, and the commands it sends."""
    commands = Commands()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[commands])
    try:
        database = client.get_default_database()
        yield (lambda: GigUnitOfWork(database)), commands
    finally:
        await client.close()


async def stored(api: GigApi, gig_id: str) -> dict[str, Any]:
    """The gig as `gigs.byId` serves it now."""
    response = await api.client.get(f"/api/v1/gigs/{gig_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
