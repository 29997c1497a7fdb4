"""`run_service`: serve a service app with uvicorn and shut it down gracefully on SIGTERM."""

from __future__ import annotations

import logging
import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from servicekit.health import begin_process_shutdown
from servicekit.logging import configure_logging
from servicekit.settings import ServiceSettings

__all__ = ["run_service"]

logger = logging.getLogger(__name__)

_SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _GracefulServer(uvicorn.Server):
    """uvicorn server that flags the app as shutting down on SIGTERM and exits 0 after a clean drain.

    On the first signal `/health/live` turns 503 at once, uvicorn stops accepting connections, waits up to
    `timeout_graceful_shutdown` for in-flight requests, then runs the lifespan shutdown (hooks drain consumers
    and close stores). A second SIGINT forces exit. Unlike plain uvicorn, the signal is not re-raised after
    the drain, so a clean shutdown exits with status 0.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            logger.info("shutdown signal received", extra={"signal": signal.Signals(sig).name})
            begin_process_shutdown()
        super().handle_exit(sig, frame)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SHUTDOWN_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run_service(factory: str, settings: ServiceSettings) -> None:
    """Serve the app built by `factory` (`"package.module:create_app"`, called with no arguments).

    Used by `python -m <name>_service`; blocks until the server has shut down.
    """
    configure_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        # Our JSON logging is already installed; uvicorn's dictConfig would replace it with plain text.
        log_config=None,
        log_level=settings.log_level.lower(),
        # RequestContextMiddleware logs each request with route, status and duration.
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=max(1, math.ceil(settings.shutdown_grace_seconds)),
        timeout_keep_alive=5,
    )
    _GracefulServer(config).run()
