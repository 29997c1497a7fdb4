"""Liveness and readiness: `/health/live`, `/health/ready` and ready-made dependency checks.

Readiness runs every check concurrently, each under its own timeout, so one hung dependency cannot make the
probe itself time out and hide which dependency is failing. Liveness turns 503 as soon as shutdown begins so
the pod is taken out of rotation while in-flight work drains.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    # Only `http_check` needs httpx, and no service's readiness uses it today: not imported at startup.
    import httpx

__all__ = [
    "AmqpConnectionProbe",
    "ReadinessCheck",
    "ServiceLifecycle",
    "amqp_check",
    "begin_process_shutdown",
    "health_router",
    "http_check",
    "mongo_check",
    "redis_check",
    "run_readiness_checks",
    "sql_check",
]

logger = logging.getLogger(__name__)

DEFAULT_CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class ReadinessCheck:
    """One dependency the service needs to serve traffic; `check` raises when it is unusable."""

    name: str
    check: Callable[[], Awaitable[None]]
    timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS


class ServiceLifecycle:
    """Whether the service is shutting down; shared by the liveness probe, the lifespan and `run_service`."""

    def __init__(self) -> None:
        self._shutting_down = False
        _lifecycles.add(self)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def begin_shutdown(self) -> None:
        self._shutting_down = True


# Every lifecycle of the process, so a SIGTERM caught by `run_service` (which only knows the app's import
# string) can flag the app it started. Weak, so apps built and dropped by tests are not kept alive.
_lifecycles: weakref.WeakSet[ServiceLifecycle] = weakref.WeakSet()


def begin_process_shutdown() -> None:
    """Flag every service app of this process as shutting down (called from the SIGTERM handler)."""
    for lifecycle in list(_lifecycles):
        lifecycle.begin_shutdown()


async def _run_one(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check.check(), timeout=check.timeout)
    except TimeoutError:
        logger.warning("readiness check timed out", extra={"check": check.name, "timeout": check.timeout})
        return "TimeoutError"
    except Exception as error:
        logger.warning(
            "readiness check failed", extra={"check": check.name, "error_class": type(error).__name__}
        )
        return type(error).__name__
    return "ok"


async def run_readiness_checks(checks: Sequence[ReadinessCheck]) -> tuple[bool, dict[str, str]]:
    """Run all checks concurrently; returns (all ok, {name: "ok" or the failure's exception class})."""
    outcomes = await asyncio.gather(*(_run_one(check) for check in checks))
    results = {check.name: outcome for check, outcome in zip(checks, outcomes, strict=True)}
    return all(outcome == "ok" for outcome in outcomes), results


def health_router(lifecycle: ServiceLifecycle, checks: Sequence[ReadinessCheck]) -> APIRouter:
    """Routes for the kubelet probes; they carry no auth and are excluded from tracing."""
    frozen_checks = tuple(checks)
    names = [check.name for check in frozen_checks]
    if len(set(names)) != len(names):
        # Results are keyed by name; a duplicate would silently hide one dependency's state.
        raise ValueError(f"readiness check names must be unique, got {names}")
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="Liveness probe")
    async def live() -> JSONResponse:
        if lifecycle.shutting_down:
            return JSONResponse({"status": "shutting_down"}, status_code=503)
        return JSONResponse({"status": "alive"})

    @router.get("/ready", summary="Readiness probe")
    async def ready() -> JSONResponse:
        if lifecycle.shutting_down:
            return JSONResponse(
                {"status": "not_ready", "checks": {"shutdown": "ShuttingDown"}}, status_code=503
            )
        all_ok, results = await run_readiness_checks(frozen_checks)
        if all_ok:
            return JSONResponse({"status": "ready", "checks": results})
        return JSONResponse({"status": "not_ready", "checks": results}, status_code=503)

    return router


# Ready-made checks. Each takes the client the service already owns, so the probe exercises the same pool.


def sql_check(
    engine: Any, *, name: str = "database", timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS
) -> ReadinessCheck:
    """`SELECT 1` on a SQLAlchemy `AsyncEngine`."""
    from sqlalchemy import text  # imported lazily: services without SQL should not pay for SQLAlchemy

    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return ReadinessCheck(name=name, check=check, timeout=timeout)


class _SupportsPing(Protocol):
    def ping(self) -> Awaitable[Any]: ...


def redis_check(
    client: _SupportsPing, *, name: str = "redis", timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS
) -> ReadinessCheck:
    """`PING` on a `redis.asyncio.Redis` client."""

    async def check() -> None:
        if not await client.ping():
            raise ConnectionError("redis did not answer PING")

    return ReadinessCheck(name=name, check=check, timeout=timeout)


def mongo_check(
    client: Any, *, name: str = "mongodb", timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS
) -> ReadinessCheck:
    """`ping` command on a PyMongo `AsyncMongoClient` (works on FerretDB and DocumentDB too)."""

    async def check() -> None:
        await client.admin.command("ping")

    return ReadinessCheck(name=name, check=check, timeout=timeout)


@runtime_checkable
class AmqpConnectionProbe(Protocol):
    """What `amqp_check` needs from the event bus: whether its connection is open.

    If the object also has an async `ping()` (a cheap round trip to the broker), the check awaits it too, so a
    half-open connection is caught; `is_connected` alone only reflects what the client library last saw.
    """

    @property
    def is_connected(self) -> bool: ...


def amqp_check(
    bus: AmqpConnectionProbe, *, name: str = "amqp", timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS
) -> ReadinessCheck:
    """Broker connection is open and, when the bus can `ping()`, answers."""

    async def check() -> None:
        if not bus.is_connected:
            raise ConnectionError("not connected to the broker")
        ping: Callable[[], Awaitable[Any]] | None = getattr(bus, "ping", None)
        if ping is not None:
            await ping()

    return ReadinessCheck(name=name, check=check, timeout=timeout)


def http_check(
    url: str,
    client: httpx.AsyncClient,
    *,
    name: str | None = None,
    timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS,
) -> ReadinessCheck:
    """GET `url` answers 2xx (e.g. a search cluster's health endpoint)."""

    async def check() -> None:
        response = await client.get(url, timeout=timeout)
        response.raise_for_status()

    import httpx

    return ReadinessCheck(name=name or httpx.URL(url).host, check=check, timeout=timeout)
