"""Last line of defence against orphans: a watchdog process that stops our process groups when we die.

The parent-death signal only reaches a direct child (``rabbitmq-server`` is a shell wrapper: it would die, the
Erlang VM it started would not), and a SIGKILL of the test runner skips every Python hook. The watchdog reads
"add/del <pgid>" lines from a pipe whose write end only this interpreter holds; when the interpreter ends, for
any reason, the pipe closes and the watchdog SIGTERMs, then SIGKILLs, every group still registered.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading

_WATCHDOG = """
import os, signal, sys, time
groups = set()
for line in sys.stdin:
    op, _, pgid = line.strip().partition(" ")
    if op == "add":
        groups.add(int(pgid))
    elif op == "del":
        groups.discard(int(pgid))
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


reaper = Reaper()
