"""The PrometheusRule, dashboard ConfigMaps and Alloy ConfigMap match their observability/ sources."""

from __future__ import annotations

from pathlib import Path

from manifest_toolkit import Manifest
from observability_sync import stale_files


def test_generated_observability_objects_are_up_to_date(repo_root: Path) -> None:
    assert stale_files(repo_root) == [], "run: uv run python tests/manifests/observability_sync.py"


def test_overlays_carry_the_slo_rules(rendered: dict[str, list[Manifest]]) -> None:
    for docs in rendered.values():
        rules = [doc for doc in docs if doc["kind"] == "PrometheusRule"]
        assert rules, "no PrometheusRule in the overlay"
        assert all(group["rules"] for rule in rules for group in rule["spec"]["groups"])


def test_planted_drift_is_reported(tmp_path: Path, repo_root: Path) -> None:
    copy = tmp_path / "repo"
    (copy / "observability" / "prometheus" / "rules").mkdir(parents=True)
    (copy / "observability" / "prometheus" / "rules" / "x.rules.yaml").write_text(
        "groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: vector(1)\n"
    )
    assert "gitops/base/monitoring/prometheusrule-x.yaml" in stale_files(copy)
