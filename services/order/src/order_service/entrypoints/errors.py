"""The order error table: each domain error's HTTP status, in the one JSON error shape."""

from __future__ import annotations

from servicekit.error_table import ErrorReport, ErrorTable

from order_service.domain.errors import InvalidItem, ItemNotFound

ORDER_ERRORS = ErrorTable(
    {
        ItemNotFound: ErrorReport(404),
        InvalidItem: ErrorReport(422),
    }
)
