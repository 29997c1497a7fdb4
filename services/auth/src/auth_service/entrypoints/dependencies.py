"""FastAPI dependencies of the auth routes: the service's deps, the device id, the signed-in account."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header
from servicekit.errors import Unauthorized
from servicekit.http import app_deps
from servicekit.security import CurrentUserIdDep

from auth_service.domain import credentials
from auth_service.entrypoints.bootstrap import AuthDependencies
from auth_service.service_layer.dependencies import HandlerDependencies

# All ``async def``: FastAPI runs plain ``def`` dependencies in its threadpool, a thread hop per request for
# work that never blocks.

AuthDeps = Annotated[AuthDependencies, Depends(app_deps)]


async def _handler_dependencies(deps: AuthDeps) -> HandlerDependencies:
    return deps.handlers


async def current_account_id(user_id: CurrentUserIdDep) -> UUID:
    try:
        return UUID(user_id)
    except ValueError as error:
        # The gateway only mints tokens for ids this service issued; anything else is not a valid session.
        raise Unauthorized("Sign-in required") from error


# What the handlers take: the part of AuthDeps the service layer sees.
HandlerDeps = Annotated[HandlerDependencies, Depends(_handler_dependencies)]
CurrentAccountId = Annotated[UUID, Depends(current_account_id)]
# Required, with the domain's pattern, so the published OpenAPI says what sign-up and sign-in need; the domain
# checks it again (check_device_id) for callers that do not come through HTTP.
DeviceId = Annotated[
    str,
    Header(
        alias="X-Device-Id",
        min_length=1,
        max_length=credentials.DEVICE_ID_MAX_LENGTH,
        pattern=f"^{credentials.DEVICE_ID_PATTERN}$",
        description="Stable id of the client device; a device the account has not used needs an emailed OTP",
    ),
]
# Optional where a device is only recorded when present: the device that opened an emailed link.
OptionalDeviceId = Annotated[
    str | None,
    Header(
        alias="X-Device-Id",
        max_length=credentials.DEVICE_ID_MAX_LENGTH,
        pattern=f"^{credentials.DEVICE_ID_PATTERN}$",
        description="The device that opened the link; it becomes a known device of the account",
    ),
]
