"""Every operation the storefront can call exists in the gateway's published OpenAPI with the same method and
path: the document is built from the gateway's own app (its generated table plus its auth routes), so a
renamed or moved operation fails here, not in a browser."""

from __future__ import annotations

from typing import Any

import pytest
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from storefront_service.operations import OPERATIONS, PUBLIC_PREFIX


@pytest.fixture(scope="module")
def gateway_openapi() -> dict[str, Any]:
    from gateway_service.entrypoints.app import create_app
    from gateway_service.settings import GatewaySettings

    private_pem, public_pem = generate_ed25519_pem_pair()
    settings = GatewaySettings(
        environment="test",
        redis_url="redis://127.0.0.1:1/0",  # never connected: the document is built without I/O
        internal_token_private_key=private_pem,
        internal_token_public_key=public_pem,
        access_token_secret="operations-check-access-token-key-0123456789",
    )
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def published(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    found = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path)
    return found


def test_every_storefront_operation_is_published_by_the_gateway_with_its_method_and_path(
    gateway_openapi: dict[str, Any],
) -> None:
    operations = published(gateway_openapi)
    mismatches = {
        operation_id: ((op.method, PUBLIC_PREFIX + op.path), operations.get(operation_id))
        for operation_id, op in OPERATIONS.items()
        if operations.get(operation_id) != (op.method, PUBLIC_PREFIX + op.path)
    }
    assert mismatches == {}


def test_the_check_would_notice_a_renamed_operation(gateway_openapi: dict[str, Any]) -> None:
    operations = published(gateway_openapi)
    assert "gigs.topRated" in operations
    assert "gigs.topRatedd" not in operations


def test_every_operation_id_the_pages_name_is_in_the_table() -> None:
    """Pages name operations as string literals (``gateway.call("gigs.search", ...)``); each must be in the
    checked table, or the page would fail at run time with UnknownOperationError."""
    import re
    from pathlib import Path

    import storefront_service

    source = Path(storefront_service.__file__).parent
    named = {
        match
        for path in source.rglob("*.py")
        for match in re.findall(r"""\.(?:call|request)\(\s*["']([a-z]+\.[A-Za-z]+)["']""", path.read_text())
    }
    assert {"gigs.topRated", "auth.signin", "sellers.byUsername"} <= named
    assert named - set(OPERATIONS) == set()
