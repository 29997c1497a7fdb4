"""One table from domain and store errors to the one error shape; never a 500 for a store outage."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, PyMongoError
from servicekit.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    ValidationFailed,
    error_response,
    internal_error_response,
    log_unexpected_error,
)

from users_service.domain.errors import (
    AlreadySeller,
    InvalidActivityEvent,
    InvalidSellerDetails,
    NotProfileOwner,
    ProfileNotFound,
    SellerNotFound,
    StaleRevision,
    UsersError,
)
from users_service.service_layer.ports import StoreBusyError

logger = logging.getLogger(__name__)

REPORTED_AS: dict[type[UsersError], type[ServiceError]] = {
    ProfileNotFound: NotFound,
    SellerNotFound: NotFound,
    AlreadySeller: Conflict,
    StaleRevision: Conflict,
    NotProfileOwner: Forbidden,
    InvalidSellerDetails: ValidationFailed,
    InvalidActivityEvent: ValidationFailed,
}


def as_service_error(error: UsersError) -> ServiceError:
    reported_as = REPORTED_AS.get(type(error))
    if reported_as is None:  # an unmapped domain error is a bug here: a 500 with nothing internal in it
        return ServiceError(code="internal_error")
    return reported_as(error.message, code=error.code, details=error.details)


class StoreUnavailable(ServiceUnavailable):
    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


async def _domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, UsersError)
    return error_response(as_service_error(error))


async def _store_busy(_: Request, error: Exception) -> JSONResponse:
    logger.warning("profile store busy: %s", error)
    return error_response(StoreUnavailable("The profile store is busy; try again", code="store_busy"))


async def _store_error(request: Request, error: Exception) -> JSONResponse:
    # Connection failures include server selection; `timeout` covers client-side operation timeouts.
    if isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout):
        logger.warning("profile store unavailable: %r", error)
        return error_response(StoreUnavailable("The profile store is unavailable; try again"))
    log_unexpected_error(request.method, request.url.path, error)
    return internal_error_response()


def install_users_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UsersError, _domain_error)
    app.add_exception_handler(StoreBusyError, _store_busy)
    app.add_exception_handler(PyMongoError, _store_error)
