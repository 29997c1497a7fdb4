"""The bus side: two subscriptions (servicekit.events.subscriptions) and thin handlers: parse → command.

`review.completed-orders` keeps the replica of paid orders (who may review) and their completion (when);
`review.directory` keeps usernames and emails for the review_received email.
"""

from __future__ import annotations

from servicekit.events import (
    DuplicateEventError,
    EventEnvelope,
    EventHandler,
    PermanentEventError,
    subscription,
)

from review_service.domain.errors import InvalidEvent
from review_service.domain.parsing import completed_order, directory_entry
from review_service.service_layer import handlers
from review_service.service_layer.commands import RecordAccount, RecordCompletedOrder
from review_service.service_layer.handlers import UnitOfWorkFactory

COMPLETED_ORDERS = subscription("review.completed-orders")
DIRECTORY = subscription("review.directory")
ORDER_PLACED = "order.order.placed.v1"
ORDER_COMPLETED = "order.order.completed.v1"
ACCOUNT_CREATED = "auth.account.created.v1"


def order_handler(new_uow: UnitOfWorkFactory) -> EventHandler:
    """Returning acks; `PermanentEventError` dead-letters (bad payload); anything else is retried."""

    async def handle(envelope: EventEnvelope) -> None:
        if envelope.type not in (ORDER_PLACED, ORDER_COMPLETED):
            raise PermanentEventError(f"review.completed-orders does not consume {envelope.type}")
        completed_at = envelope.occurred_at if envelope.type == ORDER_COMPLETED else None
        try:
            order = completed_order(envelope.payload, completed_at)
        except InvalidEvent as error:
            raise PermanentEventError(error.message) from error
        if not await handlers.record_completed_order(RecordCompletedOrder(str(envelope.id), order), new_uow):
            raise DuplicateEventError(f"event {envelope.id} was already applied")

    return handle


def account_handler(new_uow: UnitOfWorkFactory) -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        if envelope.type != ACCOUNT_CREATED:
            raise PermanentEventError(f"review.directory does not consume {envelope.type}")
        try:
            entry = directory_entry(envelope.payload)
        except InvalidEvent as error:
            raise PermanentEventError(error.message) from error
        if not await handlers.record_account(RecordAccount(str(envelope.id), entry), new_uow):
            raise DuplicateEventError(f"event {envelope.id} was already applied")

    return handle
