"""Every refusal of the review domain derives from `ReviewError`; entrypoints/errors.py maps them to HTTP."""

# Names state the outcome (NotAParty, AlreadyReviewed), like servicekit's NotFound/Conflict.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class ReviewError(DomainError):
    code = "review_error"


class InvalidReview(ReviewError):
    code = "invalid_review"
    default_message = "The review is not valid"


class OrderNotCompleted(ReviewError):
    """The caller is a party of a paid order whose completion has not reached the replica: not completed yet,
    or its completion event has not arrived yet. Both mean "not now". Only parties are told (after the
    authorization check), so the answer says nothing about an order to anyone else."""

    code = "order_not_completed"
    default_message = "Reviews are accepted only once the order is completed"


class NotAParty(ReviewError):
    """Also the answer for an order this service has not heard of: nobody is a provable party of it, and a
    stranger must get the same answer whether or not the order exists."""

    code = "forbidden"
    default_message = "Only the buyer or seller of a paid order may review it"


class AlreadyReviewed(ReviewError):
    code = "already_reviewed"
    default_message = "This side of the order has already been reviewed"


class InvalidCursor(ReviewError):
    code = "invalid_cursor"
    default_message = "The cursor is not one this service handed out"


class InvalidEvent(ReviewError):
    """An event this service consumes lacks a field it needs: never retried, dead-lettered with the reason."""

    code = "invalid_event"
    default_message = "The event payload is not usable"
