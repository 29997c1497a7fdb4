"""The load generator's scenario builds valid requests: every operation of bench/load/scenario.py, run
against a recording transport (no servers), sends the method and path of the public operation it claims to
be (services/gateway/.../public_operations.json), a JSON body valid against that operation's published
request schema, and a bearer token where the operation requires a session. The mix reaches every service
with a public group. Runs in well under a second; the load itself is bench/load/run.py, never a test."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bench.load import scenario  # noqa: E402 - the repository root is on sys.path only from here

PUBLIC_API = json.loads(
    (REPO_ROOT / "services/gateway/src/gateway_service/entrypoints/public_operations.json").read_text()
)
OPERATIONS = {operation["operation_id"]: operation for operation in PUBLIC_API["operations"]}


def _path_pattern(public_path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[A-Za-z0-9_-]+", re.escape(public_path)) + "$")


def _answer(request: httpx.Request) -> httpx.Response:
    """What the gateway would answer, as far as the scenario reads it (ids and versions)."""
    order = {"id": "order-1", "version": 2}
    if request.method == "POST" and request.url.path.endswith("/orders"):
        return httpx.Response(201, json={"order": order})
    if request.url.path.endswith("/payments/dev-confirm"):
        return httpx.Response(200, json={"order": order})
    return httpx.Response(200, json={"id": "gig-new", "version": 2, **order})


def _market() -> scenario.Marketplace:
    alice = scenario.Member("user-alice", {"Authorization": "Bearer a", **scenario.DEVICE})
    bob = scenario.Member("user-bob", {"Authorization": "Bearer b", **scenario.DEVICE})
    gigs = [scenario.Gig("gig-1", 1, alice), scenario.Gig("gig-2", 1, bob)]
    return scenario.Marketplace(members=[alice, bob], gigs=gigs, orderable=list(gigs))


def _check(call: scenario.Call, request: httpx.Request) -> None:
    published = OPERATIONS[call.operation]  # KeyError: not a public operationId
    assert request.method == published["method"], call.operation
    assert _path_pattern(published["public_path"]).match(request.url.path), (call.operation, request.url)
    if published["session"] == "required":
        assert request.headers["authorization"].startswith("Bearer "), call.operation
    request_body = published["openapi"].get("requestBody")
    if request_body is None:
        assert request.content == b"", call.operation
        return
    schema = request_body["content"]["application/json"]["schema"]
    document = {**schema, "components": {"schemas": PUBLIC_API["schemas"]}}
    jsonschema.Draft202012Validator(document).validate(json.loads(request.content))
    assert call.ok <= {200, 201, 202}, call.operation


async def _run(
    operation: Callable[..., Any], market: scenario.Marketplace
) -> tuple[scenario.Call, httpx.Request]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record), base_url="http://gw") as client:
        call = await operation(client, market)
    assert len(sent) == 1, "an operation of the mix is one request"
    return call, sent[0]


@pytest.mark.parametrize("label", [label for label, _, _ in scenario.MIX])
async def test_each_operation_of_the_mix_sends_a_valid_public_request(label: str) -> None:
    operation = next(operation for name, _, operation in scenario.MIX if name == label)
    call, request = await _run(operation, _market())
    _check(call, request)


async def test_an_order_goes_through_its_whole_life_one_valid_step_at_a_time() -> None:
    market, steps = _market(), []
    for _ in range(4):
        call, request = await _run(scenario.advance_order, market)
        _check(call, request)
        steps.append(call.operation)
    market.completed[0].completed_at -= scenario.REVIEW_AFTER_SECONDS  # completion reached review
    call, request = await _run(scenario.advance_order, market)
    _check(call, request)
    steps.append(call.operation)
    assert steps == [
        "orders.create", "payments.devConfirm", "orders.deliver", "orders.approve", "reviews.create",
    ]  # fmt: skip
    left = [*market.awaiting_payment, *market.in_progress, *market.delivered, *market.completed]
    assert left == []


def test_the_mix_weighs_100_percent_and_reaches_every_service_with_a_public_group() -> None:
    assert sum(weight for _, weight, _ in scenario.MIX) == 100
    reached = {OPERATIONS[label]["service"] for label, _, _ in scenario.MIX if label in OPERATIONS}
    reached |= {OPERATIONS[name]["service"] for name in ("orders.create", "reviews.create")}
    assert reached == {operation["service"] for operation in PUBLIC_API["operations"]}


async def test_a_gig_edit_refused_as_stale_is_read_again_and_retried_once_with_the_fresh_version() -> None:
    sent: list[httpx.Request] = []

    def stale_first(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"id": "gig-1", "version": 5})
        stale = json.loads(request.content)["version"] != 5
        return httpx.Response(409 if stale else 200, json={"id": "gig-1", "version": 6})

    market = _market()
    market.gigs = market.gigs[:1]
    async with httpx.AsyncClient(transport=httpx.MockTransport(stale_first), base_url="http://gw") as client:
        call = await scenario.reprice_gig(client, market)
    assert [request.method for request in sent] == ["PATCH", "GET", "PATCH"]
    assert (call.response.status_code, call.conflicts, market.gigs[0].version) == (200, 1, 6)
    _check(call, sent[-1])
