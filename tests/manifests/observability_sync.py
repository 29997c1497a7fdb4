"""Kubernetes wrappers for the observability sources, kept in step with them.

observability/ holds plain Prometheus rule groups, Grafana dashboards and the Alloy pipeline, which
promtool and the observability tests check as they are. Argo CD needs them as objects inside the
paths it syncs (kustomize may not read files outside its root), so this module writes:

- gitops/base/monitoring/: a PrometheusRule with the same groups, synced with the marketplace;
- gitops/addons-config/<addon>/: what an addon installed by Argo CD needs from observability/ (dashboard
  ConfigMaps for kube-prometheus-stack's Grafana sidecar, the Alloy and OpenTelemetry Collector
  pipelines), synced as a second source of that addon's Application.

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


def _otel_configmap(repo_root: Path, source: Path) -> str:
    # The chart mounts an existing ConfigMap's key "relay" as the collector's configuration.
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "otel-collector-config",
            "labels": {"app.kubernetes.io/part-of": "gigstack-platform"},
        },
        "data": {"relay": source.read_text()},
    }
    return _dump(doc, str(source.relative_to(repo_root)))


def expected_files(repo_root: Path = REPO_ROOT) -> dict[Path, str]:
    observability = repo_root / "observability"
    monitoring = repo_root / "gitops" / "base" / "monitoring"
    addons_config = repo_root / "gitops" / "addons-config"
    files: dict[Path, str] = {}
    rules = {}
    for source in sorted((observability / "prometheus" / "rules").glob("*.rules.yaml")):
        name = f"prometheusrule-{source.name.removesuffix('.rules.yaml')}.yaml"
        rules[monitoring / name] = _prometheus_rule(repo_root, source)
    files.update(rules)
    files[monitoring / "kustomization.yaml"] = _kustomization(
        sorted(path.name for path in rules), "SLO rules, synced with the marketplace services."
    )
    # Dashboards go with the monitoring stack that Argo CD installs (enable_kube_prometheus_stack); when
    # the platform program installs the stack it provisions the same dashboards itself.
    dashboards = {}
    for source in sorted((observability / "grafana" / "dashboards").glob("*.json")):
        target = addons_config / "kube-prometheus-stack" / f"dashboard-{source.stem}.yaml"
        dashboards[target] = _dashboard_configmap(repo_root, source)
    if dashboards:
        files.update(dashboards)
        files[addons_config / "kube-prometheus-stack" / "kustomization.yaml"] = _kustomization(
            sorted(path.name for path in dashboards),
            "Grafana dashboards, synced with the kube-prometheus-stack addon.",
        )
    alloy = observability / "loki" / "alloy-config.alloy"
    if alloy.is_file():
        files[addons_config / "alloy" / "alloy-config.yaml"] = _alloy_configmap(repo_root, alloy)
        files[addons_config / "alloy" / "kustomization.yaml"] = _kustomization(
            ["alloy-config.yaml"], "The Alloy pipeline, synced with the alloy addon."
        )
    collector = observability / "otel" / "collector.yaml"
    if collector.is_file():
        files[addons_config / "otel-collector" / "otel-collector-config.yaml"] = _otel_configmap(
            repo_root, collector
        )
        files[addons_config / "otel-collector" / "kustomization.yaml"] = _kustomization(
            ["otel-collector-config.yaml"], "The collector pipeline, synced with the otel-collector addon."
        )
    return files


GENERATED_DIRS = ("gitops/base/monitoring", "gitops/addons-config")


def stale_files(repo_root: Path = REPO_ROOT) -> list[str]:
    """Generated files that are missing, out of date, or left over from a removed source."""
    expected = expected_files(repo_root)
    stale = [
        str(path.relative_to(repo_root))
        for path, text in expected.items()
        if not path.is_file() or path.read_text() != text
    ]
    for folder in GENERATED_DIRS:
        stale.extend(
            f"{path.relative_to(repo_root)} (no source)"
            for path in sorted((repo_root / folder).rglob("*.yaml"))
            if path not in expected
        )
    return stale


def write_all(repo_root: Path = REPO_ROOT) -> None:
    expected = expected_files(repo_root)
    for folder in GENERATED_DIRS:
        for path in (repo_root / folder).rglob("*.yaml"):
            if path not in expected:
                path.unlink()
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    write_all()
    sys.stdout.write("generated files are up to date\n")
