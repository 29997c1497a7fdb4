"""Entries of the directory replica, parsed from `auth.account.created.v1` payloads or a backfill line."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servicekit.identifiers import IdentifierNotNormalisable, canonical_identifier

from chat_service.domain.errors import ChatError


class InvalidAccount(ChatError):  # noqa: N818 - states the outcome
    code = "invalid_account"
    default_message = "The account record is not valid"


@dataclass(frozen=True)
class DirectoryEntry:
    user_id: str
    username: str
    email: str

    @property
    def username_key(self) -> str:
        return username_key(self.username)


def username_key(username: str) -> str:
    try:
        return canonical_identifier(username)
    except IdentifierNotNormalisable as error:
        raise InvalidAccount("the username cannot be normalised") from error


def entry_from_payload(payload: Mapping[str, Any]) -> DirectoryEntry:
    user_id, username, email = payload.get("user_id"), payload.get("username"), payload.get("email")
    if not isinstance(user_id, str) or not isinstance(username, str) or not isinstance(email, str):
        raise InvalidAccount("user_id, username and email must be strings")
    try:
        # Auth's events carry str(UUID); an export of its MariaDB column has 32 hex digits: one id for both.
        user_id = str(uuid.UUID(user_id))
    except ValueError as error:
        raise InvalidAccount("user_id must be a UUID") from error
    if not username.strip() or "@" not in email:
        raise InvalidAccount("username and email must be present")
    username_key(username)
    return DirectoryEntry(user_id=user_id, username=username, email=email)
