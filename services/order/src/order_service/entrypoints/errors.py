"""The order error table: each refusal's HTTP status, in the one JSON error shape."""

from __future__ import annotations

from servicekit.error_table import ErrorReport, ErrorTable
from servicekit.media import MEDIA_ERRORS
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from order_service.domain.errors import (
    DevelopmentOnly,
    InvalidOrderRequest,
    NotAllowedForRole,
    NotificationNotFound,
    OrderNotFound,
    PaymentProviderUnavailable,
    PaymentRejected,
    SourceUnavailable,
    TransitionNotAllowed,
    VersionConflict,
    WebhookTooLarge,
)

_STORE_DOWN = ErrorReport(
    503,
    code="store_unavailable",
    message="Orders are unavailable; try again shortly",
    retry_after_seconds=5,
    log=True,
)

ORDER_ERRORS = ErrorTable(
    {
        **MEDIA_ERRORS,
        OrderNotFound: ErrorReport(404),
        NotificationNotFound: ErrorReport(404),
        NotAllowedForRole: ErrorReport(403),
        TransitionNotAllowed: ErrorReport(409),
        VersionConflict: ErrorReport(409),
        InvalidOrderRequest: ErrorReport(422),
        SourceUnavailable: ErrorReport(422),
        WebhookTooLarge: ErrorReport(413),
        PaymentRejected: ErrorReport(400),
        DevelopmentOnly: ErrorReport(404),
        # Raised by the Stripe adapter from the SDK's errors, so this table needs no `stripe` import (the SDK
        # is loaded only when the Stripe provider is chosen: idle memory, docs/benchmarks.md).
        PaymentProviderUnavailable: ErrorReport(502, log=True),
        OperationalError: _STORE_DOWN,
        InterfaceError: _STORE_DOWN,
        PoolTimeoutError: _STORE_DOWN,
    }
)
