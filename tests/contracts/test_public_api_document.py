"""The published OpenAPI names every contract operation once, and the generated operation table is current.

No servers needed: the gateway app is built in-process (nothing connects before the lifespan starts).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from contract_support import CONTRACT_OPERATION_IDS
from gateway_service.entrypoints.app import create_app
from gateway_service.settings import GatewaySettings
from servicekit.security import generate_ed25519_keypair

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "scripts" / "generate_public_api.py"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    private_pem, public_pem = generate_ed25519_keypair()
    settings = GatewaySettings(
        environment="test",
        redis_url="redis://127.0.0.1:1/0",
        internal_token_private_key=private_pem,
        internal_token_public_key=public_pem,
        access_token_secret="contract-suite-access-token-key-0123456789",
    )
    return create_app(settings).openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_contract_operation_is_published_exactly_once(published: dict[str, Any]) -> None:
    counts = Counter(operation.get("operationId") for _, _, operation in _operations(published))
    assert {operation_id: counts[operation_id] for operation_id in CONTRACT_OPERATION_IDS} == dict.fromkeys(
        CONTRACT_OPERATION_IDS, 1
    )


def test_no_wildcard_or_undocumented_operation_is_published(published: dict[str, Any]) -> None:
    for method, path, operation in _operations(published):
        assert "{path}" not in path, f"catch-all {method} {path}"
        assert "{group}" not in path, f"catch-all {method} {path}"
        assert path.startswith("/api/v1/gateway/"), f"{method} {path} is not public API"
        assert "." in operation.get("operationId", ""), f"{method} {path} has no contract operation id"


def test_every_error_status_has_the_one_error_body(published: dict[str, Any]) -> None:
    for method, path, operation in _operations(published):
        statuses = set(operation["responses"])
        assert {"413", "429", "503"} <= statuses, f"{method} {path}: {sorted(statuses)}"
        if operation.get("security"):
            assert "401" in statuses, f"{method} {path} needs a session but does not document 401"
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path} {status}"


def _unbounded_numbers(
    schema: dict[str, Any], where: str, components: dict[str, Any], seen: frozenset[str] = frozenset()
) -> list[str]:
    """Where `schema` lets a client send a number with no upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded_numbers(components[name], f"{where} ({name})", components, seen | {name})
    found = []
    if schema.get("type") in ("integer", "number") and not {"maximum", "exclusiveMaximum"} & schema.keys():
        found.append(where)
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found += _unbounded_numbers(alternative, where, components, seen)
    for name, field in schema.get("properties", {}).items():
        found += _unbounded_numbers(field, f"{where}.{name}", components, seen)
    for nested in (schema.get("items"), schema.get("additionalProperties")):
        if isinstance(nested, dict):
            found += _unbounded_numbers(nested, f"{where}[]", components, seen)
    return found


def test_every_number_a_client_sends_has_an_upper_bound(published: dict[str, Any]) -> None:
    """An unbounded integer reaches a driver and overflows there (OpenSearch `long`, PyMongo's 64 bits, 32-bit
    SQL columns): a 500 for the client's mistake. The fuzzer found one (a gig search price filter)."""
    components = published["components"]["schemas"]
    unbounded = []
    for method, path, operation in _operations(published):
        for parameter in operation.get("parameters", []):
            where = f"{method} {path} {parameter['in']} {parameter['name']}"
            unbounded += _unbounded_numbers(parameter.get("schema", {}), where, components)
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            where = f"{method} {path} body {media_type}"
            unbounded += _unbounded_numbers(content.get("schema", {}), where, components)
    assert unbounded == []


def _string_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    alternatives = schema.get("anyOf", [schema])
    return [alternative for alternative in alternatives if alternative.get("type") == "string"]


def test_every_header_a_client_sends_states_its_characters(published: dict[str, Any]) -> None:
    """The gateway forwards header values only as visible ASCII (a 422 otherwise): each header parameter's
    schema must say so, or a schema-valid request is refused (the fuzzer found the webhook's signature)."""
    loose = [
        f"{method} {path} {parameter['name']}"
        for method, path, operation in _operations(published)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
        for schema in _string_schemas(parameter.get("schema", {}))
        if "pattern" not in schema or any(re.search(schema["pattern"], f"a{c}b") for c in "\t\x7f\u00e9")
    ]
    assert loose == []


def test_signup_schema_states_the_credentials_policy(published: dict[str, Any]) -> None:
    body = published["components"]["schemas"]["auth.SignUpIn"]["properties"]
    assert (body["username"]["minLength"], body["username"]["maxLength"]) == (3, 30)
    assert "pattern" in body["username"]
    assert "pattern" in body["email"]
    assert body["email"]["maxLength"] == 254
    assert (body["password"]["minLength"], body["password"]["maxLength"]) == (8, 128)


def test_generated_operation_table_matches_the_services() -> None:
    """Fails when a service's public operations changed without regenerating the gateway's table."""
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
