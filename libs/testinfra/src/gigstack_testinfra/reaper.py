"""Last line of defence against orphans: a watchdog process that stops our process groups when we die.

The parent-death signal only reaches a direct child (``rabbitmq-server`` is a shell wrapper: it would die, the
Erlang VM it started would not), and a SIGKILL of the test runner skips every Python hook. The watchdog reads
"add/del <pgid>" lines from a pipe whose write end only this interpreter holds; when the interpreter ends, for
any reason, the pipe closes and the watchdog SIGTERMs, then SIGKILLs, every group still registered, and
removes the temporary directories registered with it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from pathlib import Path

_WATCHDOG = """
import os, shutil, signal, sys, time
groups, directories = set(), set()
for line in sys.stdin:
    op, _, arg = line.rstrip("\\n").partition(" ")
    if op == "add":
        groups.add(int(arg))
    elif op == "del":
        groups.discard(int(arg))
    elif op == "adddir":
        directories.add(arg)
    elif op == "deldir":
        directories.discard(arg)
def signal_all(sig):
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
        except OSError:
            pass
if groups:
    signal_all(signal.SIGTERM)
    time.sleep(3)
    signal_all(signal.SIGKILL)
for directory in directories:
    shutil.rmtree(directory, ignore_errors=True)
"""


class Reaper:
    def __init__(self) -> None:
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _send(self, line: str) -> None:
        if self._watchdog is None or self._watchdog.poll() is not None:
            # Own session: a Ctrl-C aimed at the test runner's process group must not stop the watchdog.
            self._watchdog = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-c", _WATCHDOG],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        assert self._watchdog.stdin is not None
        with contextlib.suppress(OSError):
            self._watchdog.stdin.write(line.encode())
            self._watchdog.stdin.flush()

    def watch(self, pgid: int) -> None:
        with self._lock:
            self._send(f"add {pgid}\n")

    def unwatch(self, pgid: int) -> None:
        with self._lock:
            if self._watchdog is not None and self._watchdog.poll() is None:
                self._send(f"del {pgid}\n")

    def remove_on_exit(self, directory: Path) -> None:
        """Delete ``directory`` if this interpreter dies before ``keep_on_exit`` (temporary server dirs)."""
        with self._lock:
            self._send(f"adddir {directory}\n")

    def keep_on_exit(self, directory: Path) -> None:
        with self._lock:
            if self._watchdog is not None and self._watchdog.poll() is None:
                self._send(f"deldir {directory}\n")


reaper = Reaper()
