"""Writes the gateway's public operation table from each service's own OpenAPI (docs/adr/0008).

A service publishes an operation by declaring it once, on its route, with ``servicekit.public_api``'s
``public_operation("<group>.<name>", session=...)``: the contract id is the ``operationId`` and the session
rule is ``x-gateway-session``. This script renders every service's OpenAPI from its routers (nothing
connects), keeps
the operations whose id is a contract id, renames their component schemas ``<service>.<Name>`` so services
cannot collide, adds the OpenAPI links declared in ``PUBLIC_LINKS`` to the answers they start from, and writes
them to ``PUBLIC_OPERATIONS`` inside the gateway package (committed). The gateway serves and documents exactly
that table; ``tests/contracts`` fails when the file is out of date or a link does not hold.

    uv run python scripts/generate_public_api.py          # rewrite the table
    uv run python scripts/generate_public_api.py --check  # exit 1 if the committed table is stale
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from servicekit.public_api import GATEWAY_SESSION_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLIC_OPERATIONS = REPO_ROOT / "services/gateway/src/gateway_service/entrypoints/public_operations.json"
# Links cross services (a gig's id is what an order is made from), so they are declared in one table, not on
# each service's routes, where the target would be missing from the service's own document.
PUBLIC_LINKS = REPO_ROOT / "scripts/public_api_links.toml"
# Service name -> the routers holding its HTTP API ("module:attribute"). Adding a service is one line here.
SERVICE_ROUTERS: dict[str, tuple[str, ...]] = {
    "auth": ("auth_service.entrypoints.routes:router",),
    "users": ("users_service.entrypoints.routes:sellers", "users_service.entrypoints.routes:buyers"),
    "gig": (
        "gig_service.entrypoints.routes_read:router",
        "gig_service.entrypoints.routes_write:router",
        "gig_service.entrypoints.routes_media:router",
    ),
    "review": ("review_service.entrypoints.routes:router",),
    "order": ("order_service.entrypoints.routes:router", "order_service.entrypoints.routes:payments_router"),
    "chat": ("chat_service.entrypoints.routes:router",),
}
SERVICE_PREFIX = "/api/v1/"
# The one error shape comes from servicekit in every service: one shared schema, not one copy per service.
SHARED_SCHEMAS = frozenset({"ErrorBody", "ErrorInfo", "ErrorDetail"})
_REF_PREFIX = "#/components/schemas/"
_METHODS = ("get", "put", "post", "delete", "patch")


def _load_router(target: str) -> APIRouter:
    module_name, _, attribute = target.partition(":")
    router = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(router, APIRouter), f"{target} is not an APIRouter"
    return router


def service_openapi(service: str) -> dict[str, Any]:
    app = FastAPI(title=service, version="0")
    for target in SERVICE_ROUTERS[service]:
        app.include_router(_load_router(target))
    return app.openapi()


def _rename_refs(node: Any, service: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (_schema_ref(value, service) if key == "$ref" else _rename_refs(value, service))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, service) for item in node]
    return node


def _schema_ref(ref: str, service: str) -> str:
    name = ref.removeprefix(_REF_PREFIX)
    return ref if name in SHARED_SCHEMAS else f"{_REF_PREFIX}{service}.{name}"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix(_REF_PREFIX)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _public_name(name: str, service: str) -> str:
    return name if name in SHARED_SCHEMAS else f"{service}.{name}"


def public_operations(service: str, spec: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The service's contract operations and the component schemas they reach (renamed)."""
    operations: list[dict[str, Any]] = []
    for path, item in spec["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if not operation or "." not in operation.get("operationId", ""):
                continue  # no contract id: internal only (e.g. development seeding)
            if not path.startswith(SERVICE_PREFIX):
                raise SystemExit(f"{service}: public path {path} is not under {SERVICE_PREFIX}")
            body = {
                key: value for key, value in operation.items() if key not in ("tags", GATEWAY_SESSION_KEY)
            }
            operations.append(
                {
                    "operation_id": operation["operationId"],
                    "service": service,
                    "method": method.upper(),
                    "service_path": path,
                    "public_path": "/api/v1/gateway/" + path.removeprefix(SERVICE_PREFIX),
                    "session": operation.get(GATEWAY_SESSION_KEY, "none"),
                    "openapi": _rename_refs(body, service),
                }
            )
    components = spec.get("components", {}).get("schemas", {})
    reached: dict[str, Any] = {}
    pending = [name for operation in operations for name in _refs(operation["openapi"])]
    while pending:
        public_name = pending.pop()
        if public_name in reached:
            continue
        original = public_name if public_name in SHARED_SCHEMAS else public_name.split(".", 1)[1]
        schema = _rename_refs(components[original], service)
        reached[public_name] = schema
        pending.extend(_refs(schema))
    return operations, reached


# (source operationId, status) -> link name -> OpenAPI link object
AnswerLinks = dict[tuple[str, str], dict[str, dict[str, Any]]]


def declared_links(table: dict[str, Any]) -> AnswerLinks:
    """The links of the table's `[[links]]` entries, by the answer they start from.

    Each entry links every `from` answer to every `to` operation; the link is named after its target.
    """
    links: AnswerLinks = {}
    for entry in table["links"]:
        unknown = set(entry) - {"from", "to", "parameters", "body"}
        if unknown:
            raise SystemExit(f"{PUBLIC_LINKS.name}: unknown keys {sorted(unknown)} in {entry}")
        for answer in entry["from"]:
            operation_id, _, status = answer.partition(" ")
            for target in entry["to"]:
                link: dict[str, Any] = {"operationId": target}
                if "parameters" in entry:
                    link["parameters"] = dict(entry["parameters"])
                if "body" in entry:
                    link["requestBody"] = dict(entry["body"])
                answer_links = links.setdefault((operation_id, status), {})
                if target in answer_links:
                    raise SystemExit(f"{PUBLIC_LINKS.name}: {answer} links to {target} twice")
                answer_links[target] = link
    return links


def add_links(operations: list[dict[str, Any]], links: AnswerLinks) -> None:
    """Put each link on the answer it starts from; a link from or to an unknown operation or status fails."""
    by_id = {operation["operation_id"]: operation for operation in operations}
    for (operation_id, status), answer_links in links.items():
        source = by_id.get(operation_id)
        if source is None:
            raise SystemExit(f"{PUBLIC_LINKS.name}: no public operation {operation_id}")
        response = source["openapi"].get("responses", {}).get(status)
        if response is None:
            raise SystemExit(f"{PUBLIC_LINKS.name}: {operation_id} does not answer {status}")
        for target in answer_links:
            if target not in by_id:
                raise SystemExit(f"{PUBLIC_LINKS.name}: {operation_id} {status} links to unknown {target}")
        response["links"] = dict(sorted(answer_links.items()))


def render() -> str:
    operations: list[dict[str, Any]] = []
    schemas: dict[str, Any] = {}
    for service in sorted(SERVICE_ROUTERS):
        found, reached = public_operations(service, service_openapi(service))
        operations.extend(found)
        schemas.update(reached)
    operations.sort(key=lambda operation: operation["operation_id"])
    add_links(operations, declared_links(tomllib.loads(PUBLIC_LINKS.read_text(encoding="utf-8"))))
    document = {
        "generated_by": "scripts/generate_public_api.py (do not edit by hand)",
        "operations": operations,
        "schemas": dict(sorted(schemas.items())),
    }
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the committed table is out of date")
    arguments = parser.parse_args(argv)
    rendered = render()
    current = PUBLIC_OPERATIONS.read_text(encoding="utf-8") if PUBLIC_OPERATIONS.exists() else ""
    if arguments.check:
        if rendered != current:
            print(
                f"{PUBLIC_OPERATIONS.relative_to(REPO_ROOT)} is out of date: "
                "run `uv run python scripts/generate_public_api.py`",
                file=sys.stderr,
            )
            return 1
        return 0
    PUBLIC_OPERATIONS.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
