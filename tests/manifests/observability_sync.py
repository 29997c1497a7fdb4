"""Kubernetes wrappers for the observability sources, kept in step with them.

observability/ holds plain Prometheus rule groups, Grafana dashboards and the Alloy pipeline, which
promtool and the observability tests check as they are. Argo CD needs them as objects inside the
paths it syncs (kustomize may not read files outside its root), so this module writes:

- gitops/base/monitoring/: a PrometheusRule with the same groups and one ConfigMap per dashboard
  (label grafana_dashboard, picked up by the Grafana sidecar), synced with the marketplace;
- gitops/addons-config/alloy/: the ConfigMap the Alloy addon mounts.

Regenerate after editing observability/: `uv run python tests/manifests/observability_sync.py`.
tests/manifests/test_observability_sync.py fails while a generated file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = "# Generated from {source} by tests/manifests/observability_sync.py; do not edit by hand.\n"


def _dump(doc: dict[str, Any], source: str) -> str:
    body: str = yaml.safe_dump(doc, sort_keys=False, width=120)
    return HEADER.format(source=source) + body


def _prometheus_rule(repo_root: Path, source: Path) -> str:
    groups = yaml.safe_load(source.read_text())["groups"]
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": source.name.removesuffix(".rules.yaml"),
            "labels": {"app.kubernetes.io/part-of": "gigstack"},
        },
        "spec": {"groups": groups},
    }
    return _dump(doc, str(source.relative_to(repo_root)))


def _dashboard_configmap(repo_root: Path, source: Path) -> str:
    # Parse and re-serialise so a malformed dashboard fails here rather than in Grafana.
    dashboard = json.loads(source.read_text())
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"dashboard-{source.stem}",
            "labels": {"app.kubernetes.io/part-of": "gigstack", "grafana_dashboard": "1"},
        },
        "data": {source.name: json.dumps(dashboard, indent=2, sort_keys=True) + "\n"},
    }
    return _dump(doc, str(source.relative_to(repo_root)))


def _alloy_configmap(repo_root: Path, source: Path) -> str:
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "alloy-config", "labels": {"app.kubernetes.io/part-of": "gigstack-platform"}},
        "data": {"config.alloy": source.read_text()},
    }
    return _dump(doc, str(source.relative_to(repo_root)))


def _kustomization(resources: list[str], comment: str) -> str:
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    body: str = yaml.safe_dump(doc, sort_keys=False)
    return HEADER.format(source="observability/") + f"# {comment}\n" + body


def expected_files(repo_root: Path = REPO_ROOT) -> dict[Path, str]:
    observability = repo_root / "observability"
    monitoring = repo_root / "gitops" / "base" / "monitoring"
    files: dict[Path, str] = {}
    for rules in sorted((observability / "prometheus" / "rules").glob("*.rules.yaml")):
        files[monitoring / f"prometheusrule-{rules.name.removesuffix('.rules.yaml')}.yaml"] = (
            _prometheus_rule(repo_root, rules)
        )
    for dashboard in sorted((observability / "grafana" / "dashboards").glob("*.json")):
        files[monitoring / f"dashboard-{dashboard.stem}.yaml"] = _dashboard_configmap(repo_root, dashboard)
    files[monitoring / "kustomization.yaml"] = _kustomization(
        sorted(path.name for path in files), "SLO rules and dashboards, synced with the marketplace services."
    )
    alloy = observability / "loki" / "alloy-config.alloy"
    if alloy.is_file():
        alloy_dir = repo_root / "gitops" / "addons-config" / "alloy"
        files[alloy_dir / "alloy-config.yaml"] = _alloy_configmap(repo_root, alloy)
        files[alloy_dir / "kustomization.yaml"] = _kustomization(
            ["alloy-config.yaml"], "The Alloy pipeline; the alloy addon Application syncs it with the chart."
        )
    return files


def stale_files(repo_root: Path = REPO_ROOT) -> list[str]:
    return [
        str(path.relative_to(repo_root))
        for path, text in expected_files(repo_root).items()
        if not path.is_file() or path.read_text() != text
    ]


def write_all(repo_root: Path = REPO_ROOT) -> None:
    for path, text in expected_files(repo_root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    write_all()
    sys.stdout.write("generated files are up to date\n")
