"""Servers as local processes (Debian packages, FerretDB, OpenSearch runner) in one temporary directory."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..endpoints import (
    MariaDBEndpoint,
    MongoEndpoint,
    ObjectStoreEndpoint,
    OpenSearchEndpoint,
    PostgresEndpoint,
    RedisEndpoint,
)
from ..net import free_port
from ..reaper import reaper
from ..servers import (
    FerretDBServer,
    LocalServer,
    MariaDBServer,
    OpenSearchServer,
    PostgresServer,
    RabbitMQServer,
    RedisServer,
    S3ProxyServer,
    ServerStartError,
)
from .base import Backend, BrokerControl

KEEP_ENV = "GIGSTACK_TEST_KEEP_DIR"
# Free ports are picked, then bound by another process: other test sessions may run on this machine at once.
PORT_ATTEMPTS = 3
PORT_TAKEN = re.compile(
    r"address already in use|eaddrinuse|could not bind|bind on tcp/ip port|BindException", re.IGNORECASE
)
ServerT = TypeVar("ServerT", bound=LocalServer)


class LocalBackend(Backend):
    name = "local"

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.root = root or Path(tempfile.mkdtemp(prefix="gigstack-test-"))
        # Servers running as the unprivileged account must traverse into their own subdirectory.
        self.root.chmod(0o755)
        self._keep = bool(os.environ.get(KEEP_ENV))
        if not self._keep:
            reaper.remove_on_exit(self.root)
        self._servers: list[LocalServer] = []

    def _launch(self, name: str, build: Callable[[Path], ServerT]) -> ServerT:
        """Start ``build(dir)``; retry on fresh ports when another process took one since we picked it."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            server = build(self.root / (name if attempt == 1 else f"{name}-{attempt}"))
            self._servers.append(server)
            try:
                server.start()
                return server
            except ServerStartError as exc:
                if isinstance(server, RabbitMQServer):
                    server.shutdown()  # its epmd too
                if attempt == PORT_ATTEMPTS or not PORT_TAKEN.search(str(exc)):
                    raise
        raise AssertionError("unreachable")

    def _start_postgres(self) -> PostgresEndpoint:
        return self._launch("postgres", lambda d: PostgresServer(d, free_port())).endpoint

    def _start_mariadb(self) -> MariaDBEndpoint:
        return self._launch("mariadb", lambda d: MariaDBServer(d, free_port())).endpoint

    def _start_redis(self) -> RedisEndpoint:
        return self._launch("redis", lambda d: RedisServer(d, free_port())).endpoint

    def _start_rabbitmq(self) -> BrokerControl:
        return self._launch(
            "rabbitmq", lambda d: RabbitMQServer(d, free_port(), free_port(), free_port(), free_port())
        )

    def _start_mongodb(self) -> MongoEndpoint:
        return self._launch("ferretdb", lambda d: FerretDBServer(d, free_port())).endpoint

    def ferretdb_server(self) -> FerretDBServer | None:
        """The FerretDB this backend started, if any (benchmarks read its backing cluster's statistics)."""
        return next((server for server in self._servers if isinstance(server, FerretDBServer)), None)

    def server_pid(self, name: str) -> int | None:
        """The pid of the running server of that name ("redis", "mariadb"...), if this backend started one.

        Benchmarks read the server's CPU time from /proc (bench/gateway_overhead counts every process on a
        request's path).
        """
        running = (server for server in self._servers if server.name == name and server.is_running())
        return next((server.pid for server in running), None)

    def _start_opensearch(self) -> OpenSearchEndpoint:
        return self._launch("opensearch", lambda d: OpenSearchServer(d, free_port(), free_port())).endpoint

    def _start_object_store(self) -> ObjectStoreEndpoint:
        return self._launch("s3proxy", lambda d: S3ProxyServer(d, free_port())).endpoint

    def close(self) -> None:
        for server in reversed(self._servers):
            with contextlib.suppress(Exception):
                if isinstance(server, RabbitMQServer):
                    server.shutdown()
                else:
                    server.stop()
        self._servers.clear()
        if not self._keep:
            shutil.rmtree(self.root, ignore_errors=True)
            reaper.keep_on_exit(self.root)
