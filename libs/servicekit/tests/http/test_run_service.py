"""`run_service` as a real process: SIGTERM drains in-flight requests, runs shutdown hooks and exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

APP_MODULE = textwrap.dedent(
    """
    import asyncio
    import logging
    from contextlib import asynccontextmanager

    from fastapi import APIRouter

    from servicekit.http import create_service_app, run_service
    from servicekit.settings import ServiceSettings

    router = APIRouter()


    @router.get("/api/v1/slow")
    async def slow(seconds: float) -> dict[str, bool]:
        await asyncio.sleep(seconds)
        return {"done": True}


    @asynccontextmanager
    async def consumer_hook(app):
        try:
            yield
        finally:
            logging.getLogger("probe_app").info("consumer drained")


    def create_app():
        return create_service_app(
            ServiceSettings(), title="probe", version="1", routers=[router],
            lifespan_hooks=[consumer_hook], require_internal_token=False,
        )


    if __name__ == "__main__":
        run_service("probe_app:create_app", ServiceSettings())
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


ServiceStarter = Callable[..., Awaitable[tuple[asyncio.subprocess.Process, str]]]


@pytest.fixture
async def start_service(tmp_path: Path, keypair: tuple[str, str]) -> AsyncIterator[ServiceStarter]:
    (tmp_path / "probe_app.py").write_text(APP_MODULE)
    processes: list[asyncio.subprocess.Process] = []

    async def start(
        grace_seconds: float, otlp_endpoint: str | None = None
    ) -> tuple[asyncio.subprocess.Process, str]:
        port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(tmp_path),
            "SERVICE_NAME": "probe",
            "ENVIRONMENT": "test",
            "PORT": str(port),
            "INTERNAL_TOKEN_PUBLIC_KEY": keypair[1],
            "SHUTDOWN_GRACE_SECONDS": str(grace_seconds),
        }
        env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        if otlp_endpoint is not None:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "probe_app.py",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        processes.append(process)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=1) as client:
            while True:
                try:
                    if (await client.get(f"{base_url}/health/live")).status_code == 200:
                        return process, base_url
                except httpx.TransportError:
                    pass
                if process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError("service did not become live")
                await asyncio.sleep(0.1)

    yield start
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _output(process: asyncio.subprocess.Process) -> list[dict[str, object]]:
    assert process.stdout is not None
    raw = (await process.stdout.read()).decode()
    # Every line the process writes is a JSON object: uvicorn's own messages included.
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


async def test_sigterm_drains_in_flight_request_runs_hooks_and_exits_zero(
    start_service: ServiceStarter,
) -> None:
    process, base_url = await start_service(10)
    async with httpx.AsyncClient(timeout=10) as client:
        in_flight = asyncio.create_task(client.get(f"{base_url}/api/v1/slow", params={"seconds": 1.5}))
        await asyncio.sleep(0.4)
        process.send_signal(signal.SIGTERM)
        response = await in_flight

    assert response.status_code == 200
    assert response.json() == {"done": True}
    assert await asyncio.wait_for(process.wait(), timeout=15) == 0
    records = await _output(process)
    messages = [record["message"] for record in records]
    assert "shutdown signal received" in messages
    # One access line per request, from servicekit (route template), not uvicorn's duplicate.
    assert not [r for r in records if r["logger"] == "uvicorn.access" or "color_message" in r]
    slow_request = next(r for r in records if r.get("http_route") == "/api/v1/slow")
    assert slow_request["http_status"] == 200
    assert messages.index("shutdown signal received") < messages.index("consumer drained")


async def test_requests_outliving_the_grace_period_are_cut_off(start_service: ServiceStarter) -> None:
    process, base_url = await start_service(1)
    async with httpx.AsyncClient(timeout=30) as client:
        in_flight = asyncio.create_task(client.get(f"{base_url}/api/v1/slow", params={"seconds": 60}))
        await asyncio.sleep(0.4)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
        stopped_after = time.monotonic() - started
        with pytest.raises(httpx.HTTPError):
            (await in_flight).raise_for_status()

    assert stopped_after < 5
    messages = [record["message"] for record in await _output(process)]
    assert "consumer drained" in messages


class _OtlpCollector:
    """A minimal OTLP/HTTP receiver: records the path and body of each POST and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        self.received = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
                length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
                body = await reader.readexactly(length)
                self.requests.append((request_line.split(" ")[1], body))
                self.received.set()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_spans_are_exported_to_the_otlp_endpoint_and_flushed_at_shutdown(
    start_service: ServiceStarter,
) -> None:
    collector = _OtlpCollector()
    server = await asyncio.start_server(collector.handle, "127.0.0.1", 0)
    collector_port = server.sockets[0].getsockname()[1]
    try:
        process, base_url = await start_service(5, otlp_endpoint=f"http://127.0.0.1:{collector_port}")
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{base_url}/api/v1/slow", params={"seconds": 0})
        assert response.status_code == 200
        # Nothing is sent yet (the batch processor waits 5 s); the shutdown path must flush the span.
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
        await asyncio.wait_for(collector.received.wait(), timeout=5)
    finally:
        server.close()
        await server.wait_closed()

    paths = {path for path, _ in collector.requests}
    assert paths == {"/v1/traces"}
    exported = b"".join(body for _, body in collector.requests)
    # The protobuf payload carries the resource's service name and the route template of the server span.
    assert b"probe" in exported
    assert b"/api/v1/slow" in exported
