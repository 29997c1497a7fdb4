"""The `chat.directory` subscription: `auth.account.created.v1` into the directory replica (idempotent)."""

from __future__ import annotations

from servicekit.events import EventEnvelope, EventHandler, PermanentEventError, subscription

from chat_service.domain.directory import InvalidAccount, entry_from_payload
from chat_service.domain.events import ACCOUNT_CREATED
from chat_service.service_layer.directory import record_account
from chat_service.service_layer.unit_of_work import Directory

# Queue and bindings are declared once for the whole system (servicekit.events.subscriptions).
DIRECTORY_SUBSCRIPTION = subscription("chat.directory")


def directory_event_handler(directory: Directory) -> EventHandler:
    """Returning acks; `PermanentEventError` dead-letters a payload that can never be recorded."""

    async def handle(envelope: EventEnvelope) -> None:
        if envelope.type != ACCOUNT_CREATED:
            raise PermanentEventError(f"chat.directory does not handle {envelope.type}")
        try:
            entry = entry_from_payload(envelope.payload)
        except InvalidAccount as error:
            raise PermanentEventError(error.message) from error
        # An upsert keyed by the user id: a redelivery writes the same values again, harmlessly.
        await record_account(entry, directory)

    return handle
