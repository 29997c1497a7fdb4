"""In-memory fakes of the auth service's own ports (repositories, unit of work, hasher, secrets, clock).

The fake unit of work mirrors the real one's transaction semantics: work happens on a copy of the committed
state, ``commit`` swaps it in together with the recorded events, and leaving without commit discards both.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from auth_service.domain.errors import DuplicateAccountError
from auth_service.domain.events import AuthEvent
from auth_service.domain.model import Account, AccountToken, OtpChallenge, TokenPurpose
from auth_service.service_layer.dependencies import HandlerDependencies, TokenLifetimes
from auth_service.service_layer.unit_of_work import AuthUnitOfWork


@dataclass
class StoreState:
    accounts: dict[UUID, Account] = field(default_factory=dict)
    devices: set[tuple[UUID, str]] = field(default_factory=set)
    challenges: dict[UUID, OtpChallenge] = field(default_factory=dict)
    tokens: dict[UUID, AccountToken] = field(default_factory=dict)


@dataclass
class FakeStore:
    state: StoreState = field(default_factory=StoreState)
    outbox: list[AuthEvent] = field(default_factory=list)
    commits: int = 0
    # Store failures to inject: each commit consumes one and raises it instead of committing.
    failing_commits: list[Exception] = field(default_factory=list)
    # Account ids whose rows commands locked, in order (what get_for_update would lock in MariaDB).
    locked_accounts: list[UUID] = field(default_factory=list)
    # Units of work open right now, and slow hashes that ran while one was (each would pin a DB connection).
    open_units: int = 0
    hashes_inside_a_transaction: int = 0

    def events_of(self, event_type: type[AuthEvent]) -> list[AuthEvent]:
        return [event for event in self.outbox if isinstance(event, event_type)]


class FakeAccounts:
    def __init__(self, state: StoreState, store: FakeStore) -> None:
        self._state = state
        self._store = store

    async def add(self, account: Account) -> None:
        if await self.exists(email=account.email, username=account.username):
            raise DuplicateAccountError()
        self._state.accounts[account.id] = copy.deepcopy(account)

    async def get(self, account_id: UUID) -> Account | None:
        return copy.deepcopy(self._state.accounts.get(account_id))

    async def get_for_update(self, account_id: UUID) -> Account | None:
        self._store.locked_accounts.append(account_id)
        return await self.get(account_id)

    async def get_by_email(self, email: str) -> Account | None:
        return next((copy.deepcopy(a) for a in self._state.accounts.values() if a.email == email), None)

    async def get_by_username(self, username: str) -> Account | None:
        return next((copy.deepcopy(a) for a in self._state.accounts.values() if a.username == username), None)

    async def exists(self, *, email: str, username: str) -> bool:
        return any(a.email == email or a.username == username for a in self._state.accounts.values())

    async def update(self, account: Account) -> None:
        self._state.accounts[account.id] = copy.deepcopy(account)

    async def is_known_device(self, account_id: UUID, device_id: str) -> bool:
        return (account_id, device_id) in self._state.devices

    async def add_known_device(self, account_id: UUID, device_id: str, now: datetime) -> None:
        self._state.devices.add((account_id, device_id))


class FakeOtpChallenges:
    def __init__(self, state: StoreState) -> None:
        self._state = state

    async def replace(self, challenge: OtpChallenge) -> None:
        for existing in list(self._state.challenges.values()):
            if (existing.account_id, existing.device_id) == (challenge.account_id, challenge.device_id):
                del self._state.challenges[existing.id]
        self._state.challenges[challenge.id] = copy.deepcopy(challenge)

    async def get_for_device(self, account_id: UUID, device_id: str) -> OtpChallenge | None:
        for challenge in self._state.challenges.values():
            if (challenge.account_id, challenge.device_id) == (account_id, device_id):
                return copy.deepcopy(challenge)
        return None

    async def update(self, challenge: OtpChallenge) -> None:
        self._state.challenges[challenge.id] = copy.deepcopy(challenge)

    async def delete(self, challenge_id: UUID) -> None:
        self._state.challenges.pop(challenge_id, None)


class FakeTokens:
    def __init__(self, state: StoreState) -> None:
        self._state = state

    async def add(self, token: AccountToken) -> None:
        self._state.tokens[token.id] = copy.deepcopy(token)

    async def get_by_hash(
        self, purpose: TokenPurpose, token_hash: str, *, lock: bool = False
    ) -> AccountToken | None:
        for token in self._state.tokens.values():
            if token.purpose is purpose and token.token_hash == token_hash:
                return copy.deepcopy(token)
        return None

    async def update(self, token: AccountToken) -> None:
        self._state.tokens[token.id] = copy.deepcopy(token)

    async def revoke_outstanding(self, account_id: UUID, purpose: TokenPurpose, now: datetime) -> None:
        for token in self._state.tokens.values():
            if token.account_id == account_id and token.purpose is purpose and token.used_at is None:
                token.used_at = now


class FakeUnitOfWork(AuthUnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        super().__init__()
        self._store = store
        self._working = StoreState()

    async def _begin(self) -> None:
        self._store.open_units += 1
        self._working = copy.deepcopy(self._store.state)
        self.accounts = FakeAccounts(self._working, self._store)
        self.otp_challenges = FakeOtpChallenges(self._working)
        self.tokens = FakeTokens(self._working)

    async def _commit(self, events: list[AuthEvent]) -> None:
        if self._store.failing_commits:
            raise self._store.failing_commits.pop(0)
        self._store.state = copy.deepcopy(self._working)
        self._store.outbox.extend(events)
        self._store.commits += 1

    async def _rollback(self) -> None:
        self._working = copy.deepcopy(self._store.state)

    async def _close(self) -> None:
        self._store.open_units -= 1


class FakeHasher:
    """Reversible stand-in for argon2 that counts how often the slow path would have run."""

    def __init__(self, store: FakeStore, prefix: str = "hashed:") -> None:
        self.slow_operations = 0
        self.outdated_prefix = "old:"
        self._store = store
        self._prefix = prefix

    def _slow(self) -> None:
        self.slow_operations += 1
        if self._store.open_units:
            self._store.hashes_inside_a_transaction += 1

    async def hash(self, secret: str) -> str:
        self._slow()
        return f"{self._prefix}{secret}"

    async def verify(self, secret_hash: str, secret: str) -> bool:
        self._slow()
        return secret_hash in (f"{self._prefix}{secret}", f"{self.outdated_prefix}{secret}")

    def needs_rehash(self, secret_hash: str) -> bool:
        return secret_hash.startswith(self.outdated_prefix)

    async def verify_dummy(self, secret: str) -> None:
        self._slow()


class SequentialSecrets:
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.issued_otps: list[str] = []

    def link_token(self) -> str:
        return f"link-token-{next(self._counter)}"

    def otp_code(self) -> str:
        code = f"{next(self._counter):06d}"
        self.issued_otps.append(code)
        return code


class SettableClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class AuthHarness:
    store: FakeStore
    hasher: FakeHasher
    secrets: SequentialSecrets
    clock: SettableClock
    deps: HandlerDependencies


LIFETIMES = TokenLifetimes(
    otp=timedelta(minutes=10),
    email_verification=timedelta(hours=24),
    password_reset=timedelta(hours=1),
)


@pytest.fixture
def harness() -> AuthHarness:
    store = FakeStore()
    hasher = FakeHasher(store)
    secrets = SequentialSecrets()
    clock = SettableClock()
    deps = HandlerDependencies(
        uow_factory=lambda: FakeUnitOfWork(store),
        hasher=hasher,
        otp_hasher=FakeHasher(store, prefix="otp:"),
        secrets=secrets,
        clock=clock,
        lifetimes=LIFETIMES,
    )
    return AuthHarness(store=store, hasher=hasher, secrets=secrets, clock=clock, deps=deps)
