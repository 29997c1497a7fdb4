"""Integration events the service publishes; it owns their payload schemas (docs/contracts.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ItemCreated:
    type: ClassVar[str] = "order.item.created.v1"
    item_id: str
    owner_id: str
    title: str

    def payload(self) -> dict[str, Any]:
        return asdict(self)
