"""Everything the handlers need, built once by the composition root (entrypoints/bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from users_service.service_layer.locks import KeyedLocks
from users_service.service_layer.ports import AppliedEventLedger, ProfileRepository
from users_service.service_layer.writes import ProfileWriter


@dataclass
class HandlerDependencies:
    profiles: ProfileRepository
    applied_events: AppliedEventLedger
    clock: Callable[[], datetime]
    random_unit: Callable[[], float]  # uniform in [0, 1)
    locks: KeyedLocks = field(default_factory=KeyedLocks)

    @property
    def writer(self) -> ProfileWriter:
        return ProfileWriter(self.profiles, self.locks)
