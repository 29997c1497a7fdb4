"""Everything the handlers need, built once by the composition root (entrypoints/bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from servicekit.locks import KeyedLocks

from users_service.service_layer.ports import AppliedEventLedger, ProfileReader
from users_service.service_layer.writes import ProfileWriter, UnitOfWorkFactory


@dataclass
class HandlerDependencies:
    profiles: ProfileReader
    uow_factory: UnitOfWorkFactory
    applied_events: AppliedEventLedger
    clock: Callable[[], datetime]
    random_unit: Callable[[], float]  # uniform in [0, 1)
    write_budget_seconds: float = 8.0
    locks: KeyedLocks = field(default_factory=KeyedLocks)

    @property
    def writer(self) -> ProfileWriter:
        return ProfileWriter(self.uow_factory, self.locks, budget_seconds=self.write_budget_seconds)
