"""Servers as local processes (Debian packages, FerretDB, OpenSearch runner) in one temporary directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from ..endpoints import (
    MariaDBEndpoint,
    MongoEndpoint,
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
)
from .base import Backend, BrokerControl

KEEP_ENV = "GIGSTACK_TEST_KEEP_DIR"


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

    def _launch(self, server: LocalServer) -> None:
        self._servers.append(server)
        server.start()

    def _start_postgres(self) -> PostgresEndpoint:
        server = PostgresServer(self.root / "postgres", free_port())
        self._launch(server)
        return server.endpoint

    def _start_mariadb(self) -> MariaDBEndpoint:
        server = MariaDBServer(self.root / "mariadb", free_port())
        self._launch(server)
        return server.endpoint

    def _start_redis(self) -> RedisEndpoint:
        server = RedisServer(self.root / "redis", free_port())
        self._launch(server)
        return server.endpoint

    def _start_rabbitmq(self) -> BrokerControl:
        server = RabbitMQServer(self.root / "rabbitmq", free_port(), free_port(), free_port(), free_port())
        self._launch(server)
        return server

    def _start_mongodb(self) -> MongoEndpoint:
        server = FerretDBServer(self.root / "ferretdb", free_port())
        self._launch(server)
        return server.endpoint

    def _start_opensearch(self) -> OpenSearchEndpoint:
        server = OpenSearchServer(self.root / "opensearch", free_port(), free_port())
        self._launch(server)
        return server.endpoint

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
