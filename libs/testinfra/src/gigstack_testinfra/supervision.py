"""Child processes in their own process groups, stopped as a whole and never left behind.

Every server we launch may fork helpers (PostgreSQL backends, Erlang port programs, a JVM), so we signal the
whole process group, not just the pid we know. A module-level registry lets an ``atexit`` hook and the SIGTERM
handler clean up whatever is still running when the interpreter goes away without a pytest teardown, and the
watchdog in ``reaper`` covers a SIGKILL of the interpreter itself.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from .reaper import reaper

_PR_SET_PDEATHSIG = 1
_live: set[ManagedProcess] = set()
_live_lock = threading.Lock()
_hooks_installed = False


def _die_with_parent() -> None:
    """Run in the child before exec: ask Linux to SIGKILL it if the test runner dies abruptly."""
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ManagedProcess:
    """One command running in its own process group, with output captured in ``log_path``."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: int | None = None,
        group: int | None = None,
        detached: bool = False,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.group = group
        # Detached processes outlive this interpreter (``make up``): no parent-death signal, no exit hook.
        self.detached = detached
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        if self.is_running():
            return
        _install_hooks()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting {' '.join(self.args)}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(  # noqa: S603 - argv from our launchers, no shell
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                user=self.user,
                group=self.group,
                extra_groups=[] if self.user is not None else None,
                preexec_fn=None if self.detached else _die_with_parent,
                start_new_session=self.detached,
            )
        if not self.detached:
            with _live_lock:
                _live.add(self)
            reaper.watch(self._popen.pid)

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the group, wait, then SIGKILL whatever is left."""
        popen = self._popen
        if popen is None:
            return
        self._signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=timeout)
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)
        self._forget()

    def kill(self) -> None:
        """SIGKILL the whole group at once: a crash, not a shutdown."""
        popen = self._popen
        if popen is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)
        self._forget()

    def log_tail(self, max_bytes: int = 8000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode(errors="replace")

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def _forget(self) -> None:
        with _live_lock:
            _live.discard(self)
        if self._popen is not None and not self.detached:
            reaper.unwatch(self._popen.pid)


def stop_all() -> None:
    """Stop every process still registered (used at interpreter exit and on SIGTERM)."""
    with _live_lock:
        remaining = list(_live)
    for process in remaining:
        with contextlib.suppress(Exception):
            process.stop(timeout=5)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    stop_all()
    raise SystemExit(128 + signum)


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(stop_all)
    # Only the main thread may install signal handlers; keep any handler a host program already set.
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_sigterm)
