"""The chat error table: each refusal's HTTP status, in the one JSON error shape."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, PyMongoError
from servicekit.error_table import ErrorReport, ErrorTable
from servicekit.media import MEDIA_ERRORS
from servicekit.mongo import ConcurrentUpdateError

from chat_service.domain.errors import (
    ConversationNotFound,
    FileNotYours,
    InvalidCursor,
    InvalidMessage,
    NotOfferParty,
    OfferNotFound,
    OfferNotPending,
    UserNotFound,
)


def _is_store_outage(error: BaseException) -> bool:
    # Connection failures include server selection; `timeout` covers client-side operation timeouts (a
    # saturated FerretDB under bench/realtime answered those as 500s before).
    return isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout)


CHAT_ERRORS = ErrorTable(
    {
        **MEDIA_ERRORS,
        ConversationNotFound: ErrorReport(404),
        UserNotFound: ErrorReport(404),
        OfferNotFound: ErrorReport(404),
        InvalidMessage: ErrorReport(422),
        InvalidCursor: ErrorReport(400),
        FileNotYours: ErrorReport(403),
        NotOfferParty: ErrorReport(403),
        OfferNotPending: ErrorReport(409),
        ConcurrentUpdateError: ErrorReport(
            409, code="conflict", message="The conversation is busy; try again"
        ),
        PyMongoError: ErrorReport(
            503,
            code="unavailable",
            message="The chat store is unavailable; try again",
            retry_after_seconds=1,
            log=True,
            when=_is_store_outage,
        ),
    }
)
