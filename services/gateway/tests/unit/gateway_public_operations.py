"""A made-up public operation of the users service, for tests that build their own gateway table."""

from __future__ import annotations

from gateway_service.entrypoints.public_api import PublicOperation, SessionRule


def users_operation(
    operation_id: str, method: str, path: str, session: SessionRule = "optional"
) -> PublicOperation:
    return PublicOperation(
        operation_id=operation_id,
        service="users",
        method=method,
        service_path=path.replace("/api/v1/gateway/", "/api/v1/"),
        public_path=path,
        session=session,
        openapi={},
    )
