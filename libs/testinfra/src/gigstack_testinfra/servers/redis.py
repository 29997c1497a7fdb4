"""redis-server with a generated config: loopback only, no persistence unless asked for."""

from __future__ import annotations

import shutil
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from ..endpoints import RedisEndpoint
from ..net import LOOPBACK, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer

# Each test gets its own db index; many indices keep reuse (after FLUSHDB) rare.
DATABASES = 1024


def redis_ping(
    port: int,
    host: str = LOOPBACK,
    *,
    username: str | None = None,
    password: str = "",
    tls: ssl.SSLContext | None = None,
) -> bool:
    with socket.create_connection((host, port), timeout=2) as plain:
        conn = plain if tls is None else tls.wrap_socket(plain, server_hostname=host)
        if username is not None:
            conn.sendall(_command(b"AUTH", username.encode(), password.encode()))
            if not conn.recv(64).startswith(b"+OK"):
                return False
        conn.sendall(b"PING\r\n")
        return conn.recv(64).startswith(b"+PONG")


def _command(*parts: bytes) -> bytes:
    encoded = b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)
    return b"*%d\r\n" % len(parts) + encoded


@dataclass(frozen=True)
class RedisTls:
    """TLS only (no plain port): the server's certificate and key, and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


class RedisServer(LocalServer):
    name = "redis"

    def __init__(
        self,
        base_dir: Path,
        port: int,
        *,
        detached: bool = False,
        durable: bool = False,
        acl: str | None = None,
        admin: tuple[str, str] | None = None,
        tls: RedisTls | None = None,
    ) -> None:
        """`acl` is an ACL file's text (users and their rules; see gigstack_registry.redis_acl) and `admin`
        the (user, password) of a user in it that may do everything, for readiness and the endpoint."""
        super().__init__(base_dir, detached=detached)
        self.port = port
        self.durable = durable
        self.acl = acl
        self.admin = admin
        self.tls = tls
        if (acl is None) != (admin is None):
            raise ValueError("an ACL file needs the admin user that readiness and fixtures use")

    @property
    def endpoint(self) -> RedisEndpoint:
        endpoint = RedisEndpoint(LOOPBACK, self.port, DATABASES)
        return endpoint if self.admin is None else endpoint.as_user(*self.admin)

    @property
    def config_path(self) -> Path:
        return self.base_dir / "redis.conf"

    def prepare(self) -> None:
        listen = [f"port {self.port}"]
        if self.tls is not None:
            listen = [
                "port 0",
                f"tls-port {self.port}",
                f"tls-cert-file {self.tls.cert}",
                f"tls-key-file {self.tls.key}",
                f"tls-ca-cert-file {self.tls.ca}",
                "tls-auth-clients no",
            ]
        lines = [
            *listen,
            f"bind {LOOPBACK}",
            "protected-mode yes",
            f"dir {self.base_dir}",
            f"databases {DATABASES}",
            "daemonize no",
            "logfile ''",
        ]
        lines += ["save 60 1", "appendonly no"] if self.durable else ["save ''", "appendonly no"]
        if self.acl is not None:
            acl_path = self.base_dir / "users.acl"
            acl_path.write_text(self.acl)
            acl_path.chmod(0o600)
            lines.append(f"aclfile {acl_path}")
        self.config_path.write_text("\n".join(lines) + "\n")

    def build_process(self) -> ManagedProcess:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        return ManagedProcess(
            self.name, [binary, str(self.config_path)], log_path=self.log_path, detached=self.detached
        )

    def wait_ready(self) -> None:
        wait_until(lambda: self._ping(), timeout=self.start_timeout, what="redis", abort=self.exit_reason)

    def _ping(self) -> bool:
        tls = None if self.tls is None else self.tls.client_context()
        if self.admin is None:
            return redis_ping(self.port, tls=tls)
        return redis_ping(self.port, username=self.admin[0], password=self.admin[1], tls=tls)
