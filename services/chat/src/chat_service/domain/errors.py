"""Every refusal of the chat domain derives from `ChatError`; entrypoints/errors.py maps them to HTTP."""

# Names state the outcome (ConversationNotFound, InvalidMessage), like servicekit's NotFound/Conflict.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class ChatError(DomainError):
    code = "chat_error"


class ConversationNotFound(ChatError):
    """Also what a non-participant gets: whether a conversation of two other users exists is not theirs."""

    code = "not_found"
    default_message = "No such conversation"


class UserNotFound(ChatError):
    code = "not_found"
    default_message = "No such user"


class OfferNotFound(ChatError):
    code = "not_found"
    default_message = "No such offer"


class InvalidMessage(ChatError):
    code = "invalid_message"
    default_message = "The message is not valid"


class FileNotYours(ChatError):
    code = "forbidden"
    default_message = "The file key does not belong to you"


class NotOfferParty(ChatError):
    """A participant in the wrong role: only the buyer accepts or declines, only the seller withdraws."""

    code = "forbidden"
    default_message = "You may not make this change to the offer"


class OfferNotPending(ChatError):
    code = "offer_not_pending"
    default_message = "The offer is no longer pending"


class InvalidCursor(ChatError):
    code = "invalid_cursor"
    default_message = "The page cursor is not valid"
