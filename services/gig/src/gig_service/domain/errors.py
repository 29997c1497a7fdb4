"""Every refusal of the gig domain derives from `GigError`; entrypoints/errors.py maps them to HTTP."""

# Names state the outcome (GigNotFound, InvalidGig), like servicekit's NotFound/Conflict.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class GigError(DomainError):
    code = "gig_error"


class GigNotFound(GigError):
    code = "not_found"
    default_message = "No such gig"


class InvalidGig(GigError):
    code = "invalid_gig"
    default_message = "The gig is not valid"


class NotGigOwner(GigError):
    code = "forbidden"
    default_message = "Only the gig's seller may do this"


class StaleGigVersion(GigError):
    """The client edited a version older than the stored one: reload and retry."""

    code = "conflict"
    default_message = "The gig was changed since you read it; reload it and try again"


class CoverNotYours(GigError):
    code = "forbidden"
    default_message = "The cover image must be an upload of yours"
