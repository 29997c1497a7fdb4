"""Run a Gigstack service as a real subprocess in tests (e2e, crash and restart scenarios).

``start()``, ``terminate()``, ``kill()`` and ``restart()`` are synchronous (they signal and reap a process);
``await wait_ready()`` polls ``/health/ready`` without blocking the test's event loop. Output goes to
``log_path``; the plugin attaches the end of every log started during a test to that test's failure report.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from .net import LOOPBACK
from .supervision import ManagedProcess

_started: weakref.WeakSet[ServiceProcess] = weakref.WeakSet()


class ServiceNotReadyError(RuntimeError):
    pass


class ServiceProcess:
    """One service process. ``env`` is added on top of the current environment (PATH, HOME, ...)."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        port: int,
        log_path: Path | str,
        *,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.port = port
        self.log_path = Path(log_path)
        full_env = dict(os.environ) if inherit_env else {}
        full_env.update(env)
        self.env = full_env
        self._process = ManagedProcess(name, self.args, log_path=self.log_path, env=full_env, cwd=cwd)
        self.started_at: float | None = None
        self.stopped_at: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode()

    def is_running(self) -> bool:
        return self._process.is_running()

    def start(self) -> None:
        self._process.start()
        self.started_at = time.monotonic()
        self.stopped_at = None
        _started.add(self)

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - polling deadline
        """Poll ``/health/ready`` until it answers 200; fail fast (with the log) if the process exits."""
        deadline = time.monotonic() + timeout
        last_problem = "no answer yet"
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self.returncode
                if code is not None:
                    raise ServiceNotReadyError(
                        f"{self.name} exited with code {code} before becoming ready\n{self.log_tail()}"
                    )
                try:
                    response = await client.get("/health/ready")
                    if response.status_code == 200:
                        return
                    last_problem = f"/health/ready answered {response.status_code}: {response.text[:300]}"
                except httpx.HTTPError as exc:
                    last_problem = repr(exc)
                await asyncio.sleep(0.2)
        raise ServiceNotReadyError(
            f"{self.name} not ready after {timeout:.0f}s ({last_problem})\n{self.log_tail()}"
        )

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful shutdown), wait up to ``timeout``, then SIGKILL; returns the exit code."""
        self._process.stop(timeout=timeout)
        self.stopped_at = time.monotonic()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the process group: a crash, no shutdown hooks run."""
        self._process.kill()
        self.stopped_at = time.monotonic()

    def restart(self, timeout: float = 15.0) -> None:
        """Terminate if running, then start again with the same arguments; await ``wait_ready()`` after."""
        if self.is_running():
            self.terminate(timeout=timeout)
        self.start()

    def log_tail(self, max_bytes: int = 20000) -> str:
        return self._process.log_tail(max_bytes)


def processes_alive_since(moment: float) -> list[ServiceProcess]:
    """Processes that ran at some point since `moment`: a module's stack started before the test belongs in
    its failure report as much as a process the test started itself."""
    return [process for process in list(_started) if _ran_since(process, moment)]


def _ran_since(process: ServiceProcess, moment: float) -> bool:
    if process.started_at is None:
        return False
    if process.started_at >= moment:
        return True
    if process.stopped_at is not None:
        return process.stopped_at >= moment
    return process.is_running()
