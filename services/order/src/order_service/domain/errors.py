"""Every refusal of the order domain derives from `OrderError`; entrypoints/errors.py maps them to HTTP."""

# Names state the outcome (OrderNotFound, TransitionNotAllowed), like servicekit's NotFound/Conflict.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class OrderError(DomainError):
    code = "order_error"


class OrderNotFound(OrderError):
    """Also what a user who is not a party of the order gets: its existence is not revealed."""

    code = "not_found"
    default_message = "No such order"


class NotAllowedForRole(OrderError):
    """A party of the order asked for something only the other party may do."""

    code = "forbidden"
    default_message = "The other party of the order does this"


class TransitionNotAllowed(OrderError):
    code = "invalid_state"
    default_message = "The order is not in a state that allows this"


class VersionConflict(OrderError):
    code = "conflict"
    default_message = "The order changed meanwhile; read it again"


class InvalidOrderRequest(OrderError):
    code = "invalid_request"
    default_message = "The request is not valid"


class SourceUnavailable(OrderError):
    """The gig or offer to order from is unknown, paused, deleted, not accepted or already ordered."""

    code = "source_unavailable"
    default_message = "That gig or offer cannot be ordered"


class NotificationNotFound(OrderError):
    code = "not_found"
    default_message = "No such notification"


class PaymentRejected(OrderError):
    """A webhook whose signature does not verify, or a payment event that is not well formed."""

    code = "invalid_webhook"
    default_message = "The payment notification is not valid"


class WebhookTooLarge(PaymentRejected):
    """Larger than any notification the provider sends: refused unread, as the 413 the API documents."""

    code = "payload_too_large"
    default_message = "The payment notification is too large"


class PaymentProviderUnavailable(OrderError):
    """The payment provider did not answer or refused the call (the adapter's SDK error is the cause)."""

    code = "payment_provider_error"
    default_message = "The payment provider did not answer"


class DevelopmentOnly(OrderError):
    code = "not_available"
    default_message = "Only available in development and test"
