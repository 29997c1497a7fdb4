"""Field names, indexes and filters of the Mongo outbox kept inside aggregate documents.

`servicekit.events.mongo` (staging and the relay) re-exports every name; a module of its own so that the
relay's document writes (`servicekit.events.mongo_document_writes`) share them without importing the relay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OUTBOX_FIELD = "_outbox"
# Top-level, indexed: "this document's outbox may hold entries". Set by every staging write, cleared by the
# relay once the outbox is empty. Never part of an aggregate: read projections exclude it with the outbox.
OUTBOX_PENDING_FIELD = "_outbox_pending"
OUTBOX_PENDING_INDEX = "outbox_pending"
PROCESSED_EVENTS_COLLECTION = "processed_events"
# The full (unindexable) test for staged entries: the relay's safety-net scan, and what the flag stands for.
PENDING_FILTER_KEY = f"{OUTBOX_FIELD}.0"
PENDING_FILTER: Mapping[str, Any] = {PENDING_FILTER_KEY: {"$exists": True}}
# The relay's regular poll: an equality on an indexed scalar, served by an index on every target.
FLAGGED_FILTER: Mapping[str, Any] = {OUTBOX_PENDING_FIELD: True}
# Failed publications per entry id ({"<event id>": n}), counted only while the broker is reachable; an
# entry is moved to `_outbox_parked` ({"entry", "attempts", "last_error", "parked_at"}) after
# `park_after_attempts` of them.
OUTBOX_ATTEMPTS_FIELD = "_outbox_attempts"
OUTBOX_PARKED_FIELD = "_outbox_parked"
# Top-level, indexed: "this document holds parked entries" (what the parked gauge counts, without a scan).
OUTBOX_HAS_PARKED_FIELD = "_outbox_has_parked"
OUTBOX_PARKED_INDEX = "outbox_parked"
PARKED_FILTER: Mapping[str, Any] = {OUTBOX_HAS_PARKED_FIELD: True}
# For reads of aggregate documents: neither the staged events nor their bookkeeping belong to the aggregate.
OUTBOX_EXCLUDED: Mapping[str, Any] = {
    OUTBOX_FIELD: 0,
    OUTBOX_PENDING_FIELD: 0,
    OUTBOX_ATTEMPTS_FIELD: 0,
    OUTBOX_PARKED_FIELD: 0,
    OUTBOX_HAS_PARKED_FIELD: 0,
}
