"""Tracing configurations the gateway benchmark can run the services under (``run.py --tracing``).

- **bench-default** — what the benchmark has always measured: the services' default sampler argument (1.0,
  every request recorded) and no OTLP endpoint, so finished spans are dropped in process and nothing is
  exported. Neither deployed overlay runs like this.
- **eks** — the eks overlay's tracing (environments/eks/environment.yaml, gitops/base/common/
  environment-configmap.yaml): ``OTEL_TRACES_SAMPLER_ARG=0.1`` and spans exported over OTLP/HTTP to an
  OpenTelemetry Collector. Here the collector is a real one (scripts/install/otelcol.sh) on loopback,
  receiving, batching and logging a line per batch (debug exporter, basic verbosity), so the services pay
  the whole export: the batch span processor's queue and thread, protobuf encoding and the HTTP POSTs.
  Every service of the run gets it, as every pod of the overlay does (auth, the gateway, the baseline);
  the collector's own CPU is reported beside theirs (in EKS it runs on the cluster, not on the gateway's
  cores).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
PRESETS = ("bench-default", "eks")
EKS_SAMPLER_ARG = "0.1"  # environments/eks/environment.yaml
# What the presets set; a process given another preset than the run's drops them first.
TRACING_VARIABLES = ("OTEL_TRACES_SAMPLER_ARG", "OTEL_EXPORTER_OTLP_ENDPOINT")

# The clusters' trace pipeline (observability/otel/collector.yaml: memory limit, batching) on loopback ports,
# with the debug exporter as the only destination (no tracing backend runs here). The health-check path is the
# services' readiness path, so the collector is awaited like them. Its own metrics are off: their port (8888)
# is fixed and shared by whatever else runs a collector on the machine.
_COLLECTOR_CONFIG = """\
receivers:
  otlp:
    protocols:
      http:
        endpoint: {host}:{otlp_port}
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    timeout: 5s
    send_batch_size: 512
exporters:
  debug:
    verbosity: basic
extensions:
  health_check:
    endpoint: {host}:{health_port}
    path: /health/ready
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
"""


def collector_binary() -> str:
    """The Gigstack collector, built once per machine by its install script (which prints its path)."""
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install" / "otelcol.sh"), "--print-path"],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def collector_process(log_dir: Path) -> tuple[ServiceProcess, str]:
    """A collector on loopback and the OTLP/HTTP base URL the services export to."""
    otlp_port, health_port = free_port(), free_port()
    config = log_dir / "otelcol.yaml"
    config.write_text(_COLLECTOR_CONFIG.format(host=LOOPBACK, otlp_port=otlp_port, health_port=health_port))
    process = ServiceProcess(
        "otel-collector",
        [collector_binary(), f"--config={config}"],
        {},
        health_port,
        log_dir / "otel-collector.log",
    )
    return process, f"http://{LOOPBACK}:{otlp_port}"


def tracing_env(preset: str, collector_url: str | None) -> dict[str, str]:
    """Environment every service of the run gets for the preset (empty: the services' defaults)."""
    if preset == "bench-default":
        return {}
    if preset == "eks":
        if collector_url is None:
            raise ValueError("the eks preset exports to a collector")
        return {"OTEL_TRACES_SAMPLER_ARG": EKS_SAMPLER_ARG, "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url}
    raise ValueError(f"unknown tracing preset {preset!r}")
