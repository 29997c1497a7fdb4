"""The bus side: the `users.profiles` subscription and the thin handler (parse → command → handler)."""

from __future__ import annotations

from servicekit.events import (
    DuplicateEventError,
    EventEnvelope,
    EventHandler,
    PermanentEventError,
    subscription,
)

from users_service.domain.accounts import ACCOUNT_CREATED, account_from_payload
from users_service.domain.errors import InvalidActivityEvent
from users_service.service_layer.activity import apply_activity
from users_service.service_layer.commands import ApplyActivity, RegisterAccount
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.service_layer.profiles import register_account

# Queue and bindings are declared once for the whole system (servicekit.events.subscriptions), and every
# publisher applies that declaration, so events published before this consumer's first start wait for it.
PROFILES_SUBSCRIPTION = subscription("users.profiles")


def profile_event_handler(deps: HandlerDependencies) -> EventHandler:
    """Returning acks; `PermanentEventError` dead-letters (bad payload); anything else is retried."""

    async def handle(envelope: EventEnvelope) -> None:
        try:
            if envelope.type == ACCOUNT_CREATED:
                user_id, account = account_from_payload(envelope.payload)
                await register_account(RegisterAccount(user_id=user_id, account=account), deps)
                return
            command = ApplyActivity(str(envelope.id), envelope.type, dict(envelope.payload))
            outcome = await apply_activity(command, deps)
        except InvalidActivityEvent as error:
            raise PermanentEventError(error.message) from error
        if outcome.was_redelivery:
            raise DuplicateEventError(f"event {envelope.id} was already applied")

    return handle
