"""Every Grafana panel's PromQL, made runnable against a plain Prometheus (no Grafana server can run here)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO_ROOT / "observability" / "grafana" / "dashboards").glob("*.json"))
# What Grafana puts in place of its variables when a dashboard is opened with "All" selected.
GRAFANA_VARIABLES = {"$service": ".*", "$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
_NAMED_SERVICE = re.compile(r'\b(?:service|job)="([a-z-]+)"')
# A service's own queues (`<service>.<purpose>`, docs/contracts.md): their depth is exported by its consumer.
_NAMED_QUEUE_OWNER = re.compile(r'\bqueue=~"([a-z-]+)\\\\\.')
RULE_FILES = sorted((REPO_ROOT / "observability" / "prometheus" / "rules").glob("*.yaml"))
# Everything in PromQL that is not a metric name: strings, label matchers, ranges, grouping clauses, numbers.
_NOT_NAMES = re.compile(
    r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring)\s*\([^)]*\)|\b\d[\d.e+-]*\b'
)
_IDENTIFIER = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_OPERATORS = {"and", "or", "unless", "bool"}


@dataclass(frozen=True)
class Panel:
    dashboard: str
    title: str
    expr: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.title}: {self.expr}"


def _runnable(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def dashboard_panels() -> list[Panel]:
    panels = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                panels.append(Panel(path.name, panel["title"], _runnable(target["expr"])))
    return panels


def built_services() -> set[str]:
    return {p.parent.name for p in (REPO_ROOT / "services").glob("*/pyproject.toml")}


def panel_report(
    results: dict[Panel, list[Any]], running: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """(panels without data that should have it, panels waiting for services that are not running).

    `running` is the services the live stack runs (default: every built one); a panel that names a service
    outside it cannot have data and is reported as waiting, not as empty."""
    empty, waiting = [], []
    present = built_services() if running is None else running
    for panel, series in results.items():
        if series:
            continue
        named = set(_NAMED_SERVICE.findall(panel.expr)) | set(_NAMED_QUEUE_OWNER.findall(panel.expr))
        missing = named - present
        if missing:
            waiting.append(f"{panel} (needs {', '.join(sorted(missing))})")
        else:
            empty.append(str(panel))
    return empty, waiting


def scraped_metric_names_in_rules() -> set[str]:
    """Metric names the alert and recording rules select (recorded names and ALERTS excluded)."""
    names: set[str] = set()
    recorded: set[str] = set()
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                names |= metric_names(rule["expr"])
                recorded |= {rule["record"]} if "record" in rule else set()
    return names - recorded - {"up", "ALERTS"}


def metric_owner(name: str) -> str | None:
    """The service a metric belongs to when its name says so (`order_payment_anomalies_total`), else None."""
    return next((service for service in built_services() if name.startswith(f"{service}_")), None)


def metric_names(expr: str) -> set[str]:
    """Identifiers of a PromQL expression that are not functions, operators, labels or numbers."""
    bare = _NOT_NAMES.sub(" ", expr)
    return {name for name, call in _IDENTIFIER.findall(bare) if not call and name not in _OPERATORS}
