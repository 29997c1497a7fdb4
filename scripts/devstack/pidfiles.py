"""Detached process groups recorded in ``.local/pids/<name>.pid`` (one process-group id per line)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from scripts.devstack.catalogue import PIDS


def _pid_file(name: str) -> Path:
    return PIDS / f"{name}.pid"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def recorded_groups(name: str) -> list[int]:
    path = _pid_file(name)
    if not path.exists():
        return []
    return [int(p) for p in path.read_text().split() if p.strip()]


def running_groups(name: str) -> list[int]:
    return [pgid for pgid in recorded_groups(name) if _group_alive(pgid)]


def record(name: str, pids: Sequence[int | None]) -> None:
    PIDS.mkdir(parents=True, exist_ok=True)
    _pid_file(name).write_text("\n".join(str(p) for p in pids if p is not None) + "\n")


def stop_groups(name: str) -> bool:
    groups = running_groups(name)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.3)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)
    return bool(groups)
