"""The review error table: each domain error's HTTP status, in the one JSON error shape."""

from __future__ import annotations

from servicekit.error_table import ErrorReport, ErrorTable

from review_service.domain.errors import (
    AlreadyReviewed,
    InvalidCursor,
    InvalidReview,
    NotAParty,
    OrderNotCompleted,
)
from review_service.service_layer.errors import StoreUnavailableError

REVIEW_ERRORS = ErrorTable(
    {
        InvalidReview: ErrorReport(422),
        InvalidCursor: ErrorReport(422),
        NotAParty: ErrorReport(403),
        OrderNotCompleted: ErrorReport(409),
        AlreadyReviewed: ErrorReport(409),
        StoreUnavailableError: ErrorReport(503, retry_after_seconds=5, log=True),
    }
)
