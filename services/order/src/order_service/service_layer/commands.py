"""Commands: imperative, one handler each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CreateItem:
    owner_id: str
    title: str
