"""The users error table: each domain error's status; an unavailable or busy profile store is a 503 with
``Retry-After``, never a 500."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, PyMongoError
from servicekit.error_table import ErrorReport, ErrorTable

from users_service.domain.errors import (
    AlreadySeller,
    InvalidActivityEvent,
    InvalidSellerDetails,
    NotProfileOwner,
    ProfileNotFound,
    SellerNotFound,
    StaleRevision,
)
from users_service.service_layer.ports import StoreBusyError

STORE_RETRY_AFTER_SECONDS = 1


def _is_outage(error: BaseException) -> bool:
    # Connection failures include server selection; `timeout` covers client-side operation timeouts.
    return isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout)


USERS_ERRORS = ErrorTable(
    {
        # Domain errors keep their own code and message (users_service.domain.errors).
        ProfileNotFound: ErrorReport(404),
        SellerNotFound: ErrorReport(404),
        AlreadySeller: ErrorReport(409),
        StaleRevision: ErrorReport(409),
        NotProfileOwner: ErrorReport(403),
        InvalidSellerDetails: ErrorReport(422),
        InvalidActivityEvent: ErrorReport(422),
        StoreBusyError: ErrorReport(
            503,
            code="store_busy",
            message="The profile store is busy; try again",
            retry_after_seconds=STORE_RETRY_AFTER_SECONDS,
            log=True,
        ),
        # Only driver errors meaning "store unavailable" are a 503; anything else stays an unexpected 500.
        PyMongoError: ErrorReport(
            503,
            code="unavailable",
            message="The profile store is unavailable; try again",
            retry_after_seconds=STORE_RETRY_AFTER_SECONDS,
            log=True,
            when=_is_outage,
        ),
    }
)
