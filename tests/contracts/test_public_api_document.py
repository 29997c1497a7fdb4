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


def test_every_success_status_is_one_the_operation_answers(published: dict[str, Any]) -> None:
    """A documented success has its body's schema or no body: a pass-through route once also published
    FastAPI's default `200 Successful Response` (any JSON) next to the 201/204 its service answers."""
    untyped = [
        f"{method} {path} {status}"
        for method, path, operation in _operations(published)
        for status, response in operation["responses"].items()
        if status.startswith("2") and "content" in response and not _has_schema_everywhere(response)
    ]
    assert untyped == []


def _has_schema_everywhere(response: dict[str, Any]) -> bool:
    return all(media.get("schema") for media in response["content"].values())


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


# Operations that take an id but that no answer of the API can truthfully link to, each with the reason. Every
# other operation taking an id (a path parameter, or a `*_id` field of its JSON body) must be the target of a
# link that supplies it, so schemathesis' stateful phase calls it with an id an earlier call created.
NOT_LINKABLE: dict[str, str] = {}
_RUNTIME_EXPRESSION = re.compile(r"^\$(?P<side>request|response)\.body#(?P<pointer>(/[^/]*)*)$")


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _pointed_schemas(
    schema: dict[str, Any], segments: list[str], components: dict[str, Any]
) -> list[dict[str, Any]]:
    """The schemas a JSON pointer can reach inside a document valid for `schema` (none: it names no field)."""
    schema = _resolve(schema, components)
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
    if alternatives:
        return [found for option in alternatives for found in _pointed_schemas(option, segments, components)]
    if not segments:
        return [schema]
    head, rest = segments[0], segments[1:]
    if head.isdigit() and "items" in schema:
        return _pointed_schemas(schema["items"], rest, components)
    if head in schema.get("properties", {}):
        return _pointed_schemas(schema["properties"][head], rest, components)
    return []


def _types(schemas: list[dict[str, Any]], components: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for schema in schemas:
        schema = _resolve(schema, components)
        for option in schema.get("anyOf", [schema]):
            kind = _resolve(option, components).get("type")
            found |= {kind} if isinstance(kind, str) else set(kind or ())
    return found - {"null"}


def _body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return content["schema"] if content else None


def _links(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    """(where, status, name, link, source operation) for every link of the document."""
    return [
        (f"{operation['operationId']} {status} -> {name}", status, name, link, operation)
        for _, _, operation in _operations(spec)
        for status, response in operation["responses"].items()
        for name, link in response.get("links", {}).items()
    ]


def _expression_types(
    expression: str, source: dict[str, Any], status: str, components: dict[str, Any]
) -> set[str] | str:
    """The types the expression can evaluate to in the source's exchange, or why it names nothing."""
    match = _RUNTIME_EXPRESSION.match(expression)
    if match is None:
        return f"{expression!r} is not a $request.body/$response.body expression"
    if match["side"] == "response":
        content = source["responses"][status].get("content", {}).get("application/json")
        schema = content["schema"] if content else None
    else:
        schema = _body_schema(source)
    segments = [segment.replace("~1", "/").replace("~0", "~") for segment in match["pointer"].split("/")[1:]]
    reached = _pointed_schemas(schema, segments, components) if schema else []
    return _types(reached, components) or f"{expression!r} names no field of {source['operationId']} {status}"


def test_every_link_targets_an_operation_and_parameters_that_exist(published: dict[str, Any]) -> None:
    """A link's target operation, each parameter and body field it fills, and the field of the source's
    request or answer each value comes from all exist, with a type the target takes."""
    components = published["components"]["schemas"]
    by_id = {operation["operationId"]: operation for _, _, operation in _operations(published)}
    problems = []
    for where, status, _, link, source in _links(published):
        target = by_id.get(link.get("operationId", ""))
        if target is None:
            problems.append(f"{where}: no operation {link.get('operationId')!r}")
            continue
        parameters = {(p["in"], p["name"]): p for p in target.get("parameters", [])}
        filled: list[tuple[str, str, set[str]]] = []
        for key, expression in link.get("parameters", {}).items():
            location, _, name = key.partition(".")
            if (location, name) not in parameters:
                problems.append(f"{where}: {target['operationId']} has no {location} parameter {name!r}")
                continue
            filled.append((key, expression, _types([parameters[location, name]["schema"]], components)))
        body = _body_schema(target)
        properties = _resolve(body, components).get("properties", {}) if body else {}
        for field, expression in link.get("requestBody", {}).items():
            if field not in properties:
                problems.append(f"{where}: {target['operationId']} takes no body field {field!r}")
                continue
            filled.append((f"body {field}", expression, _types([properties[field]], components)))
        for what, expression, accepted in filled:
            produced = _expression_types(expression, source, status, components)
            if isinstance(produced, str):
                problems.append(f"{where}: {what}: {produced}")
            elif not produced & accepted:
                problems.append(
                    f"{where}: {what}: {expression} is {sorted(produced)}, not {sorted(accepted)}"
                )
    assert problems == []


def _ids_taken(operation: dict[str, Any], components: dict[str, Any]) -> set[str]:
    path = {f"path.{p['name']}" for p in operation.get("parameters", []) if p["in"] == "path"}
    body = _body_schema(operation)
    properties = _resolve(body, components).get("properties", {}) if body else {}
    return path | {f"body {field}" for field in properties if field.endswith("_id")}


def test_every_operation_taking_an_id_is_reached_by_a_link(published: dict[str, Any]) -> None:
    """Without links schemathesis' stateful phase cannot reach an operation on a created resource: each id an
    operation takes (path parameter or `*_id` body field) is filled by at least one link, or the operation is
    in NOT_LINKABLE with the reason."""
    components = published["components"]["schemas"]
    supplied: dict[str, set[str]] = {}
    for _, _, _, link, _ in _links(published):
        filled = supplied.setdefault(link["operationId"], set())
        filled |= set(link.get("parameters", {})) | {f"body {field}" for field in link.get("requestBody", {})}
    unreached = {
        operation["operationId"]: sorted(missing)
        for _, _, operation in _operations(published)
        if operation["operationId"] not in NOT_LINKABLE
        and (missing := _ids_taken(operation, components) - supplied.get(operation["operationId"], set()))
    }
    assert unreached == {}
    assert set(NOT_LINKABLE) <= {operation["operationId"] for _, _, operation in _operations(published)}
