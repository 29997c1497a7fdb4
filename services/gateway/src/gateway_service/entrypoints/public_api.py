"""The public operation table and the one OpenAPI document the gateway publishes (docs/adr/0008).

``public_operations.json`` is generated from each service's own OpenAPI (``scripts/generate_public_api.py``):
every operation a service marked public, with its contract ``operationId``, request schema and the statuses
the service answers. The gateway routes each one (``passthrough_routes``, unless it has its own handler) and
publishes it here, adding what the edge itself can answer: 401 for sessions, 413, 429, and 502/503/504 for a
service that fails. Nothing outside ``/api/v1/gateway`` is published (probes and metrics are not public API).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PUBLIC_PREFIX = "/api/v1/gateway/"
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
SessionRule = Literal["required", "optional", "none"]
_REF_PREFIX = "#/components/schemas/"
# FastAPI documents validation errors with its own model; every 422 here has the shared error body.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}


@dataclass(frozen=True)
class PublicOperation:
    operation_id: str
    service: str
    method: str
    service_path: str
    public_path: str
    session: SessionRule
    openapi: dict[str, Any]


@dataclass(frozen=True)
class PublicApi:
    operations: tuple[PublicOperation, ...]
    schemas: dict[str, Any]

    def by_id(self) -> dict[str, PublicOperation]:
        return {operation.operation_id: operation for operation in self.operations}


@cache
def load_public_api() -> PublicApi:
    """The committed table (read once; it is part of the package, not configuration)."""
    raw = resources.files(__package__).joinpath("public_operations.json").read_text(encoding="utf-8")
    document = json.loads(raw)
    operations = tuple(
        PublicOperation(
            operation_id=item["operation_id"],
            service=item["service"],
            method=item["method"],
            service_path=item["service_path"],
            public_path=item["public_path"],
            session=item["session"],
            openapi=item["openapi"],
        )
        for item in document["operations"]
    )
    return PublicApi(operations=operations, schemas=document["schemas"])


def _error(status: int, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if headers:
        response["headers"] = headers
    return response


def _has_schema(response: dict[str, Any]) -> bool:
    content = response.get("content", {})
    return any(media.get("schema") for media in content.values())


def _merge_operation(own: dict[str, Any], published: PublicOperation) -> dict[str, Any]:
    """The gateway route's own documentation, with the owning service's request and error statuses.

    The service's parameters and body win (they carry the enforced constraints). For responses the gateway's
    wins where it declares a schema of its own (a session instead of auth's user), the service's otherwise;
    the OpenAPI links of the table's answer are kept either way.
    """
    source = published.openapi
    merged = dict(own)
    service_parameters = source.get("parameters", [])
    taken = {(parameter["name"].lower(), parameter["in"]) for parameter in service_parameters}
    merged["parameters"] = service_parameters + [
        parameter
        for parameter in own.get("parameters", [])
        if (parameter["name"].lower(), parameter["in"]) not in taken
    ]
    if not merged["parameters"]:
        del merged["parameters"]
    if "requestBody" in source:
        merged["requestBody"] = source["requestBody"]
    responses = dict(source.get("responses", {}))
    service_succeeds = any(status.startswith("2") for status in responses)
    for status, response in own.get("responses", {}).items():
        if (
            status not in responses
            and status.startswith("2")
            and service_succeeds
            and not _has_schema(response)
        ):
            continue  # a pass-through route's default "200 Successful Response": the service's success wins
        if status not in responses or _has_schema(response):
            # The links of the answer stay (the table's `$response` pointers are checked against this one).
            links = responses.get(status, {}).get("links")
            responses[status] = {**response, "links": links} if links else response
    merged["responses"] = responses
    for key in ("summary", "description"):
        if key in source and key not in own:
            merged[key] = source[key]
    return merged


def _add_edge_answers(operation: dict[str, Any], *, calls_a_service: bool) -> None:
    """Statuses the gateway itself can answer for this operation, each with the shared error body."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in list(responses.items()):
        schema = json.dumps(response.get("content", {}))
        if any(name in schema for name in _FASTAPI_VALIDATION_SCHEMAS):
            responses[status] = _error(int(status))
    edge: dict[int, dict[str, Any] | None] = {413: None, 429: _RETRY_AFTER, 503: None}
    if "requestBody" in operation:
        edge[400] = None  # a body that is not valid JSON (or not UTF-8)
    if "requestBody" in operation or operation.get("parameters"):
        edge[422] = None
    if operation.get("security"):
        edge[401] = None
    if calls_a_service:
        edge.update({502: None, 504: None})
    for edge_status, headers in edge.items():
        existing = responses.get(str(edge_status))
        if existing is None or not _has_schema(existing):
            responses[str(edge_status)] = _error(edge_status, headers)
        elif headers:
            existing.setdefault("headers", headers)
    operation["responses"] = dict(sorted(responses.items()))


def _referenced(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
                yield value.removeprefix(_REF_PREFIX)
            else:
                yield from _referenced(value)
    elif isinstance(node, list):
        for item in node:
            yield from _referenced(item)


def _keep_reachable_schemas(spec: dict[str, Any]) -> None:
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    reachable: set[str] = set()
    pending = list(_referenced(spec["paths"]))
    while pending:
        name = pending.pop()
        if name not in reachable and name in schemas:
            reachable.add(name)
            pending.extend(_referenced(schemas[name]))
    spec["components"]["schemas"] = {name: schemas[name] for name in sorted(reachable)}


def build_public_openapi(app: FastAPI, public_api: PublicApi) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
    spec["paths"] = {path: item for path, item in spec["paths"].items() if path.startswith(PUBLIC_PREFIX)}
    published = public_api.by_id()
    for item in spec["paths"].values():
        for method, operation in list(item.items()):
            source = published.get(operation.get("operationId", ""))
            if source is not None:
                operation = item[method] = _merge_operation(operation, source)
                if source.session == "optional" and operation.get("security"):
                    operation["security"] = [{}, *operation["security"]]  # anonymous calls are allowed too
            _add_edge_answers(operation, calls_a_service=source is not None)
    components = spec.setdefault("components", {})
    components["schemas"] = {**components.get("schemas", {}), **public_api.schemas}
    _keep_reachable_schemas(spec)
    return spec


def install_public_openapi(app: FastAPI, public_api: PublicApi) -> None:
    """Serve ``build_public_openapi`` at ``/openapi.json`` (built on first request, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_public_openapi(app, public_api)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
