"""``python -m gateway_service``: run the gateway with uvicorn (settings from the environment)."""

from __future__ import annotations

import importlib
import sys

from servicekit.http import run_service

from gateway_service.settings import GatewaySettings

# Imported by python-socketio's and python-engineio's *client* modules only, each inside `try/except
# ImportError` (the clients then say the package is missing if used). The gateway only serves Socket.IO,
# and its downstream calls go through its own links (adapters/http_link.py), so neither is needed.
SOCKETIO_CLIENT_ONLY_IMPORTS = ("requests", "aiohttp")


def import_socketio_without_its_clients() -> None:
    """Import python-socketio before the app does, with its clients' HTTP libraries hidden for the import.

    `import socketio` imports engineio's `Client` and `AsyncClient`, which import requests and aiohttp:
    about 0.45 s of CPU of the gateway's ~3 s to ready when measured (docs/benchmarks.md, "Startup"), for
    clients the gateway never creates (aiohttp was the gateway's own downstream client for a while; since
    the links replaced it, nothing in the served gateway imports it).
    The names are hidden only while socketio is imported and unhidden after, so anything imported later
    gets the real packages. Done here, in the process entry point, and not in the
    app's modules: a test process that imports the app and also uses Socket.IO's client keeps a working one.
    """
    hidden = [name for name in SOCKETIO_CLIENT_ONLY_IMPORTS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        importlib.import_module("socketio")
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def main() -> None:
    settings = GatewaySettings()  # filled from the environment
    import_socketio_without_its_clients()
    run_service("gateway_service.entrypoints.app:create_app", settings)


if __name__ == "__main__":
    main()
