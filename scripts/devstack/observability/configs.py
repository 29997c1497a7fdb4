"""Config files of the local observability engines, generated from the sources under ``observability/``.

What is shared with the clusters is read, never copied: the rule files (observability/prometheus/rules/), the
collector pipeline (observability/otel/collector.yaml, overlaid by observability/local/collector.yaml).
What only exists on one machine (ports, paths, the list of running services) is filled into the templates in
observability/local/. Tests ask for ``TEST_TIMING``: the same rules with every window and ``for:`` divided by
a constant, so an alert designed to need an hour of bad traffic fires after two minutes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import yaml

from scripts.devstack.observability.ports import EnginePorts

REPO_ROOT = Path(__file__).resolve().parents[3]
OBSERVABILITY = REPO_ROOT / "observability"
RULE_SOURCES = OBSERVABILITY / "prometheus" / "rules"
COLLECTOR_BASE = OBSERVABILITY / "otel" / "collector.yaml"
LOCAL_TEMPLATES = OBSERVABILITY / "local"

_DURATION = re.compile(r"(\d+)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class _ReadableDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no type hints
    """Multi-line strings (PromQL) as literal blocks, so generated rule files read like their sources."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_ReadableDumper.add_representer(str, _represent_str)


@dataclass(frozen=True)
class Timing:
    """How fast the loop of scrape -> rule -> alert -> notification turns."""

    scrape_interval: str = "5s"
    evaluation_interval: str = "5s"
    group_wait: str = "10s"
    group_interval: str = "1m"
    # Every range and `for:` in the rules is divided by this; 1 keeps the rules exactly as written.
    time_divisor: int = 1


DEV_TIMING = Timing()
# 1 h of burn becomes 2 min, `for: 2m` becomes 4 s; rate windows stay >= 10 scrapes of 1 s.
TEST_TIMING = Timing("1s", "1s", "1s", "2s", time_divisor=30)


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    port: int
    is_service: bool  # services carry the cluster's labels; the engines' own targets do not


@dataclass(frozen=True)
class ConfigFiles:
    prometheus: Path
    alertmanager: Path
    collector: tuple[Path, ...]
    jaeger: Path


def duration_seconds(text: str) -> int:
    return sum(int(n) * _SECONDS[unit] for n, unit in _DURATION.findall(text))


def shorten_duration(text: str, divisor: int) -> str:
    return f"{max(1, duration_seconds(text) // divisor)}s"


def shortened_rules(source: str, divisor: int) -> str:
    """The rule file with every PromQL range, `for:` and group interval divided by ``divisor``."""
    if divisor == 1:
        return source
    document = yaml.safe_load(source)
    ranges = re.compile(r"\[((?:\d+[smhdw])+)\]")
    for group in document["groups"]:
        if "interval" in group:
            group["interval"] = shorten_duration(group["interval"], divisor)
        for rule in group["rules"]:
            rule["expr"] = ranges.sub(lambda m: f"[{shorten_duration(m.group(1), divisor)}]", rule["expr"])
            if "for" in rule:
                rule["for"] = shorten_duration(rule["for"], divisor)
    header = f"# Generated from observability/prometheus/rules/ with every window divided by {divisor}.\n"
    body: str = yaml.dump(document, Dumper=_ReadableDumper, sort_keys=False, width=120)
    return header + body


def _fill(template: Path, **values: object) -> str:
    return Template(template.read_text()).substitute({k: str(v) for k, v in values.items()})


def _prometheus(
    directory: Path, ports: EnginePorts, targets: list[ScrapeTarget], timing: Timing
) -> dict[str, Any]:
    local: dict[str, Any] = yaml.safe_load((LOCAL_TEMPLATES / "prometheus.yaml").read_text())
    service_labels = local.pop("service_target_labels")
    rules_dir = directory / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(RULE_SOURCES.glob("*.yaml")):
        (rules_dir / source.name).write_text(shortened_rules(source.read_text(), timing.time_divisor))
    local["global"].update(
        scrape_interval=timing.scrape_interval,
        evaluation_interval=timing.evaluation_interval,
        # A timeout may not exceed the interval; the tests' 1 s scrapes get a 1 s timeout.
        scrape_timeout=min(timing.scrape_interval, local["global"]["scrape_timeout"], key=duration_seconds),
    )
    local["rule_files"] = [str(rules_dir / "*.yaml")]
    local["alerting"] = {
        "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports.alertmanager}"]}]}]
    }
    local["scrape_configs"] = [
        {
            "job_name": target.job,
            "static_configs": [
                {
                    "targets": [f"127.0.0.1:{target.port}"],
                    "labels": {**service_labels, "service": target.job} if target.is_service else {},
                }
            ],
        }
        for target in targets
    ]
    return local


def engine_targets(ports: EnginePorts) -> list[ScrapeTarget]:
    """The engines scrape themselves too: a silent collector or Alertmanager is an outage of its own."""
    return [
        ScrapeTarget("prometheus", ports.prometheus, is_service=False),
        ScrapeTarget("alertmanager", ports.alertmanager, is_service=False),
        ScrapeTarget("otel-collector", ports.collector_metrics, is_service=False),
        ScrapeTarget("jaeger", ports.jaeger_metrics, is_service=False),
    ]


def write_configs(
    directory: Path,
    ports: EnginePorts,
    services: list[ScrapeTarget],
    *,
    smarthost: str,
    service_logs: list[Path],
    timing: Timing,
) -> ConfigFiles:
    """Write every engine's config into ``directory``; ``service_logs`` are the services' JSON log files."""
    directory.mkdir(parents=True, exist_ok=True)
    prometheus = directory / "prometheus.yaml"
    config = _prometheus(directory, ports, [*services, *engine_targets(ports)], timing)
    prometheus.write_text(yaml.safe_dump(config, sort_keys=False))
    alertmanager = directory / "alertmanager.yaml"
    alertmanager.write_text(
        _fill(
            LOCAL_TEMPLATES / "alertmanager.yaml",
            SMARTHOST=smarthost,
            GROUP_WAIT=timing.group_wait,
            GROUP_INTERVAL=timing.group_interval,
        )
    )
    collector = directory / "collector-local.yaml"
    collector.write_text(
        _fill(
            LOCAL_TEMPLATES / "collector.yaml",
            OTLP_HTTP_PORT=ports.otlp_http,
            OTLP_GRPC_PORT=ports.otlp_grpc,
            SERVICE_LOGS=", ".join(json.dumps(str(path)) for path in service_logs),
            LOG_INDEXER_PORT=ports.log_indexer,
            HEALTH_PORT=ports.collector_health,
            METRICS_PORT=ports.collector_metrics,
        )
    )
    jaeger = directory / "jaeger.yaml"
    jaeger.write_text(
        _fill(
            LOCAL_TEMPLATES / "jaeger.yaml",
            OTLP_HTTP_PORT=ports.jaeger_otlp_http,
            OTLP_GRPC_PORT=ports.jaeger_otlp_grpc,
            QUERY_HTTP_PORT=ports.jaeger_query_http,
            QUERY_GRPC_PORT=ports.jaeger_query_grpc,
            HEALTH_PORT=ports.jaeger_health,
            METRICS_PORT=ports.jaeger_metrics,
        )
    )
    return ConfigFiles(prometheus, alertmanager, (COLLECTOR_BASE, collector), jaeger)
