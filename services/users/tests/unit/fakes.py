"""In-memory fakes of the users service's own ports (service_layer/ports.py), with failure injection."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from users_service.domain.profile import Account, Profile
from users_service.domain.seller import Language, LanguageLevel, SellerDetails
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.service_layer.ports import ConcurrentUpdateError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class CrashError(Exception):
    """Stands for the process dying at an injected point."""


class FakeProfileRepository:
    """Stores profiles by user id with the same version guard as the Mongo adapter.

    `before_write` runs just before each write, so a test can slip in a competing write (another replica).
    """

    def __init__(self) -> None:
        self.stored: dict[str, Profile] = {}
        self.before_write: Callable[[Profile], None] | None = None
        self.writes = 0

    async def get(self, user_id: str) -> Profile | None:
        return self.stored.get(user_id)

    async def by_username(self, username: str) -> Profile | None:
        for profile in self.stored.values():
            if profile.account is not None and profile.account.username == username:
                return profile
        return None

    async def add(self, profile: Profile) -> Profile:
        self._before(profile)
        if profile.user_id in self.stored:
            raise ConcurrentUpdateError(profile.user_id)
        return self._put(profile, 1)

    async def save(self, profile: Profile) -> Profile:
        self._before(profile)
        current = self.stored.get(profile.user_id)
        if current is None or current.version != profile.version:
            raise ConcurrentUpdateError(profile.user_id)
        return self._put(profile, profile.version + 1)

    async def random_sellers(self, count: int, *, pivot: float) -> list[Profile]:
        sellers = sorted(
            (p for p in self.stored.values() if p.seller is not None),
            key=lambda p: p.seller.random_key if p.seller else 0.0,
        )
        after = [p for p in sellers if p.seller and p.seller.random_key >= pivot]
        before = [p for p in sellers if p.seller and p.seller.random_key < pivot]
        return (after + before)[:count]

    def _before(self, profile: Profile) -> None:
        hook, self.before_write = self.before_write, None  # one shot: the competing write itself passes
        if hook is not None:
            hook(profile)

    def _put(self, profile: Profile, version: int) -> Profile:
        stored = dataclasses.replace(profile, version=version)
        self.stored[profile.user_id] = stored
        self.writes += 1
        return stored


class FakeAppliedEventLedger:
    def __init__(self) -> None:
        self.pairs: set[tuple[str, str]] = set()
        self.crash_on_record = False

    async def contains(self, event_id: str, user_id: str) -> bool:
        return (event_id, user_id) in self.pairs

    async def record(self, event_id: str, user_id: str) -> None:
        if self.crash_on_record:
            raise CrashError("process died before recording the event")
        self.pairs.add((event_id, user_id))


def fake_dependencies(random_values: list[float] | None = None) -> HandlerDependencies:
    values = iter(random_values or [0.5] * 1000)
    return HandlerDependencies(
        profiles=FakeProfileRepository(),
        applied_events=FakeAppliedEventLedger(),
        clock=lambda: NOW,
        random_unit=lambda: next(values),
    )


def account(username: str = "alice") -> Account:
    return Account(username=username, email=f"{username}@example.test", country="NL", created_at=NOW)


def seller_details(**overrides: object) -> SellerDetails:
    fields: dict[str, object] = {
        "full_name": "Alice Example",
        "one_liner": "I build reliable APIs",
        "description": "Ten years of backend work on payment and booking systems.",
        "skills": ("python", "fastapi"),
        "languages": (Language("English", LanguageLevel.FLUENT),),
        "response_time_hours": 24,
    }
    fields.update(overrides)
    return SellerDetails(**fields)  # type: ignore[arg-type]
