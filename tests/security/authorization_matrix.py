"""Authorization matrix: every route x every kind of caller, each answer checked against the route's rule.

A service (or the gateway) lists its routes with the access they need; ``check_matrix`` calls each one as
each caller and fails with the whole table of violations, so a route added without its guard shows up as
one line. Adding a service: list its routes in a ``Route`` table and call ``check_matrix`` from a test.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx


class Access(enum.Enum):
    PUBLIC = "public"  # anyone (the route itself may still refuse bad input)
    CALLER = "caller"  # any caller with valid credentials (internal token without a user, for services)
    SIGNED_IN = "signed_in"  # a signed-in user only


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    access: Access
    body: Any = None


@dataclass(frozen=True)
class Caller:
    """A kind of caller: its headers (a fresh set per call, tokens expire) and the access it holds."""

    name: str
    headers: Callable[[], Mapping[str, str]]
    holds: frozenset[Access]


async def check_matrix(client: httpx.AsyncClient, routes: Sequence[Route], callers: Sequence[Caller]) -> None:
    """Refused callers must get 401 (or 403); allowed ones must not; nobody may get a 5xx."""
    violations: list[str] = []
    for route in routes:
        for caller in callers:
            response = await client.request(
                route.method, route.path, json=route.body, headers=dict(caller.headers())
            )
            status = response.status_code
            allowed = route.access is Access.PUBLIC or route.access in caller.holds
            if status >= 500:
                violations.append(f"{route.method} {route.path} as {caller.name}: {status} (server error)")
            elif allowed and status in (401, 403):
                violations.append(f"{route.method} {route.path} as {caller.name}: {status}, expected access")
            elif not allowed and status not in (401, 403):
                violations.append(f"{route.method} {route.path} as {caller.name}: {status}, expected 401/403")
    assert not violations, "authorization matrix violations:\n" + "\n".join(violations)


@dataclass(frozen=True)
class PartyRoute:
    """A route on one resource that only some of its parties may use (an order: buyer, seller)."""

    method: str
    path: str
    allowed: frozenset[str]
    body: Any = None


async def check_refusals(
    client: httpx.AsyncClient,
    routes: Sequence[PartyRoute],
    callers: Mapping[str, Callable[[], Mapping[str, str]]],
) -> int:
    """Every caller not in a route's `allowed` must be refused: 401, 403, or 404 (a stranger is not told
    the resource exists); never a 2xx, 409 or 5xx. Returns how many refusals were checked."""
    violations: list[str] = []
    checked = 0
    for route in routes:
        for name, headers in callers.items():
            if name in route.allowed:
                continue
            response = await client.request(
                route.method, route.path, json=route.body, headers=dict(headers())
            )
            checked += 1
            if response.status_code not in (401, 403, 404):
                violations.append(
                    f"{route.method} {route.path} as {name}: {response.status_code}, expected refusal"
                )
    assert not violations, "party authorization violations:\n" + "\n".join(violations)
    return checked
