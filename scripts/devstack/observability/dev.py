"""The observability engines behind ``make up``: fixed ports, state in ``.local/``, pid files."""

from __future__ import annotations

from scripts.devstack.catalogue import DATA, HOST, LOCAL, LOGS, PORTS, ServiceSpec
from scripts.devstack.observability.configs import DEV_TIMING, ScrapeTarget, write_configs
from scripts.devstack.observability.engines import ObservabilityEngines
from scripts.devstack.observability.ports import EnginePorts
from scripts.devstack.pidfiles import record, running_groups

PORTS_DEV = EnginePorts()
LOG_INDEX = "gigstack-logs"
# Stores the engines need besides those of the services: logs are searched in OpenSearch.
STORES = ("opensearch",)


def service_env() -> dict[str, str]:
    """What every service gets when the engines run: where to send traces."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{PORTS_DEV.otlp_http}"}


def start(services: list[ServiceSpec]) -> None:
    engines = ObservabilityEngines(
        configs=write_configs(
            LOCAL / "observability",
            PORTS_DEV,
            [ScrapeTarget(spec.name, spec.port, is_service=True) for spec in services],
            smarthost=f"{HOST}:{PORTS['smtp']}",
            service_logs=[LOGS / f"{spec.name}.log" for spec in services],
            timing=DEV_TIMING,
        ),
        ports=PORTS_DEV,
        data_dir=DATA / "observability",
        log_dir=LOGS / "observability",
        opensearch_url=f"http://{HOST}:{PORTS['opensearch']}",
        log_index=LOG_INDEX,
        detached=True,
    )
    already = [name for name in engines.commands() if running_groups(name)]
    for name in already:
        print(f"  {name:<13} already running")
    if already:
        return
    engines.start(on_started=lambda name, process: record(name, [process.pid]))
    for name in engines.commands():
        print(f"  {name:<13} ready (log: .local/logs/observability/{name}.log)")


def banner() -> list[str]:
    p = PORTS_DEV
    return [
        f"  Prometheus           http://{HOST}:{p.prometheus}/  (targets, alerts, rules)",
        f"  Alertmanager         http://{HOST}:{p.alertmanager}/  (alerts mailed to the mail catcher)",
        f"  Jaeger query API     http://{HOST}:{p.jaeger_query_http}/api/services  (API only, no UI)",
        f"  OTLP (collector)     http://{HOST}:{p.otlp_http}  grpc {HOST}:{p.otlp_grpc}",
        f"  logs in OpenSearch   http://{HOST}:{PORTS['opensearch']}/{LOG_INDEX}/_search",
    ]
