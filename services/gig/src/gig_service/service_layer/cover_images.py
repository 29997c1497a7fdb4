"""The port handlers use to accept a cover: an object the seller uploaded, within the area's rules."""

from __future__ import annotations

from typing import Protocol


class CoverImages(Protocol):
    async def ensure_usable(self, key: str, seller_id: str) -> None:
        """Return if `key` is the seller's uploaded, rule-abiding image; raise a media refusal otherwise."""
        ...
