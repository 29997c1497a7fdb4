"""Gig service settings (environment variables, no prefix); built in bootstrap and tests only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from servicekit.media import ObjectStoreSettings
from servicekit.settings import ServiceSettings


class GigSettings(ServiceSettings, ObjectStoreSettings):
    """The OBJECT_STORE_* fields come from ObjectStoreSettings: media uploads and the cover check."""

    service_name: str = "gig"
    mongodb_url: SecretStr = Field(description="mongodb://user:pass@host:27017/gig")
    amqp_url: SecretStr = Field(description="amqp://user:pass@host:5672/vhost")
    search_url: SecretStr = Field(description="https://user:pass@host:9200 (OpenSearch or Elasticsearch)")
    # Which adapter of the search port talks to SEARCH_URL: OpenSearch (local, Amazon OpenSearch on eks) or
    # Elasticsearch 8 (ECK on minikube). The index design is the same (ADR 0016, 0018).
    search_engine: Literal["opensearch", "elasticsearch"] = "opensearch"
    search_index_alias: str = Field(default="gigs", pattern=r"^[a-z0-9_]{1,100}$")
    mongodb_timeout_seconds: float = Field(default=5.0, gt=0)
    search_timeout_seconds: float = Field(default=5.0, gt=0)
    consumer_prefetch: int = Field(default=16, ge=1, le=500)
    # How often the outbox relay also scans for outboxes without the `_outbox_pending` flag
    # (servicekit.events.mongo): an unindexable filter, ~0.3 s per pass and collection at 10,000 documents on
    # FerretDB (bench/outbox_full_scan), a collection scan on DocumentDB. It catches outboxes staged without
    # the flag (documents from before it, or written without version and claims); the flag is otherwise
    # exact (on FerretDB because the relay takes the writers' claims) and the eks and minikube overlays set an
    # hour. The
    # first batch after start always scans.
    outbox_full_scan_interval_seconds: float = Field(default=30.0, gt=0, le=86400)
    # FerretDB v1 needs write claims for conditional updates to be atomic; MongoDB/DocumentDB do not.
    mongo_write_claims: bool = True
