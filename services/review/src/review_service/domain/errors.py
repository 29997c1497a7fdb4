"""Every refusal of the review domain derives from `ReviewError`; entrypoints/errors.py maps them to HTTP."""

# Names state the outcome (ItemNotFound, InvalidItem), like servicekit's NotFound/Conflict.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class ReviewError(DomainError):
    code = "review_error"


class ItemNotFound(ReviewError):
    code = "not_found"
    default_message = "No such item"


class InvalidItem(ReviewError):
    code = "invalid_item"
    default_message = "The item is not valid"
