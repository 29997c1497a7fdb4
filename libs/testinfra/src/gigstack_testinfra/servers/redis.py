"""redis-server with a generated config: loopback only, no persistence unless asked for."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from ..endpoints import RedisEndpoint
from ..net import LOOPBACK, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer

# Each test gets its own db index; many indices keep reuse (after FLUSHDB) rare.
DATABASES = 1024


def redis_ping(port: int, host: str = LOOPBACK) -> bool:
    with socket.create_connection((host, port), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(64).startswith(b"+PONG")


class RedisServer(LocalServer):
    name = "redis"

    def __init__(self, base_dir: Path, port: int, *, detached: bool = False, durable: bool = False) -> None:
        super().__init__(base_dir, detached=detached)
        self.port = port
        self.durable = durable

    @property
    def endpoint(self) -> RedisEndpoint:
        return RedisEndpoint(LOOPBACK, self.port, DATABASES)

    @property
    def config_path(self) -> Path:
        return self.base_dir / "redis.conf"

    def prepare(self) -> None:
        lines = [
            f"port {self.port}",
            f"bind {LOOPBACK}",
            "protected-mode yes",
            f"dir {self.base_dir}",
            f"databases {DATABASES}",
            "daemonize no",
            "logfile ''",
        ]
        lines += ["save 60 1", "appendonly no"] if self.durable else ["save ''", "appendonly no"]
        self.config_path.write_text("\n".join(lines) + "\n")

    def build_process(self) -> ManagedProcess:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        return ManagedProcess(
            self.name, [binary, str(self.config_path)], log_path=self.log_path, detached=self.detached
        )

    def wait_ready(self) -> None:
        wait_until(
            lambda: redis_ping(self.port), timeout=self.start_timeout, what="redis", abort=self.exit_reason
        )
