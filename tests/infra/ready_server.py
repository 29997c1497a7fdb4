"""A stand-in service for ServiceProcess tests: answers /health/ready after an optional delay.

Run as ``python ready_server.py PORT [DELAY_SECONDS] [linger]``, PORT a number or ``env`` (the ``PORT``
variable); prints each request so log capture can be checked. With ``linger`` a failed bind is printed and the
process stays up, as some servers do, instead of exiting with the error. ``BIND_DELAY_SECONDS`` (environment)
makes it bind (and report a failed bind) only after that long, as a service still importing its modules does.
"""

from __future__ import annotations

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

STARTED = time.monotonic()
DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ready = time.monotonic() - STARTED >= DELAY
        status = 200 if self.path == "/health/ready" and ready else 503
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"starting")
        print(f"GET {self.path} -> {status}", flush=True)

    def log_message(self, format: str, *args: object) -> None:
        return


if __name__ == "__main__":
    print("ready_server starting", flush=True)
    port = int(os.environ["PORT"] if sys.argv[1] == "env" else sys.argv[1])
    time.sleep(float(os.environ.get("BIND_DELAY_SECONDS", "0")))
    try:
        server = HTTPServer(("127.0.0.1", port), Handler)
    except OSError as error:
        if "linger" not in sys.argv[3:]:
            raise
        print(f"could not listen: {error}", flush=True)
        time.sleep(3600)
    server.serve_forever()
