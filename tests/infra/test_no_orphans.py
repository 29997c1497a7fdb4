"""A test runner killed with SIGKILL (no Python hook runs) leaves no server process or temp dir behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# A stand-in for a pytest session: start servers through the local backend, report their process groups, hang.
SESSION = """
import json, sys, time
from gigstack_testinfra.backends.local import LocalBackend
backend = LocalBackend()
backend.redis()
backend.postgres()
broker = backend.rabbitmq()
groups = [s._process.pid for s in backend._servers] + [broker._epmd.pid]
print(json.dumps({"groups": groups, "root": str(backend.root)}), flush=True)
time.sleep(600)
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_servers_die_with_a_killed_session() -> None:
    session = subprocess.Popen(
        [sys.executable, "-c", SESSION], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert session.stdout is not None
        started = json.loads(session.stdout.readline())
        groups, root = started["groups"], Path(started["root"])
        assert len(groups) == 4
        assert root.is_dir()
        assert all(_group_alive(g) for g in groups)
    finally:
        os.killpg(session.pid, signal.SIGKILL)
        session.wait(timeout=10)

    deadline = time.monotonic() + 30
    while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [g for g in groups if _group_alive(g)]
    for pgid in survivors:  # do not leave them running even when the test fails
        os.killpg(pgid, signal.SIGKILL)
    assert survivors == []
    while root.exists() and time.monotonic() < deadline + 10:
        time.sleep(0.2)
    assert not root.exists()
