"""`python -m gateway_service` imports python-socketio without its clients' HTTP libraries (requests and
aiohttp: startup CPU, docs/benchmarks.md "Startup"; the gateway's own downstream calls need neither), and the
server still works and the libraries stay importable afterwards."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from gateway_service.__main__ import import_socketio_without_its_clients

import_socketio_without_its_clients()
import gateway_service.entrypoints.app  # everything the served app imports
import socketio

loaded = [name for name in ("requests", "aiohttp") if name in sys.modules]
socketio.AsyncServer(async_mode="asgi", transports=["websocket"])
import aiohttp, requests  # unhidden: later imports get the real packages
print(loaded, requests.__name__, aiohttp.__name__)
"""


def test_the_served_gateway_never_imports_the_socketio_clients_http_libraries() -> None:
    # A fresh interpreter: this test process may have imported them already.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "requests", "aiohttp"]
