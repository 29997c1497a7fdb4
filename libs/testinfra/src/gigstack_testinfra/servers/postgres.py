"""PostgreSQL 15 from the Debian packages, trust auth on 127.0.0.1, socket inside its own directory."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..accounts import hand_over, server_account
from ..endpoints import PostgresEndpoint
from ..net import LOOPBACK, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"
# Trust auth ignores it, but callers build URLs that look like production ones.
PASSWORD = "postgres"  # noqa: S105 - loopback-only throwaway server


INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")


def _template_dir() -> Path:
    """Where a freshly initdb'd data directory is cached, keyed by the server binary and initdb's options."""
    cache = Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))
    binary = PG_BIN / "postgres"
    stamp = f"{binary}:{binary.stat().st_mtime_ns}:{SUPERUSER}:{' '.join(INITDB_OPTIONS)}"
    return cache / f"postgres-template-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def _save_template(data_dir: Path, template: Path) -> None:
    """Keep a copy of a data directory initdb just made (never started); best effort, published by rename."""
    staging = template.with_name(f"{template.name}.tmp-{os.getpid()}")
    with contextlib.suppress(OSError):
        template.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(data_dir, staging, symlinks=True)
        staging.rename(template)  # fails when a concurrent session saved one first: theirs is as good
    shutil.rmtree(staging, ignore_errors=True)


class PostgresServer(LocalServer):
    name = "postgres"

    def __init__(
        self,
        base_dir: Path,
        port: int,
        *,
        detached: bool = False,
        durable: bool = False,
        settings: Sequence[str] = (),
    ) -> None:
        super().__init__(base_dir, detached=detached)
        self.port = port
        # Tests trade crash safety for speed; the dev stack keeps fsync on.
        self.durable = durable
        # Extra `-c name=value` settings (FerretDB's diagnostics: pg_stat_statements, slow-statement log).
        self.settings = tuple(settings)
        self.account = server_account()

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def endpoint(self) -> PostgresEndpoint:
        return PostgresEndpoint(LOOPBACK, self.port, SUPERUSER, PASSWORD)

    def prepare(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        hand_over(self.base_dir, self.account)
        if (self.data_dir / "PG_VERSION").exists():
            return
        template = _template_dir()
        if (template / "PG_VERSION").exists():
            # A copy of a fresh initdb: ~0.1 s where initdb takes 1-5 s on a busy 2-core machine.
            shutil.copytree(template, self.data_dir, symlinks=True)
            hand_over(self.data_dir, self.account)
            return
        self._initdb()
        _save_template(self.data_dir, template)

    def _initdb(self) -> None:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, *INITDB_OPTIONS],
            check=True,
            capture_output=True,
            timeout=120,
            user=self.account.uid if self.account else None,
            group=self.account.gid if self.account else None,
            extra_groups=[] if self.account else None,
        )

    def build_process(self) -> ManagedProcess:
        settings = [
            f"listen_addresses={LOOPBACK}",
            f"unix_socket_directories={self.socket_dir}",
            "max_connections=300",
            "shared_buffers=64MB",
        ]
        if not self.durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        settings += self.settings
        args = [str(PG_BIN / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        for setting in settings:
            args += ["-c", setting]
        return ManagedProcess(
            self.name,
            args,
            log_path=self.log_path,
            user=self.account.uid if self.account else None,
            group=self.account.gid if self.account else None,
            detached=self.detached,
        )

    def wait_ready(self) -> None:
        def accepting() -> bool:
            probe = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [str(PG_BIN / "pg_isready"), "-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER],
                capture_output=True,
                timeout=5,
            )
            return probe.returncode == 0

        wait_until(accepting, timeout=self.start_timeout, what="postgres", abort=self.exit_reason)
