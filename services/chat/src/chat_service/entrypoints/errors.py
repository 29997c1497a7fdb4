"""The chat error table: each refusal's HTTP status, in the one JSON error shape."""

from __future__ import annotations

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
    }
)
