"""stripe-mock (Stripe's official API mock, built from the Go module proxy by scripts/install/stripe-mock.sh)
on a loopback port, for tests of a Stripe adapter: it validates requests against Stripe's OpenAPI spec and
answers with fixture objects. It is stateless, so it checks request shapes, not payment flows."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gigstack_testinfra.net import LOOPBACK, free_port, port_is_open, wait_until

REPO_ROOT = Path(__file__).resolve().parents[4]
INSTALLER = REPO_ROOT / "scripts" / "install" / "stripe-mock.sh"


def stripe_mock_binary() -> Path:
    """The cached binary; the installer builds it (once, nice'd) when it is missing."""
    result = subprocess.run(  # noqa: S603 - our own installer script
        [str(INSTALLER), "--print-path"], check=True, capture_output=True, text=True, timeout=1800
    )
    return Path(result.stdout.strip())


@contextmanager
def running_stripe_mock() -> Iterator[str]:
    """Start stripe-mock on a free loopback port; yields its base URL (http://127.0.0.1:<port>)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the cached stripe-mock binary
        [str(stripe_mock_binary()), "-http-addr", f"{LOOPBACK}:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: port_is_open(port),
            timeout=30,
            what="stripe-mock",
            abort=lambda: None if process.poll() is None else f"exited with {process.returncode}",
        )
        yield f"http://{LOOPBACK}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
