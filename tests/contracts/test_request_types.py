"""Every number and boolean a client sends to a public operation is taken only as what the schema says.

Pydantic's lax mode takes `true` for 1 and `"3"` for 3 in a JSON body, which the published schema refuses: a
client with that bug got its request carried out instead of a 422 naming the field (the fuzzer found
`{"up_to_seq": true}` marking a message read). This walks the request models of every public operation, the
way FastAPI validates them, so a new field with a plain `int` or `bool` fails here. Query parameters arrive
as text, so there `"10"` is a number and `"true"` is not.

No servers needed: the routers are validated in-process (scripts/generate_public_api.py's SERVICE_ROUTERS).
"""

from __future__ import annotations

import importlib.util
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "scripts" / "generate_public_api.py"
# Values of the wrong JSON type that lax parsing would turn into a valid one.
WRONG_JSON_TYPES: dict[type, tuple[object, ...]] = {int: (True, "3"), float: (True, "3"), bool: (1, "true")}
Location = tuple[str | int, ...]


def _public_routes() -> list[APIRoute]:
    spec = importlib.util.spec_from_file_location("generate_public_api", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    routes = []
    for targets in generator.SERVICE_ROUTERS.values():
        for target in targets:
            module_name, _, attribute = target.partition(":")
            router = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(router, APIRouter)
            routes += [route for route in router.routes if isinstance(route, APIRoute)]
    return [route for route in routes if "." in (route.operation_id or "")]


PUBLIC_ROUTES = _public_routes()


def _scalar_fields(annotation: Any, where: Location = ()) -> Iterator[tuple[Location, type]]:
    """(location in the JSON document, scalar type) of every int, float and bool `annotation` holds."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        yield from _scalar_fields(arguments[0], where)
    elif origin in (typing.Union, types.UnionType):
        for option in arguments:
            yield from _scalar_fields(option, where)
    elif origin in (list, tuple, set, frozenset):
        for item in arguments:
            yield from _scalar_fields(item, (*where, 0))
    elif annotation in (int, float, bool):
        yield where, annotation
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _scalar_fields(field.annotation, (*where, field.alias or name))


def _document(where: Location, value: object) -> object:
    """The smallest JSON document holding `value` at `where` (other fields missing: refused, elsewhere)."""
    for step in reversed(where):
        value = [value] if isinstance(step, int) else {step: value}
    return value


def _refused_as_wrong_type(errors: list[dict[str, Any]], where: Location) -> bool:
    return any(
        tuple(error["loc"][: len(where)]) == where and error["type"].endswith("_type") for error in errors
    )


def _body_cases() -> list[Any]:
    cases = []
    for route in PUBLIC_ROUTES:
        if route.body_field is None:
            continue
        found = dict(_scalar_fields(route.body_field.field_info.annotation))
        for where, kind in found.items():
            for wrong in WRONG_JSON_TYPES[kind]:
                name = f"{route.operation_id}:{'.'.join(map(str, where))}={wrong!r}"
                cases.append(pytest.param(route, where, wrong, id=name))
    return cases


def test_the_walk_finds_the_fields_it_guards() -> None:
    """Planted check: the walk reaches nested, optional and list fields (an empty walk passes anything)."""
    found = {
        (route.operation_id, where)
        for route in PUBLIC_ROUTES
        if route.body_field is not None
        for where, _ in _scalar_fields(route.body_field.field_info.annotation)
    }
    assert {
        ("chat.send", ("offer", "price")),
        ("chat.markRead", ("up_to_seq",)),
        ("gigs.update", ("price",)),
        ("gigs.setActive", ("active",)),
        ("sellers.update", ("experience", 0, "end_year")),
        ("orders.decideExtension", ("version",)),
    } <= found


class _LaxBody(BaseModel):
    count: int


def test_a_lax_field_is_caught() -> None:
    """Planted defect: a plain `int` takes `"3"`, and the check says so."""
    router = APIRouter()

    @router.post("/lax", operation_id="planted.lax")
    def lax(body: _LaxBody) -> None: ...

    route = router.routes[0]
    assert isinstance(route, APIRoute)
    assert route.body_field is not None
    _, errors = route.body_field.validate(_document(("count",), "3"), loc=())
    assert not _refused_as_wrong_type(errors, ("count",))


@pytest.mark.parametrize(("route", "where", "wrong"), _body_cases())
def test_a_body_number_or_boolean_of_the_wrong_json_type_is_refused(
    route: APIRoute, where: Location, wrong: object
) -> None:
    assert route.body_field is not None
    _, errors = route.body_field.validate(_document(where, wrong), loc=())
    assert _refused_as_wrong_type(errors, where), f"{route.operation_id} took {wrong!r} at {where}: {errors}"


def _query_cases() -> list[Any]:
    return [
        pytest.param(route, parameter, id=f"{route.operation_id}:{parameter.alias}")
        for route in PUBLIC_ROUTES
        for parameter in route.dependant.query_params
        if any(kind is int for _, kind in _scalar_fields(parameter.field_info.annotation))
    ]


@pytest.mark.parametrize(("route", "parameter"), _query_cases())
def test_a_query_integer_is_a_number_written_as_text(route: APIRoute, parameter: Any) -> None:
    """`?size=10` is the number 10 (a query string is text); `?size=true` is a 422, not 1."""
    bounds = [rule.ge for rule in parameter.field_info.metadata if isinstance(rule, annotated_types.Ge)]
    lowest = typing.cast(int, bounds[0]) if bounds else 1
    taken, errors = parameter.validate(str(lowest), loc=())
    assert (taken, errors) == (lowest, [])
    for wrong in ("true", "1.5"):
        _, errors = parameter.validate(wrong, loc=())
        assert errors, f"{route.operation_id} ?{parameter.alias}={wrong} was taken"
