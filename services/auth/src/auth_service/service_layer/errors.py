"""Store failures as the service layer sees them, independent of the database driver.

The unit-of-work adapter translates driver errors into these; the retry runner acts on ``StoreConflictError``
and the API reports ``StoreUnavailableError`` as 503.
"""

from __future__ import annotations


class StoreConflictError(Exception):
    """The store aborted the transaction to resolve a lock conflict (deadlock, lock wait timeout).

    Nothing was written; running the whole command again in a fresh transaction normally succeeds.
    """


class StoreUnavailableError(Exception):
    """The store cannot serve the command now (unreachable, pool exhausted, conflicts that kept recurring)."""

    def __init__(self, message: str = "The account store is temporarily unavailable") -> None:
        super().__init__(message)
        self.message = message
