"""PyMongo's async client (Motor is deprecated) with the timeouts and codecs every service wants."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient


def create_mongo_client(url: str, *, timeout_seconds: float = 5.0, **options: Any) -> AsyncMongoClient[Any]:
    """A client for `url`; connects lazily, on first use.

    `timeoutMS` bounds every operation (server selection, connect, each command); datetimes come back
    timezone-aware (UTC) and UUIDs are stored as standard BSON UUIDs, the same on every target store.
    """
    milliseconds = int(timeout_seconds * 1000)
    return AsyncMongoClient(
        url,
        timeoutMS=milliseconds,
        serverSelectionTimeoutMS=milliseconds,
        connectTimeoutMS=milliseconds,
        tz_aware=True,
        uuidRepresentation="standard",
        **options,
    )
