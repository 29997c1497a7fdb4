"""What a service's process imports before it serves: CPU seconds and the costly modules, per service.

For each service, a fresh interpreter imports what ``python -m <service>_service`` and uvicorn import before
the app factory runs (``<service>_service.__main__`` and ``<service>_service.entrypoints.app``) and reports
the process CPU it used (user + system, interpreter start included), best of ``--repeats``, and its peak RSS.
It also says which of the modules known to be costly were loaded (the OTLP exporter, the httpx
instrumentation, httpx, stripe, the development-only packages httpx's command line pulls in), so a change
that stops importing one shows here without the whole app running::

    uv run python bench/startup/imports.py                      # every service, best of 3
    uv run python bench/startup/imports.py --services gig,order --repeats 5
    uv run python -X importtime -c "import gig_service.__main__, gig_service.entrypoints.app"  # per module

Importing only, no app built and no store reached: `bench/startup/run.py` measures the real start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

SERVICES = ("notification", "users", "gig", "review", "order", "chat", "auth", "gateway", "storefront")
WATCHED = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.instrumentation.httpx",
    "httpx",
    "stripe",
    "rich",
    "click",
)

_PROBE = """
import importlib, json, resource, sys, time
for name in {modules!r}:
    importlib.import_module(name)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{
    "cpu": usage.ru_utime + usage.ru_stime,
    "rss_mib": usage.ru_maxrss / 1024,
    "loaded": [name for name in {watched!r} if name in sys.modules],
}}))
"""


def probe(service: str) -> dict[str, object]:
    package = f"{service}_service"
    modules = [f"{package}.__main__", f"{package}.entrypoints.app"]
    # __main__ is imported as a module here, so its `if __name__ == "__main__"` block does not run.
    code = _PROBE.format(modules=modules, watched=WATCHED)
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--services",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=list(SERVICES),
    )
    args = parser.parse_args()
    print(f"| service | import CPU s (best of {args.repeats}) | peak RSS MiB | costly modules loaded |")
    print("|---|---|---|---|")
    for service in args.services:
        probe(service)  # warm-up: writes the bytecode caches a checkout may not have yet
        runs = [probe(service) for _ in range(args.repeats)]
        best = min(runs, key=lambda run: float(run["cpu"]))  # type: ignore[arg-type]
        loaded = ", ".join(best["loaded"]) or "none"  # type: ignore[arg-type]
        print(f"| {service} | {float(best['cpu']):.2f} | {float(best['rss_mib']):.1f} | {loaded} |")  # type: ignore[arg-type]
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
