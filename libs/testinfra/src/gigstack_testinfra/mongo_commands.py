"""The `find` filters a MongoDB client sends, captured through PyMongo's command monitoring.

Tests that check how a store serves the reads the code really sends (FerretDB's pushdown, an index scan)
explain the captured filters instead of a hand-written copy of the query.
"""

from __future__ import annotations

from typing import Any

from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

__all__ = ["FindFilters"]


class FindFilters(CommandListener):
    """Pass as `AsyncMongoClient(url, event_listeners=[finds])`; `of(name)` lists one collection's filters."""

    def __init__(self) -> None:
        self.filters: list[tuple[str, dict[str, Any]]] = []

    def of(self, collection: str) -> list[dict[str, Any]]:
        return [query for name, query in self.filters if name == collection]

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.filters.append((event.command["find"], dict(event.command.get("filter", {}))))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass
