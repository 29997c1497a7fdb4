"""Errors of the service layer's ports (not domain rules): the store is unreachable."""

from __future__ import annotations

from servicekit.domain_errors import DomainError


class StoreUnavailableError(DomainError):
    code = "unavailable"
    default_message = "The review store is unavailable; try again shortly"
