"""The ports the use cases depend on: the payment provider, the stores (one unit of work) and the clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self
from uuid import UUID

from order_service.domain.events import Contact, NotificationDraft, OutgoingEvent
from order_service.domain.model import Order, Transition
from order_service.domain.replicas import GigReplica, OfferReplica
from order_service.service_layer.paging import Position

IntentStatus = Literal["requires_payment", "processing", "succeeded", "canceled"]


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    order_id: str
    amount: int
    currency: str
    status: IntentStatus
    client_secret: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A verified provider notification, reduced to what the order service acts on."""

    id: str
    type: str
    intent_id: str
    order_id: str | None
    amount: int
    currency: str


@dataclass(frozen=True)
class SignedWebhook:
    payload: bytes
    signature: str


class PaymentProvider(Protocol):
    """Stripe in staging/production (adapters.stripe_provider), a local stateful provider in dev/test."""

    name: str

    async def create_intent(
        self, *, order_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentIntent: ...

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent: ...

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str: ...

    def verify_webhook(self, payload: bytes, signature: str) -> PaymentEvent:
        """Check the signature and parse; raises `PaymentRejected` when either fails."""
        ...


class DeliveryFiles(Protocol):
    """Checks a delivery file key against the object store (adapters/delivery_files.py)."""

    async def verify(self, key: str, seller_id: str) -> None:
        """Return if `key` names an object the seller uploaded to their delivery area; raise otherwise."""
        ...


class DevPaymentConfirmer(Protocol):
    """What `payments.devConfirm` drives: completes an intent as a test card would and returns the
    webhook the provider sends for it, signed exactly as Stripe signs."""

    async def confirm(self, intent_id: str) -> SignedWebhook: ...


@dataclass(frozen=True)
class StoredNotification:
    id: str
    user_id: str
    order_id: str
    kind: str
    text: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class PaymentRecord:
    intent_id: str
    order_id: str
    amount: int
    currency: str
    status: str
    client_secret: str | None
    created_at: datetime


@dataclass(frozen=True)
class RefundJob:
    id: int
    order_id: str
    intent_id: str
    amount: int
    attempts: int


class OrderStore(Protocol):
    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...

    async def by_offer(self, offer_id: str) -> Order | None: ...

    async def add(self, order: Order) -> None: ...

    async def save(self, order: Order, expected_version: int) -> None:
        """Write the changed order if its stored version is still `expected_version` (then bump it);
        raises `VersionConflict` otherwise."""
        ...

    async def append_history(self, order: Order, transition: Transition, at: datetime) -> None: ...

    async def of_party(
        self, user_id: str, role: Literal["buyer", "seller"], limit: int, before: Position | None
    ) -> Sequence[Order]:
        """Newest first by (created_at, id), after `before` when given."""
        ...

    async def due_for_expiry(self, now: datetime, limit: int) -> Sequence[Order]:
        """Unpaid orders past their deadline, locked `FOR UPDATE SKIP LOCKED` for this transaction."""
        ...

    async def set_review(self, order_id: str, role: str, review_id: str) -> bool: ...


class ReplicaStore(Protocol):
    async def gig(self, gig_id: str) -> GigReplica | None: ...

    async def put_gig(self, gig: GigReplica) -> bool: ...

    async def offer(self, offer_id: str) -> OfferReplica | None: ...

    async def put_offer(self, offer: OfferReplica) -> bool: ...

    async def contact(self, user_id: str) -> Contact | None: ...

    async def put_contact(self, contact: Contact) -> bool: ...


class NotificationStore(Protocol):
    async def add(
        self, notification_id: str, draft: NotificationDraft, order_id: str, at: datetime
    ) -> None: ...

    async def of_user(
        self, user_id: str, limit: int, unread_only: bool, before: Position | None = None
    ) -> Sequence[StoredNotification]:
        """Newest first by (created_at, id), after `before` when given."""
        ...

    async def mark_read(
        self, user_id: str, notification_id: str, at: datetime
    ) -> StoredNotification | None: ...


class PaymentStore(Protocol):
    async def add_intent(self, intent: PaymentIntent, at: datetime) -> None: ...

    async def intent(self, intent_id: str) -> PaymentRecord | None: ...

    async def of_order(self, order_id: str) -> PaymentRecord | None: ...

    async def set_status(self, intent_id: str, status: str, at: datetime) -> None: ...

    async def add_refund_job(self, order_id: str, intent_id: str, amount: int, at: datetime) -> None: ...

    async def due_refund_jobs(self, limit: int) -> Sequence[RefundJob]: ...

    async def finish_refund_job(self, job: RefundJob, refund_id: str, at: datetime) -> None: ...

    async def fail_refund_job(self, job: RefundJob, error: str) -> None: ...

    async def unsettled(
        self, created_before: datetime, created_after: datetime, limit: int
    ) -> Sequence[PaymentRecord]:
        """Intents not known to have succeeded, created in the window (reconciliation candidates)."""
        ...


class UnitOfWork(Protocol):
    @property
    def orders(self) -> OrderStore: ...

    @property
    def replicas(self) -> ReplicaStore: ...

    @property
    def notifications(self) -> NotificationStore: ...

    @property
    def payments(self) -> PaymentStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def claim(self, consumer: str, event_id: UUID) -> bool:
        """Record that `consumer` handled `event_id` in this transaction; False if it already had."""
        ...

    def publish(self, event: OutgoingEvent) -> None:
        """Stage the event in the outbox; written with the transaction at commit."""
        ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
Clock = Callable[[], datetime]
