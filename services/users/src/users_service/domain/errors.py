"""Domain exceptions of the users service; the API layer maps each to one status (entrypoints/errors.py)."""

from __future__ import annotations

from servicekit.domain_errors import DomainError


class UsersError(DomainError):
    """Base of every users domain error: a stable `code`, a message fit for clients, `details`."""

    code = "users_error"


class ProfileNotFound(UsersError):  # noqa: N818 - names what the caller asked for
    code = "profile_not_found"


class SellerNotFound(UsersError):  # noqa: N818
    code = "seller_not_found"


class AlreadySeller(UsersError):  # noqa: N818
    code = "already_seller"


class NotProfileOwner(UsersError):  # noqa: N818
    code = "not_owner"


class StaleRevision(UsersError):  # noqa: N818
    """The caller edited an older revision of the seller profile than the stored one."""

    code = "stale_revision"


class InvalidSellerDetails(UsersError):  # noqa: N818
    code = "invalid_seller_details"


class InvalidActivityEvent(UsersError):  # noqa: N818
    """An event payload this service cannot apply; retrying will not fix it (dead-lettered)."""

    code = "invalid_event"
