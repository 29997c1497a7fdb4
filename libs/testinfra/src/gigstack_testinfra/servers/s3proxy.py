"""s3proxy (Apache-2.0, from Maven Central via scripts/install/s3proxy.sh): an S3 API over a directory.

It checks SigV4/V2 signatures and the expiry of presigned requests, which is what upload tests need from a
store. It does not evaluate POST-policy conditions (content-length-range, Content-Type, key): only the
policy's signature. Code that accepts an upload checks size and type itself (servicekit.media, ADR 0017).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from ..endpoints import ObjectStoreEndpoint
from ..net import LOOPBACK, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer
from .ferretdb import cache_dir
from .opensearch import java_binary

S3PROXY_VERSION = "2.6.0"  # keep in sync with scripts/install/s3proxy.sh
# Fixed, clearly local-only credentials: the server listens on loopback and lives as long as the session.
ACCESS_KEY = "gigstack-local"
SECRET_KEY = "gigstack-local-only-s3-key"  # noqa: S105 - loopback test/dev server
REGION = "us-east-1"


def s3proxy_jar() -> Path:
    jar = cache_dir() / f"s3proxy-{S3PROXY_VERSION}" / "s3proxy.jar"
    if not jar.exists():
        raise FileNotFoundError(f"{jar} is missing: run scripts/install-deps.sh")
    return jar


class S3ProxyServer(LocalServer):
    """s3proxy with the filesystem backend under ``base_dir/data``; buckets are directories there."""

    name = "s3proxy"
    start_timeout = 90.0

    def __init__(self, base_dir: Path, port: int, *, detached: bool = False, heap: str = "192m") -> None:
        super().__init__(base_dir, detached=detached)
        self.port = port
        self.heap = heap

    @property
    def endpoint(self) -> ObjectStoreEndpoint:
        return ObjectStoreEndpoint(LOOPBACK, self.port, ACCESS_KEY, SECRET_KEY, REGION)

    @property
    def config_path(self) -> Path:
        return self.base_dir / "s3proxy.conf"

    def prepare(self) -> None:
        data = self.base_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        lines = [
            f"s3proxy.endpoint=http://{LOOPBACK}:{self.port}",
            "s3proxy.authorization=aws-v2-or-v4",
            f"s3proxy.identity={ACCESS_KEY}",
            f"s3proxy.credential={SECRET_KEY}",
            # Browsers POST straight to the store (make up's web clients); the tests do not depend on it.
            "s3proxy.cors-allow-all=true",
            "jclouds.provider=filesystem",
            f"jclouds.filesystem.basedir={data}",
        ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def build_process(self) -> ManagedProcess:
        args = [
            java_binary(),
            f"-Xmx{self.heap}",
            "-jar",
            str(s3proxy_jar()),
            "--properties",
            str(self.config_path),
        ]
        return ManagedProcess(
            self.name, args, log_path=self.log_path, cwd=self.base_dir, detached=self.detached
        )

    def _answers(self) -> bool:
        # An unsigned request refused with S3's XML error: the S3 handler is up, not just Jetty.
        response = httpx.get(f"{self.endpoint.url}/", timeout=5.0)
        return response.status_code == 403 and b"AccessDenied" in response.content

    def wait_ready(self) -> None:
        wait_until(
            self._answers, timeout=self.start_timeout, what="s3proxy", interval=0.5, abort=self.exit_reason
        )
