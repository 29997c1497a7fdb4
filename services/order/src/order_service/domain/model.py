"""The item aggregate; replace it with the service's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from order_service.domain.errors import InvalidItem

TITLE_MAX_LENGTH = 100


@dataclass
class Item:
    owner_id: str
    title: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        if not self.title.strip() or len(self.title) > TITLE_MAX_LENGTH:
            raise InvalidItem(f"title must be 1 to {TITLE_MAX_LENGTH} characters")
