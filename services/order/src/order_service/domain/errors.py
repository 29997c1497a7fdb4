"""Every refusal of the order domain derives from `OrderError`; entrypoints/errors.py maps them to HTTP."""

# Names state the outcome (ItemNotFound, InvalidItem), like servicekit's NotFound/Conflict.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class OrderError(DomainError):
    code = "order_error"


class ItemNotFound(OrderError):
    code = "not_found"
    default_message = "No such item"


class InvalidItem(OrderError):
    code = "invalid_item"
    default_message = "The item is not valid"
