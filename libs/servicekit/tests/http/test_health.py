"""Probes: readiness runs checks concurrently with per-check timeouts; liveness turns 503 on shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from servicekit.health import (
    ReadinessCheck,
    ServiceLifecycle,
    amqp_check,
    begin_process_shutdown,
    http_check,
    run_readiness_checks,
)

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


async def _ok() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("connection refused by 127.0.0.1:5432")


def _sleeping(seconds: float) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        await asyncio.sleep(seconds)

    return check


async def test_ready_when_every_check_passes(build_app: AppFactory, make_client: ClientFactory) -> None:
    app = build_app(readiness=[ReadinessCheck("database", _ok), ReadinessCheck("broker", _ok)])
    response = await make_client(app).get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


async def test_not_ready_names_the_failing_check_by_error_class_only(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    app = build_app(readiness=[ReadinessCheck("database", _refused), ReadinessCheck("broker", _ok)])
    response = await make_client(app).get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {"database": "ConnectionRefusedError", "broker": "ok"},
    }
    assert "127.0.0.1" not in response.text


async def test_hung_check_times_out_without_holding_the_probe(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    app = build_app(
        readiness=[ReadinessCheck("search", _sleeping(30), timeout=0.2), ReadinessCheck("database", _ok)]
    )
    started = time.perf_counter()
    response = await make_client(app).get("/health/ready")
    elapsed = time.perf_counter() - started

    assert response.status_code == 503
    assert response.json()["checks"] == {"search": "TimeoutError", "database": "ok"}
    assert elapsed < 2


async def test_checks_run_concurrently() -> None:
    checks = [ReadinessCheck(f"dep{i}", _sleeping(0.4), timeout=2) for i in range(4)]
    started = time.perf_counter()
    all_ok, results = await run_readiness_checks(checks)
    elapsed = time.perf_counter() - started

    assert all_ok
    assert results == {f"dep{i}": "ok" for i in range(4)}
    # Four 0.4 s checks in sequence would take 1.6 s.
    assert elapsed < 1.2


async def test_live_turns_503_when_shutdown_begins_and_hooks_run_in_order(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    events: list[str] = []
    live_status_during_drain: list[int] = []
    app_holder: list[FastAPI] = []

    def hook(name: str) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
        @asynccontextmanager
        async def lifespan_hook(app: FastAPI) -> AsyncIterator[None]:
            events.append(f"enter {name}")
            yield
            # Consumers drain while the pod is already out of rotation.
            response = await make_client(app_holder[0]).get("/health/live")
            live_status_during_drain.append(response.status_code)
            events.append(f"exit {name}")

        return lifespan_hook

    app = build_app(lifespan_hooks=[hook("store"), hook("consumer")])
    app_holder.append(app)
    client = make_client(app)

    async with app.router.lifespan_context(app):
        assert events == ["enter store", "enter consumer"]
        live = await client.get("/health/live")
        assert live.status_code == 200
        assert (await client.get("/health/ready")).status_code == 200

    assert events == ["enter store", "enter consumer", "exit consumer", "exit store"]
    assert live_status_during_drain == [503, 503]
    assert (await client.get("/health/live")).status_code == 503
    assert (await client.get("/health/ready")).status_code == 503


async def test_failed_startup_hook_unwinds_the_hooks_already_entered(build_app: AppFactory) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def store(_: FastAPI) -> AsyncIterator[None]:
        events.append("store connected")
        try:
            yield
        finally:
            events.append("store closed")

    @asynccontextmanager
    async def broken(_: FastAPI) -> AsyncIterator[None]:
        raise ConnectionError("broker down")
        yield

    app = build_app(lifespan_hooks=[store, broken])
    with pytest.raises(ConnectionError, match="broker down"):
        async with app.router.lifespan_context(app):
            raise AssertionError("startup should have failed")
    assert events == ["store connected", "store closed"]


async def test_process_shutdown_flags_every_live_lifecycle() -> None:
    first, second = ServiceLifecycle(), ServiceLifecycle()
    begin_process_shutdown()
    assert first.shutting_down
    assert second.shutting_down


class _Bus:
    def __init__(self, *, connected: bool, answers: bool) -> None:
        self._connected = connected
        self._answers = answers

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def ping(self) -> None:
        if not self._answers:
            await asyncio.sleep(10)


async def test_amqp_check_uses_the_bus_probe_protocol() -> None:
    checks = [
        amqp_check(_Bus(connected=True, answers=True), name="up"),
        amqp_check(_Bus(connected=False, answers=True), name="down"),
        amqp_check(_Bus(connected=True, answers=False), name="stuck", timeout=0.1),
    ]
    all_ok, results = await run_readiness_checks(checks)
    assert not all_ok
    assert results == {"up": "ok", "down": "ConnectionError", "stuck": "TimeoutError"}


class _BusWithoutPing:
    is_connected = True


async def test_amqp_check_accepts_a_bus_without_ping() -> None:
    all_ok, results = await run_readiness_checks([amqp_check(_BusWithoutPing())])
    assert all_ok
    assert results == {"amqp": "ok"}


def test_duplicate_check_names_are_refused(build_app: AppFactory) -> None:
    with pytest.raises(ValueError, match="unique"):
        build_app(readiness=[ReadinessCheck("database", _ok), ReadinessCheck("database", _ok)])


async def test_http_check_passes_on_2xx_and_fails_on_error_status(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    dependency = build_app(readiness=[ReadinessCheck("store", _refused)])
    client = make_client(dependency)
    checks = [
        http_check("http://service/health/live", client, name="live"),
        http_check("http://service/health/ready", client),
    ]
    all_ok, results = await run_readiness_checks(checks)
    assert not all_ok
    assert results == {"live": "ok", "service": "HTTPStatusError"}
