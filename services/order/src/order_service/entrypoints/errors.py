"""The order error table: each refusal's HTTP status, in the one JSON error shape."""

from __future__ import annotations

from servicekit.error_table import ErrorReport, ErrorTable
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from stripe import StripeError

from order_service.domain.errors import (
    DevelopmentOnly,
    InvalidOrderRequest,
    NotAllowedForRole,
    NotificationNotFound,
    OrderNotFound,
    PaymentRejected,
    SourceUnavailable,
    TransitionNotAllowed,
    VersionConflict,
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
        OrderNotFound: ErrorReport(404),
        NotificationNotFound: ErrorReport(404),
        NotAllowedForRole: ErrorReport(403),
        TransitionNotAllowed: ErrorReport(409),
        VersionConflict: ErrorReport(409),
        InvalidOrderRequest: ErrorReport(422),
        SourceUnavailable: ErrorReport(422),
        PaymentRejected: ErrorReport(400),
        DevelopmentOnly: ErrorReport(404),
        StripeError: ErrorReport(
            502, code="payment_provider_error", message="The payment provider did not answer", log=True
        ),
        OperationalError: _STORE_DOWN,
        InterfaceError: _STORE_DOWN,
        PoolTimeoutError: _STORE_DOWN,
    }
)
