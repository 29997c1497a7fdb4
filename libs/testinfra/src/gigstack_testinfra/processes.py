"""Run a Gigstack service as a real subprocess in tests (e2e, crash and restart scenarios).

``start()``, ``terminate()``, ``kill()`` and ``restart()`` are synchronous (they signal and reap a process);
``await wait_ready()`` polls ``/health/ready`` without blocking the test's event loop. Output goes to
``log_path``; the plugin attaches the end of every log started during a test to that test's failure report.

The port picked for a process can be taken by someone else before the process binds it. ``wait_ready()``
then starts it again on a new free port, up to ``bind_attempts`` times in all (``rebinding``): ``port`` and
``base_url`` are final once ``wait_ready()`` returns, so a process whose address goes into another process's
environment must be ready before that one is built, or pass it lazily (an environment value may be a
function, called at each start).
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from .net import LOOPBACK, free_port
from .rebinding import (
    listener_belongs_elsewhere,
    mentions_port,
    moved_args,
    moved_env,
    says_address_in_use,
)
from .supervision import ManagedProcess

EnvValue = str | Callable[[], str]

_started: weakref.WeakSet[ServiceProcess] = weakref.WeakSet()


class ServiceNotReadyError(RuntimeError):
    pass


class ServiceProcess:
    """One service process. ``env`` is added on top of the current environment (PATH, HOME, ...); a value may
    be a function, called at each start (an address of a process started before this one)."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, EnvValue],
        port: int,
        log_path: Path | str,
        *,
        cwd: Path | None = None,
        inherit_env: bool = True,
        bind_attempts: int = 3,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.port = port
        self.log_path = Path(log_path)
        self._env = dict(env)
        self._inherit_env = inherit_env
        self.bind_attempts = bind_attempts
        self.env = self._resolved_env()
        self._process = ManagedProcess(name, self.args, log_path=self.log_path, env=self.env, cwd=cwd)
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self._log_offset = 0  # where this start's output begins in the log

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

    def _resolved_env(self) -> dict[str, str]:
        full_env = dict(os.environ) if self._inherit_env else {}
        full_env.update({name: value() if callable(value) else value for name, value in self._env.items()})
        return full_env

    def start(self) -> None:
        if not self.is_running():
            self.env = self._resolved_env()
            self._process.env = self.env
            try:
                self._log_offset = self.log_path.stat().st_size
            except OSError:
                self._log_offset = 0
        self._process.start()
        self.started_at = time.monotonic()
        self.stopped_at = None
        _started.add(self)

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - polling deadline
        """Poll ``/health/ready`` until it answers 200; fail fast (with the log) if the process exits.

        A process that could not bind its port (it says "address already in use", and exits or never gets
        ready) is started again on a new port, ``bind_attempts`` times in all, within the same ``timeout``.
        """
        deadline = time.monotonic() + timeout
        attempts_left = self.bind_attempts - 1
        while True:
            try:
                return await self._poll_ready(deadline, waited=timeout)
            except ServiceNotReadyError:
                if attempts_left <= 0 or not self._lost_its_port() or time.monotonic() >= deadline:
                    raise
            attempts_left -= 1
            await asyncio.to_thread(self._move_to_new_port)

    async def _poll_ready(self, deadline: float, *, waited: float) -> None:
        last_problem = "no answer yet"
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self.returncode
                if code is not None:
                    raise ServiceNotReadyError(
                        f"{self.name} exited with code {code} before becoming ready\n{self.log_tail()}"
                    )
                if self._lost_its_port():
                    # It logged the failed bind and kept running: never ready there, and whoever holds the
                    # port (another session's service, say) must not be taken for it.
                    raise ServiceNotReadyError(
                        f"{self.name} could not bind port {self.port}\n{self.log_tail()}"
                    )
                try:
                    response = await client.get("/health/ready")
                    if response.status_code == 200:
                        if self._answered_by_another_process():
                            # Someone else holds the port (and answers health checks): this child cannot
                            # bind it, whether or not it has said so yet.
                            raise ServiceNotReadyError(
                                f"{self.name}: port {self.port} is held by another process\n{self.log_tail()}"
                            )
                        return
                    last_problem = f"/health/ready answered {response.status_code}: {response.text[:300]}"
                except httpx.HTTPError as exc:
                    last_problem = repr(exc)
                await asyncio.sleep(0.2)
        raise ServiceNotReadyError(
            f"{self.name} not ready after {waited:.0f}s ({last_problem})\n{self.log_tail()}"
        )

    def _lost_its_port(self) -> bool:
        """The port is not this start's (its output says the bind failed, or another process listens there)
        and the launch passes the port where it can be moved."""
        if not mentions_port(self.args, self._env_values(), self.port):
            return False
        return says_address_in_use(self._output_since_start()) or self._answered_by_another_process()

    def _answered_by_another_process(self) -> bool:
        pid = self.pid
        return pid is not None and self.is_running() and listener_belongs_elsewhere(pid, self.port)

    def _env_values(self) -> dict[str, str]:
        return {name: value for name, value in self._env.items() if isinstance(value, str)}

    def _output_since_start(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read(200_000).decode(errors="replace")
        except OSError:
            return ""

    def _move_to_new_port(self) -> None:
        old, new = self.port, free_port()
        self._process.kill()
        with self.log_path.open("ab") as log:
            log.write(f"--- port {old} was taken; starting again on {new}\n".encode())
        self.port = new
        self.args = moved_args(self.args, old, new)
        self._env = {**self._env, **moved_env(self._env_values(), old, new)}
        self._process.args = self.args
        self.start()

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
