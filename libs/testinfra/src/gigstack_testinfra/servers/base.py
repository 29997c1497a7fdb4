"""Common shape of a locally launched server: a directory, a process group, a readiness probe."""

from __future__ import annotations

import abc
from pathlib import Path

from ..supervision import ManagedProcess


class ServerStartError(RuntimeError):
    """The server exited or never became ready; the message carries the end of its log."""


class LocalServer(abc.ABC):
    """A server process owning ``base_dir``; ``start()`` returns only when it answers real queries.

    ``detached`` servers outlive the Python process that started them (``make up``); the others die with it.
    Restarting reuses the same ports and data directory, so persistent data survives ``kill()``.
    """

    name: str = "server"
    start_timeout: float = 60.0

    def __init__(self, base_dir: Path, *, detached: bool = False) -> None:
        self.base_dir = base_dir
        self.detached = detached
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._process: ManagedProcess | None = None

    @property
    def log_path(self) -> Path:
        return self.base_dir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def pids(self) -> list[int]:
        """Every process group this server runs (what a detached stack records to stop it later)."""
        return [self.pid] if self.pid is not None else []

    def start(self) -> None:
        if self._process is not None and self._process.is_running():
            return
        self.prepare()
        self._process = self.build_process()
        self._process.start()
        try:
            self.wait_ready()
        except Exception as exc:
            tail = self._process.log_tail()
            self._process.stop(timeout=5)
            message = f"{self.name} did not start: {exc}\n--- {self.log_path} ---\n{tail}"
            raise ServerStartError(message) from exc
        self.after_ready()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()

    def exit_reason(self) -> str | None:
        """For readiness polling: why waiting is pointless (the process is gone)."""
        if self._process is None:
            return "not started"
        code = self._process.returncode()
        return None if code is None else f"exited with code {code}"

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Create data directories / config files (idempotent: skipped when data already exists)."""

    @abc.abstractmethod
    def build_process(self) -> ManagedProcess: ...

    @abc.abstractmethod
    def wait_ready(self) -> None: ...

    def after_ready(self) -> None:  # noqa: B027 - optional hook
        """One-time setup that needs a running server (users, grants)."""
