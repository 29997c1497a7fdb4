"""Read the provisioning files the observability/ folder provides (dashboards, datasources, pipelines)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ObservabilityFiles:
    dashboards: dict[str, str]
    datasources: dict[str, str]
    alloy_config: str | None
    otel_collector_config: dict[str, Any] | None
    filebeat_config: dict[str, Any] | None


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def load_observability_files(root: Path) -> ObservabilityFiles:
    """Missing files are skipped, so the platform deploys before every dashboard exists."""
    dashboards_dir = root / "grafana" / "dashboards"
    datasources_dir = root / "grafana" / "datasources"
    otel = _read(root / "otel" / "collector.yaml")
    filebeat = _read(root / "elk" / "filebeat.yaml")
    return ObservabilityFiles(
        dashboards={p.name: p.read_text(encoding="utf-8") for p in sorted(dashboards_dir.glob("*.json"))},
        datasources={p.name: p.read_text(encoding="utf-8") for p in sorted(datasources_dir.glob("*.yaml"))},
        alloy_config=_read(root / "loki" / "alloy-config.alloy"),
        otel_collector_config=yaml.safe_load(otel) if otel else None,
        filebeat_config=yaml.safe_load(filebeat) if filebeat else None,
    )
