"""The directory replica's one write: record an account (from the event or a backfill line), idempotently."""

from __future__ import annotations

from chat_service.domain.directory import DirectoryEntry
from chat_service.service_layer.unit_of_work import Directory


async def record_account(entry: DirectoryEntry, directory: Directory) -> bool:
    """True when the account was new to the replica; a repeat refreshes the same values."""
    return await directory.put(entry)
