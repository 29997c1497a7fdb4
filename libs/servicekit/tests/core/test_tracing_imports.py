"""A service imports the OTLP exporter only when it exports, and the httpx instrumentation only when asked.

Each case runs in a fresh interpreter: what a process imports is process-wide, and this test process has
imported everything already. That the configured exporter really delivers spans (and flushes them at
shutdown) is shown end to end by `tests/http/test_run_service.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

EXPORTER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
HTTPX_INSTRUMENTATION = "opentelemetry.instrumentation.httpx"

_PROBE = """
import json, sys
from fastapi import APIRouter
from opentelemetry import trace
from servicekit.http import create_service_app
from servicekit.settings import ServiceSettings
from servicekit.tracing import instrument_httpx

exporter, instrumentation = sys.argv[1:3]
settings = ServiceSettings(service_name="probe", environment="test", internal_token_public_key="unused")
create_service_app(settings, title="probe", version="1", routers=[APIRouter()], require_internal_token=False)
if "--httpx" in sys.argv:
    instrument_httpx()
    instrument_httpx()  # a second call changes nothing
instrumented = False
if instrumentation in sys.modules:
    instrumented = sys.modules[instrumentation].HTTPXClientInstrumentor().is_instrumented_by_opentelemetry
processors = trace.get_tracer_provider()._active_span_processor._span_processors
print(json.dumps({
    "modules": [name for name in (exporter, instrumentation, "httpx") if name in sys.modules],
    "exporters": [type(getattr(processor, "span_exporter", None)).__name__ for processor in processors],
    "httpx_instrumented": instrumented,
}))
"""


def _probe(*args: str, endpoint: str | None = None) -> dict[str, object]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    if endpoint is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, EXPORTER, HTTPX_INSTRUMENTATION, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    probed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return probed


def test_without_an_endpoint_neither_the_exporter_nor_the_httpx_instrumentation_is_imported() -> None:
    probed = _probe()
    assert probed["modules"] == []
    assert probed["exporters"] == []
    assert probed["httpx_instrumented"] is False


def test_with_an_endpoint_spans_go_to_the_otlp_exporter() -> None:
    probed = _probe(endpoint="http://127.0.0.1:9")
    assert EXPORTER in probed["modules"]  # type: ignore[operator]
    assert probed["exporters"] == ["OTLPSpanExporter"]
    assert HTTPX_INSTRUMENTATION not in probed["modules"]  # type: ignore[operator]


def test_instrument_httpx_instruments_httpx_once() -> None:
    probed = _probe("--httpx")
    assert HTTPX_INSTRUMENTATION in probed["modules"]  # type: ignore[operator]
    assert probed["httpx_instrumented"] is True
    assert probed["exporters"] == []
