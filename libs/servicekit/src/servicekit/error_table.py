"""`ErrorTable`: a service's one mapping from exception types to the status and code they are answered with.

Domain errors stay framework-free (`servicekit.domain_errors.DomainError`); the service's
`entrypoints/errors.py` lists them in one table, and `create_service_app(errors=...)` installs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from servicekit.domain_errors import DomainError
from servicekit.errors import (
    CODES_BY_STATUS,
    ServiceError,
    error_response,
    internal_error_response,
    log_unexpected_error,
)

__all__ = ["ErrorReport", "ErrorTable"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorReport:
    """How one exception type is answered: status, and optionally a fixed code, message and Retry-After.

    Left `None`, `code` and `message` come from the error when it is a `DomainError` (its own, user-fit
    ones), otherwise from the status (`not_found`, "Not Found"); never from `str(error)`, which may hold
    internals. `message` may also be a function of the error, for a service's own non-domain exceptions
    whose message it controls. The error's own `retry_after_seconds` attribute, when it has one, wins over
    `retry_after_seconds`. `when` narrows the entry: errors it rejects are unexpected (logged, opaque
    500). `log` records the error as a warning: outages worth seeing in the logs even though the client
    gets a clean answer.
    """

    status: int
    code: str | None = None
    message: str | Callable[[Any], str] | None = None
    retry_after_seconds: int | None = None
    when: Callable[[BaseException], bool] | None = None
    log: bool = False


class _ReportedError(ServiceError):
    """A `ServiceError` built from a table entry; carries the entry's status and Retry-After."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str,
        details: list[dict[str, Any]],
        retry_after: int | None,
    ) -> None:
        self.status_code = status
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if self.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return headers


class ErrorTable:
    """A service's one error mapping: exception type → `ErrorReport`, applied by one exception handler.

    The nearest mapped class in an error's MRO decides, so a base class maps a whole family and a subclass
    may refine it. Anything unmapped stays an unexpected error: logged with its traceback, answered 500.
    """

    def __init__(self, entries: Mapping[type[Exception], ErrorReport]) -> None:
        self.entries: Mapping[type[Exception], ErrorReport] = dict(entries)

    def lookup(self, error_type: type[BaseException]) -> ErrorReport | None:
        for cls in error_type.__mro__:
            report = self.entries.get(cls)
            if report is not None:
                return report
        return None

    def as_service_error(self, error: BaseException) -> ServiceError:
        """The `ServiceError` (status, code, body) `error` is answered with; unmapped → opaque 500."""
        report = self.lookup(type(error))
        if report is None or (report.when is not None and not report.when(error)):
            return ServiceError()
        own = error if isinstance(error, DomainError) else None
        code = report.code or (own.code if own else None) or CODES_BY_STATUS.get(report.status, "error")
        fixed = report.message(error) if callable(report.message) else report.message
        message = fixed or (own.message if own else None) or HTTPStatus(report.status).phrase
        retry_after = getattr(error, "retry_after_seconds", None)
        return _ReportedError(
            report.status,
            message,
            code=code,
            details=own.details if own else [],
            retry_after=retry_after if isinstance(retry_after, int) else report.retry_after_seconds,
        )

    async def _handle(self, request: Request, error: Exception) -> JSONResponse:
        reported = self.as_service_error(error)
        if type(reported) is ServiceError:  # unmapped or refused by `when`: a bug until shown otherwise
            log_unexpected_error(request.method, request.url.path, error)
            return internal_error_response()
        report = self.lookup(type(error))
        if report is not None and report.log:
            logger.warning(
                "request failed: %s",
                type(error).__name__,
                extra={"error_code": reported.code, "status": reported.status_code},
            )
        return error_response(reported)

    def install(self, app: FastAPI) -> None:
        """Register the table's handler for every mapped type (Starlette picks the nearest by MRO too)."""
        for error_type in self.entries:
            app.add_exception_handler(error_type, self._handle)
