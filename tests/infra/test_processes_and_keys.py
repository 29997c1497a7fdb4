"""ServiceProcess (start, readiness, SIGTERM, SIGKILL, restart, logs, a port taken before the bind) and the
internal key pair fixture."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceNotReadyError, ServiceProcess

READY_SERVER = Path(__file__).with_name("ready_server.py")


def _service(tmp_path: Path, delay: float = 0.0) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        "stand-in",
        [sys.executable, str(READY_SERVER), str(port), str(delay)],
        env={"GIGSTACK_MARKER": "1"},
        port=port,
        log_path=tmp_path / "stand-in.log",
    )


async def test_service_process_lifecycle(tmp_path: Path) -> None:
    service = _service(tmp_path, delay=0.5)
    service.start()
    try:
        await service.wait_ready(timeout=15)
        async with httpx.AsyncClient(base_url=service.base_url, timeout=5) as client:
            assert (await client.get("/health/ready")).status_code == 200
        first_pid = service.pid

        service.kill()
        assert not service.is_running()
        assert service.returncode == -9
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=service.base_url, timeout=2) as client:
                await client.get("/health/ready")

        service.restart()
        await service.wait_ready(timeout=15)
        assert service.pid != first_pid

        assert service.terminate() == -15
        assert "ready_server starting" in service.log_tail()
        assert "GET /health/ready -> 200" in service.log_tail()
    finally:
        service.kill()


async def test_wait_ready_fails_fast_when_the_process_dies(tmp_path: Path) -> None:
    service = ServiceProcess(
        "crasher",
        [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
        env={},
        port=free_port(),
        log_path=tmp_path / "crasher.log",
    )
    service.start()
    with pytest.raises(ServiceNotReadyError, match=r"exited with code 3[\s\S]*boom"):
        await service.wait_ready(timeout=30)


@contextmanager
def port_taken() -> Iterator[int]:
    """A port handed out as free and then taken by someone else before the service binds it."""
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind((LOOPBACK, port))
        squatter.listen()
        yield port


async def test_a_service_whose_port_was_taken_exits_and_starts_again_on_a_new_one(tmp_path: Path) -> None:
    with port_taken() as taken:
        service = ServiceProcess(
            "stand-in",
            [sys.executable, str(READY_SERVER), "env"],
            env={"PORT": str(taken), "SELF_URL": f"http://{LOOPBACK}:{taken}/api"},
            port=taken,
            log_path=tmp_path / "stand-in.log",
        )
        service.start()
        try:
            await service.wait_ready(timeout=20)
            assert service.port != taken
            assert service.base_url == f"http://{LOOPBACK}:{service.port}"
            assert service.env["PORT"] == str(service.port)
            assert service.env["SELF_URL"] == f"http://{LOOPBACK}:{service.port}/api"
            async with httpx.AsyncClient(base_url=service.base_url, timeout=5) as client:
                assert (await client.get("/health/ready")).status_code == 200
            assert f"port {taken} was taken; starting again on {service.port}" in service.log_tail()
        finally:
            service.kill()


async def test_a_service_that_logs_the_failed_bind_and_lingers_is_moved_not_mistaken_for_the_squatter(
    tmp_path: Path,
) -> None:
    squatter = _service(tmp_path)  # another session's service on the port, answering /health/ready
    squatter.start()
    try:
        await squatter.wait_ready(timeout=15)
        # It reports the failed bind only after 1.5 s (a service still importing), while the squatter has
        # answered /health/ready all along: the squatter's 200 must not be taken for this child's.
        service = ServiceProcess(
            "lingerer",
            [sys.executable, str(READY_SERVER), str(squatter.port), "0", "linger"],
            env={"BIND_DELAY_SECONDS": "1.5"},
            port=squatter.port,
            log_path=tmp_path / "lingerer.log",
        )
        service.start()
        try:
            await service.wait_ready(timeout=20)
            assert service.port != squatter.port
            assert service.args[-3] == str(service.port)
            assert f"port {squatter.port} was taken" in service.log_tail()
        finally:
            service.kill()
    finally:
        squatter.kill()


async def test_moving_to_new_ports_is_bounded_and_the_error_shows_the_failed_bind(tmp_path: Path) -> None:
    with port_taken() as taken:
        service = ServiceProcess(
            "stubborn",
            [sys.executable, str(READY_SERVER), str(taken)],
            env={},
            port=taken,
            log_path=tmp_path / "stubborn.log",
            bind_attempts=1,
        )
        service.start()
        with pytest.raises(ServiceNotReadyError, match=f"port {taken}"):
            await service.wait_ready(timeout=20)
        assert service.port == taken


def test_internal_keypair_signs_and_verifies(internal_keypair: tuple[str, str]) -> None:
    private_pem, public_pem = internal_keypair
    private_key = load_pem_private_key(private_pem.encode(), password=None)
    public_key = load_pem_public_key(public_pem.encode())
    assert isinstance(private_key, Ed25519PrivateKey)
    assert isinstance(public_key, Ed25519PublicKey)
    signature = private_key.sign(b"gateway")
    public_key.verify(signature, b"gateway")
