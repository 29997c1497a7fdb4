"""Media keys and the rules of each area: `<area>/<owner user id>/<object name>` (docs/contracts.md).

Standard library only, so any layer may import it. The owner part is what makes a key the uploader's: a
service accepting a key compares it with the caller before it asks the store whether the object exists.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from servicekit.domain_errors import DomainError

__all__ = [
    "AREA_RULES",
    "AreaRule",
    "InvalidMediaKey",
    "MediaArea",
    "MediaKey",
]

OWNER = r"[A-Za-z0-9_-]{1,128}"
OBJECT_NAME = r"[A-Za-z0-9._-]{1,200}"
_KEY = re.compile(rf"^(?P<area>[a-z]+)/(?P<owner>{OWNER})/(?P<name>{OBJECT_NAME})$")
_OWNER = re.compile(rf"^{OWNER}$")
MIB = 1024 * 1024


class MediaArea(StrEnum):
    GIGS = "gigs"  # gig covers
    CHAT = "chat"  # files sent in chat
    DELIVERIES = "deliveries"  # order deliveries


@dataclass(frozen=True)
class AreaRule:
    """What an area accepts: at most `max_bytes`, one of `content_types` (extension used in new names)."""

    max_bytes: int
    content_types: dict[str, str]

    def allows(self, content_type: str) -> bool:
        return content_type in self.content_types


_IMAGES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_DOCUMENTS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/zip": "zip",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
}

AREA_RULES: dict[MediaArea, AreaRule] = {
    MediaArea.GIGS: AreaRule(max_bytes=5 * MIB, content_types=dict(_IMAGES)),
    MediaArea.CHAT: AreaRule(max_bytes=25 * MIB, content_types={**_IMAGES, **_DOCUMENTS}),
    MediaArea.DELIVERIES: AreaRule(max_bytes=100 * MIB, content_types={**_IMAGES, **_DOCUMENTS}),
}


class InvalidMediaKey(DomainError):  # noqa: N818 - names the outcome, like servicekit's other refusals
    code = "invalid_media_key"
    default_message = "Not a media key: expected <area>/<owner id>/<object name>"


@dataclass(frozen=True)
class MediaKey:
    area: MediaArea
    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.area.value}/{self.owner}/{self.name}"

    @property
    def rule(self) -> AreaRule:
        return AREA_RULES[self.area]

    @classmethod
    def parse(cls, text: str) -> MediaKey:
        match = _KEY.match(text)
        if match is None or match["area"] not in MediaArea.__members__.values():
            raise InvalidMediaKey()
        return cls(MediaArea(match["area"]), match["owner"], match["name"])

    @classmethod
    def new(cls, area: MediaArea, owner: str, content_type: str) -> MediaKey:
        """A fresh, unguessable name under `owner`: uploads never overwrite each other."""
        if not _OWNER.match(owner):
            raise InvalidMediaKey("The owner id cannot be part of a media key")
        extension = AREA_RULES[area].content_types.get(content_type, "bin")
        return cls(area, owner, f"{uuid.uuid4().hex}.{extension}")
