"""The object-store port: what services need from S3 or an S3-compatible store, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["ObjectStore", "ObjectStoreUnavailable", "PresignedPost", "StoredObject"]


class ObjectStoreUnavailable(Exception):  # noqa: N818 - an outage, answered 503 by the services' tables
    """The store did not answer in time, or answered with a server error, after the retries."""


@dataclass(frozen=True)
class PresignedPost:
    """A browser form: POST `fields` plus the file (last, named `file`) as multipart/form-data to `url`."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str


class ObjectStore(Protocol):
    async def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in_seconds: int
    ) -> PresignedPost:
        """A form that may create `key` only, with exactly `content_type` and 1 to `max_bytes` bytes."""
        ...

    async def stat(self, key: str) -> StoredObject | None:
        """The object's size and type, or None when there is no such object."""
        ...

    async def close(self) -> None: ...
