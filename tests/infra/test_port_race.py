"""A port taken between picking and binding (another session on the machine) costs a retry, not a failure."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from gigstack_testinfra.backends import local
from gigstack_testinfra.net import free_port

pytestmark = pytest.mark.integration


def test_server_retries_on_fresh_ports_when_its_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports: Iterator[int] = iter([taken])
        monkeypatch.setattr(local, "free_port", lambda: next(ports, None) or free_port())

        backend = local.LocalBackend()
        try:
            endpoint = backend.redis()
            assert endpoint.port != taken
            assert [s.base_dir.name for s in backend._servers] == ["redis", "redis-2"]
        finally:
            backend.close()
