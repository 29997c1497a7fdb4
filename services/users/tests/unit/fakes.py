"""In-memory fakes of the users service's own ports (service_layer/ports.py), with failure injection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Self

from users_service.domain.profile import Account, Profile
from users_service.domain.seller import Language, LanguageLevel, SellerDetails
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.service_layer.ports import ConcurrentUpdateError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class CrashError(Exception):
    """Stands for the process dying at an injected point."""


class FakeProfileStore:
    """Profiles by user id with a version each, read by `get` and written through `FakeUnitOfWork`.

    `before_commit` runs just before the next commit, so a test can slip in a competing write (another
    replica) between a unit of work's read and its write.
    """

    def __init__(self) -> None:
        self.stored: dict[str, tuple[Profile, int]] = {}
        self.before_commit: Callable[[], None] | None = None
        self.writes = 0

    def put(self, profile: Profile, version: int) -> None:
        self.stored[profile.user_id] = (profile, version)
        self.writes += 1

    def version(self, user_id: str) -> int:
        return self.stored[user_id][1]

    async def get(self, user_id: str) -> Profile | None:
        entry = self.stored.get(user_id)
        return entry[0] if entry else None

    async def by_username(self, username: str) -> Profile | None:
        for profile, _ in self.stored.values():
            if profile.account is not None and profile.account.username == username:
                return profile
        return None

    async def random_sellers(self, count: int, *, pivot: float) -> list[Profile]:
        sellers = sorted(
            (p for p, _ in self.stored.values() if p.seller is not None),
            key=lambda p: p.seller.random_key if p.seller else 0.0,
        )
        after = [p for p in sellers if p.seller and p.seller.random_key >= pivot]
        before = [p for p in sellers if p.seller and p.seller.random_key < pivot]
        return (after + before)[:count]


class _FakeVersionedProfiles:
    def __init__(self, store: FakeProfileStore) -> None:
        self._store = store
        self.read_versions: dict[str, int] = {}
        self.staged: list[tuple[Profile, int | None]] = []  # (profile, version read; None = insert)

    async def get(self, user_id: str) -> Profile | None:
        entry = self._store.stored.get(user_id)
        if entry is None:
            return None
        self.read_versions[user_id] = entry[1]
        return entry[0]

    def add(self, profile: Profile) -> None:
        self.staged.append((profile, None))

    def save(self, profile: Profile) -> None:
        self.staged.append((profile, self.read_versions[profile.user_id]))


class FakeUnitOfWork:
    def __init__(self, store: FakeProfileStore) -> None:
        self._store = store
        self.profiles = _FakeVersionedProfiles(store)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.profiles.staged = []

    async def commit(self) -> None:
        hook, self._store.before_commit = self._store.before_commit, None  # one shot
        if hook is not None:
            hook()
        for profile, read_version in self.profiles.staged:
            current = self._store.stored.get(profile.user_id)
            if read_version is None and current is not None:
                raise ConcurrentUpdateError(profile.user_id)
            if read_version is not None and (current is None or current[1] != read_version):
                raise ConcurrentUpdateError(profile.user_id)
            self._store.put(profile, (read_version or 0) + 1)
        self.profiles.staged = []


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
    store = FakeProfileStore()
    return HandlerDependencies(
        profiles=store,
        uow_factory=lambda: FakeUnitOfWork(store),
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
