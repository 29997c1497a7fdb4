"""MariaDB from the Debian packages: own datadir and socket, TCP on 127.0.0.1, a password user for clients."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..accounts import hand_over, server_account
from ..endpoints import MariaDBEndpoint
from ..net import LOOPBACK, port_is_open, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer

CLIENT_USER = "gigstack"
CLIENT_PASSWORD = "gigstack-local-only"  # noqa: S105 - loopback-only throwaway server


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
        )
        if found:
            return found
    raise FileNotFoundError(f"none of {names} is installed (run scripts/install-deps.sh)")


class MariaDBServer(LocalServer):
    name = "mariadb"

    def __init__(self, base_dir: Path, port: int, *, detached: bool = False, durable: bool = False) -> None:
        super().__init__(base_dir, detached=detached)
        self.port = port
        self.durable = durable
        self.account = server_account()

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_path(self) -> Path:
        return self.base_dir / "mysqld.sock"

    @property
    def endpoint(self) -> MariaDBEndpoint:
        return MariaDBEndpoint(LOOPBACK, self.port, CLIENT_USER, CLIENT_PASSWORD)

    def _user_flag(self) -> list[str]:
        return [f"--user={self.account.name}"] if self.account else []

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        hand_over(self.base_dir, self.account)
        if (self.data_dir / "mysql").exists():
            return
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                _binary("mariadb-install-db", "mysql_install_db"),
                "--no-defaults",
                f"--datadir={self.data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *self._user_flag(),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )

    def build_process(self) -> ManagedProcess:
        args = [
            _binary("mariadbd", "mysqld"),
            "--no-defaults",
            f"--datadir={self.data_dir}",
            f"--socket={self.socket_path}",
            f"--pid-file={self.base_dir / 'mariadbd.pid'}",
            f"--port={self.port}",
            f"--bind-address={LOOPBACK}",
            "--skip-networking=0",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--max-connections=300",
            "--innodb-buffer-pool-size=64M",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            *self._user_flag(),
        ]
        if not self.durable:
            args += ["--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0", "--innodb-doublewrite=0"]
        return ManagedProcess(self.name, args, log_path=self.log_path, detached=self.detached)

    def _sql(self, statement: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                _binary("mariadb", "mysql"),
                "--no-defaults",
                f"--socket={self.socket_path}",
                "-uroot",
                "-e",
                statement,
            ],
            capture_output=True,
            timeout=15,
        )

    def wait_ready(self) -> None:
        wait_until(
            lambda: port_is_open(self.port) and self._sql("SELECT 1").returncode == 0,
            timeout=self.start_timeout,
            what="mariadb",
            abort=self.exit_reason,
        )

    def after_ready(self) -> None:
        # skip-name-resolve: clients over TCP are matched by address, so '%' covers 127.0.0.1.
        result = self._sql(
            f"CREATE USER IF NOT EXISTS '{CLIENT_USER}'@'%' IDENTIFIED BY '{CLIENT_PASSWORD}';"
            f"GRANT ALL PRIVILEGES ON *.* TO '{CLIENT_USER}'@'%' WITH GRANT OPTION;"
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb: creating {CLIENT_USER} failed: {result.stderr.decode()}")
