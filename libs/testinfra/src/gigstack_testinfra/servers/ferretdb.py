"""FerretDB v1 (MongoDB wire protocol) on its pure-Go SQLite handler, one directory of SQLite files."""

from __future__ import annotations

import os
from pathlib import Path

from ..endpoints import MongoEndpoint
from ..net import LOOPBACK, port_is_open, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer

FERRETDB_VERSION = "v1.24.2"


def cache_dir() -> Path:
    return Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))


def ferretdb_binary() -> Path:
    binary = cache_dir() / f"ferretdb-{FERRETDB_VERSION}"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: run scripts/install-deps.sh")
    return binary


class FerretDBServer(LocalServer):
    name = "ferretdb"

    def __init__(self, base_dir: Path, port: int, *, detached: bool = False) -> None:
        super().__init__(base_dir, detached=detached)
        self.port = port

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "sqlite"

    @property
    def endpoint(self) -> MongoEndpoint:
        return MongoEndpoint(LOOPBACK, self.port)

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def build_process(self) -> ManagedProcess:
        args = [
            str(ferretdb_binary()),
            "--handler=sqlite",
            f"--sqlite-url=file:{self.data_dir}/",
            f"--listen-addr={LOOPBACK}:{self.port}",
            "--state-dir=-",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]
        return ManagedProcess(self.name, args, log_path=self.log_path, detached=self.detached)

    def wait_ready(self) -> None:
        wait_until(
            lambda: port_is_open(self.port),
            timeout=self.start_timeout,
            what="ferretdb",
            abort=self.exit_reason,
        )
