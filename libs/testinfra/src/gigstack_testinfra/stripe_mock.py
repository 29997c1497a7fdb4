"""stripe-mock (Stripe's official API mock, built from the Go module proxy by scripts/install/stripe-mock.sh)
on a loopback port, for tests of a Stripe adapter: it validates requests against Stripe's OpenAPI spec and
answers with fixture objects. It is stateless, so it checks request shapes, not payment flows.

Both of its listeners get ports the system chooses (`-http-addr 127.0.0.1:`, `-https-addr 127.0.0.1:`): given
only an HTTP address, stripe-mock also opens HTTPS on its fixed default, port 12112 on every interface, so a
second stripe-mock on the machine (another pytest session, a CI job beside this one) failed to start. The
HTTP port is read from what it prints; no port is picked in advance, so none can be taken meanwhile."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gigstack_testinfra.net import LOOPBACK, port_is_open, wait_until

REPO_ROOT = Path(__file__).resolve().parents[4]
INSTALLER = REPO_ROOT / "scripts" / "install" / "stripe-mock.sh"
_HTTP_LISTENING = re.compile(rf"Listening for HTTP at address: {re.escape(LOOPBACK)}:(\d+)")


def stripe_mock_binary() -> Path:
    """The cached binary; the installer builds it (once, nice'd) when it is missing."""
    result = subprocess.run(  # noqa: S603 - our own installer script
        [str(INSTALLER), "--print-path"], check=True, capture_output=True, text=True, timeout=1800
    )
    return Path(result.stdout.strip())


def _http_port(output: Path) -> int | None:
    found = _HTTP_LISTENING.search(output.read_text(errors="replace"))
    return int(found.group(1)) if found else None


@contextmanager
def running_stripe_mock() -> Iterator[str]:
    """Start stripe-mock on loopback ports the system chooses; yields its base URL (http://127.0.0.1:<port>)."""
    with tempfile.TemporaryDirectory(prefix="stripe-mock-") as scratch:
        output = Path(scratch) / "stripe-mock.log"
        with output.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - the cached stripe-mock binary
                [str(stripe_mock_binary()), "-http-addr", f"{LOOPBACK}:", "-https-addr", f"{LOOPBACK}:"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                lambda: (port := _http_port(output)) is not None and port_is_open(port),
                timeout=30,
                what="stripe-mock",
                abort=lambda: (
                    None
                    if process.poll() is None
                    else f"exited with {process.returncode}: {output.read_text(errors='replace')[-2000:]}"
                ),
            )
            yield f"http://{LOOPBACK}:{_http_port(output)}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
