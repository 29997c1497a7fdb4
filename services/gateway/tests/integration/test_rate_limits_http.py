"""Rate limits through the gateway, counted in real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

WRONG = {"email_or_username": "alice", "password": "wrong"}


async def test_a_burst_of_parallel_guesses_reaches_auth_only_as_often_as_the_budget_allows(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    guesses = [{"email_or_username": "alice", "password": f"guess-{index}"} for index in range(50)]

    answers = await asyncio.gather(
        *(gateway.post("/api/v1/gateway/auth/signin", json=guess) for guess in guesses)
    )

    assert sorted({answer.status_code for answer in answers}) == [401, 429]
    # signin_failures_before_lock=3 in the fixture: the address may fail 3 * 4 times, counted before auth.
    assert upstream_log.paths().count("/api/v1/auth/signin") == 12
    locked = next(answer for answer in answers if answer.status_code == 429)
    assert locked.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(locked.headers["retry-after"]) <= 900


async def test_successful_signins_give_their_attempt_back(gateway: httpx.AsyncClient) -> None:
    for _ in range(20):  # more than the address's failure budget (12)
        answer = await gateway.post(
            "/api/v1/gateway/auth/signin",
            json={"email_or_username": "alice", "password": "correct horse battery staple"},
            headers={"X-Device-Id": "device-known"},
        )
        assert answer.status_code == 200


async def test_failures_from_one_ip_across_accounts_lock_the_ip(gateway: httpx.AsyncClient) -> None:
    # Per-IP budget is 4x the per-account one (3 -> 12): spread over accounts so no account locks first.
    for attempt in range(12):
        response = await gateway.post(
            "/api/v1/gateway/auth/signin", json={"email_or_username": f"user{attempt}", "password": "x"}
        )
        assert response.status_code == 401
    locked = await gateway.post(
        "/api/v1/gateway/auth/signin", json={"email_or_username": "fresh", "password": "x"}
    )
    assert locked.status_code == 429
    assert "retry-after" in locked.headers


async def test_per_ip_request_budget(start_gateway: Any) -> None:
    gateway = await start_gateway(rate_limit_per_ip_per_minute=5)
    statuses = [
        (await gateway.post("/api/v1/gateway/auth/refresh", json={"refresh_token": "x"})).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    # Probes are not rate limited.
    assert (await gateway.get("/health/live")).status_code == 200


async def test_per_account_request_budget(start_gateway: Any) -> None:
    gateway = await start_gateway(rate_limit_per_account_per_minute=3)
    signin = await gateway.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "alice", "password": "correct horse battery staple"},
        headers={"X-Device-Id": "device-known"},
    )
    headers = {"Authorization": f"Bearer {signin.json()['access_token']}"}
    statuses = [(await gateway.get("/api/v1/gateway/auth/me", headers=headers)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_with_a_token_both_budgets_and_the_session_are_judged_in_the_documented_order(
    start_gateway: Any,
) -> None:
    # Limits of their own: the counters' keys include the limit, so no other test's counts are shared.
    gateway = await start_gateway(rate_limit_per_account_per_minute=4, rate_limit_per_ip_per_minute=7)
    signin = await gateway.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "alice", "password": "correct horse battery staple"},
        headers={"X-Device-Id": "device-known"},
    )  # the address's 1st request
    headers = {"Authorization": f"Bearer {signin.json()['access_token']}"}
    me = [(await gateway.get("/api/v1/gateway/auth/me", headers=headers)).status_code for _ in range(3)]
    assert me == [200, 200, 200]  # 2nd to 4th; this replica now remembers the session as live
    assert (await gateway.post("/api/v1/gateway/auth/signout", headers=headers)).status_code == 204  # 5th
    # 6th and 7th: the account is over its budget (4) and the session has ended: the session verdict comes
    # first, and at once, although the session was remembered as live a moment ago.
    for _ in range(2):
        ended = await gateway.get("/api/v1/gateway/auth/me", headers=headers)
        assert ended.status_code == 401, ended.text
        assert ended.json()["error"]["code"] == "session_revoked"
    # 8th: the address is over its budget (7), which comes before anything about the session.
    over = await gateway.get("/api/v1/gateway/auth/me", headers=headers)
    assert over.status_code == 429
    assert "retry-after" in over.headers


async def test_a_session_ended_through_another_replica_is_refused_by_this_one_at_once(
    start_gateway: Any,
) -> None:
    # The edge's admission reads the session's liveness in the same script call as the budgets (ADR 0024,
    # edge redesign), so the per-replica memory of live sessions no longer delays a revocation made
    # elsewhere; a memory of 10 s (the most the setting allows) would otherwise keep it usable on `replica`.
    replica = await start_gateway(session_liveness_cache_seconds=10)
    other = await start_gateway(session_liveness_cache_seconds=10)
    signin = await other.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "alice", "password": "correct horse battery staple"},
        headers={"X-Device-Id": "device-known"},
    )
    headers = {"Authorization": f"Bearer {signin.json()['access_token']}"}
    assert (await replica.get("/api/v1/gateway/auth/me", headers=headers)).status_code == 200
    assert (await replica.get("/api/v1/gateway/auth/me", headers=headers)).status_code == 200

    assert (await other.post("/api/v1/gateway/auth/signout", headers=headers)).status_code == 204

    ended = await replica.get("/api/v1/gateway/auth/me", headers=headers)
    assert ended.status_code == 401, ended.text
    assert ended.json()["error"]["code"] == "session_revoked"
