"""HTTP side of a service: the app factory with its cross-cutting wiring, middleware and server runner."""

from servicekit.http.app import LifespanHook, create_service_app
from servicekit.http.hooks import app_deps, close_on_shutdown, retry_in_background
from servicekit.http.server import run_service

__all__ = [
    "LifespanHook",
    "app_deps",
    "close_on_shutdown",
    "create_service_app",
    "retry_in_background",
    "run_service",
]
