"""`DomainError`: the one base every service's `domain/errors.py` derives its refusals from.

Framework-free on purpose (no FastAPI, no drivers), so a domain layer may import it under the import-layer
contract. `servicekit.error_table.ErrorTable` reads `code`, `message` and `details` from it when a table entry
does not fix them.
"""

# Subclass names state the outcome (InvalidToken, AccountNotFound), like servicekit's NotFound/Conflict.

from __future__ import annotations

from typing import Any

__all__ = ["DomainError"]


class DomainError(Exception):
    """A rule of the domain refused: a stable machine-readable `code`, a message fit for users, `details`.

    Subclasses set `code` and `default_message`; a message passed in must be safe to show a client, because
    an error table without a message of its own reports it as is.
    """

    code: str = "domain_error"
    default_message: str = "The request could not be completed"

    def __init__(self, message: str | None = None, *, details: list[dict[str, Any]] | None = None) -> None:
        self.message = message or self.default_message
        self.details: list[dict[str, Any]] = list(details or [])
        super().__init__(self.message)
