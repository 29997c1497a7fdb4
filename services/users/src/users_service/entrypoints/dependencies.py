"""FastAPI dependency of the users routes: the handler dependencies from the composition root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from users_service.entrypoints.bootstrap import UsersDependencies
from users_service.service_layer.dependencies import HandlerDependencies


async def handler_dependencies(request: Request) -> HandlerDependencies:
    deps: UsersDependencies = request.app.state.deps
    return deps.handlers


HandlerDeps = Annotated[HandlerDependencies, Depends(handler_dependencies)]
