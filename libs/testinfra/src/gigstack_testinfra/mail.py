"""Control and read the mail catcher process from tests (``mail_catcher`` fixture) and from ``make up``."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .endpoints import MailCatcherEndpoint
from .net import LOOPBACK, free_port, port_is_open, wait_until
from .reaper import reaper
from .supervision import ManagedProcess

TIMEOUT = 10.0
MailMessage = dict[str, Any]


class MailCatcher:
    """A mail catcher subprocess; ``stop()`` then ``start()`` keeps its ports (SMTP down for a while)."""

    def __init__(self, data_dir: Path, smtp_port: int, http_port: int, *, detached: bool = False) -> None:
        self.data_dir = data_dir
        self.endpoint = MailCatcherEndpoint(LOOPBACK, smtp_port, http_port)
        self._process = ManagedProcess(
            "mail-catcher",
            [
                sys.executable,
                "-m",
                "gigstack_testinfra.mailcatcher",
                "--host",
                LOOPBACK,
                "--smtp-port",
                str(smtp_port),
                "--http-port",
                str(http_port),
                "--data-dir",
                str(data_dir),
            ],
            log_path=data_dir / "mail-catcher.log",
            detached=detached,
        )

    @classmethod
    def for_tests(cls) -> MailCatcher:
        """A catcher on free ports in a temporary directory; ``discard()`` stops it and deletes the dir."""
        directory = Path(tempfile.mkdtemp(prefix="gigstack-mail-"))
        reaper.remove_on_exit(directory)
        return cls(directory, free_port(), free_port())

    def discard(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        reaper.keep_on_exit(self.data_dir)

    # --- connection details ---
    @property
    def smtp_host(self) -> str:
        return self.endpoint.host

    @property
    def smtp_port(self) -> int:
        return self.endpoint.smtp_port

    @property
    def api_url(self) -> str:
        return self.endpoint.api_url

    @property
    def log_path(self) -> Path:
        return self._process.log_path

    @property
    def pid(self) -> int | None:
        return self._process.pid

    # --- lifecycle ---
    def start(self) -> None:
        if self._process.is_running():
            return
        self._process.start()
        wait_until(
            lambda: port_is_open(self.smtp_port) and self._healthy(),
            timeout=30,
            what="mail catcher",
            abort=lambda: None if self._process.is_running() else f"exited\n{self._process.log_tail()}",
        )

    def stop(self) -> None:
        self._process.stop(timeout=10)

    def is_running(self) -> bool:
        return self._process.is_running()

    def _healthy(self) -> bool:
        return httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200

    # --- messages ---
    def messages(self) -> list[MailMessage]:
        """All captured messages, oldest first: from/to/cc/subject/text/html/message-id/headers dicts."""
        response = httpx.get(f"{self.api_url}/api/messages", timeout=TIMEOUT)
        response.raise_for_status()
        result: list[MailMessage] = response.json()
        return result

    def clear(self) -> None:
        httpx.delete(f"{self.api_url}/api/messages", timeout=TIMEOUT).raise_for_status()

    async def wait_for_messages(
        self,
        count: int = 1,
        *,
        timeout: float = 15.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
        where: Callable[[MailMessage], bool] | None = None,
    ) -> list[MailMessage]:
        """Poll until at least ``count`` (matching) messages arrived; returns them. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.api_url, timeout=TIMEOUT) as client:
            while True:
                response = await client.get("/api/messages")
                response.raise_for_status()
                found = [m for m in response.json() if where is None or where(m)]
                if len(found) >= count:
                    return found
                if time.monotonic() > deadline:
                    raise TimeoutError(f"expected {count} message(s), got {len(found)} after {timeout:.0f}s")
                await asyncio.sleep(0.2)
