"""Argo CD objects follow the delivery rules: restricted projects, automated sync with prune, self-heal
and backoff, and the documented sync-wave order inside the marketplace Application."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from manifest_toolkit import ENVIRONMENTS, Manifest, render_argocd, render_environment

Plant = Callable[[str, Callable[[str], str]], Path]

# kind -> wave, as documented in docs/gitops.md ("Sync waves").
EXPECTED_WAVES = {
    "ServiceAccount": "-2",
    "ConfigMap": "-2",
    "NetworkPolicy": "-2",
    "ExternalSecret": "-2",
    "Job": "-1",
    "Deployment": None,
    "Service": None,
    "Ingress": "1",
}


def argocd_problems(docs: list[Manifest]) -> list[str]:
    problems = []
    for doc in docs:
        name, spec = f"{doc['kind']}/{doc['metadata']['name']}", doc.get("spec", {})
        if doc["kind"] == "AppProject":
            if any("*" in repo for repo in spec.get("sourceRepos", [])):
                problems.append(f"{name}: sourceRepos must list repositories, not patterns")
            for destination in spec.get("destinations", []):
                if "*" in destination.get("namespace", "*") or "*" in destination.get("server", "*"):
                    problems.append(f"{name}: destination {destination} is a wildcard")
            if any(entry.get("kind") == "*" for entry in spec.get("clusterResourceWhitelist", [])):
                problems.append(f"{name}: every cluster-scoped kind is allowed")
        if doc["kind"] == "ApplicationSet":
            template: dict[str, Any] = spec["template"]["spec"]
            policy = template.get("syncPolicy", {})
            automated = policy.get("automated", {})
            if not (automated.get("prune") and automated.get("selfHeal")):
                problems.append(f"{name}: automated sync without prune and self-heal")
            backoff = policy.get("retry", {}).get("backoff", {})
            if not (policy.get("retry", {}).get("limit") and backoff.get("factor", 1) > 1):
                problems.append(f"{name}: no retries with exponential backoff")
            if template.get("project") in (None, "default"):
                problems.append(f"{name}: uses the unrestricted default project")
    return problems


def wave_problems(docs: list[Manifest]) -> list[str]:
    problems = []
    for doc in docs:
        if doc["kind"] not in EXPECTED_WAVES:
            continue
        wave = (doc["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave")
        expected = EXPECTED_WAVES[doc["kind"]]
        if wave != expected:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: wave {wave}, expected {expected}")
    return problems


def test_argocd_objects_follow_the_rules(rendered_argocd: list[Manifest]) -> None:
    assert argocd_problems(rendered_argocd) == []


def test_planted_wildcard_project_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/appproject-marketplace.yaml",
        lambda text: text.replace("namespace: gigstack\n", "namespace: '*'\n"),
    )
    assert any("is a wildcard" in problem for problem in argocd_problems(render_argocd(root)))


def test_planted_sync_without_self_heal_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/addons/applicationset-loki.yaml",
        lambda text: text.replace("selfHeal: true", "selfHeal: false"),
    )
    assert "ApplicationSet/addon-loki: automated sync without prune and self-heal" in argocd_problems(
        render_argocd(root)
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_sync_waves_follow_the_documented_order(
    environment: str, rendered: dict[str, list[Manifest]]
) -> None:
    assert wave_problems(rendered[environment]) == []
    hooks = [doc for doc in rendered[environment] if doc["kind"] == "Job"]
    assert hooks, "the migration Job is missing"
    assert all(doc["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync" for doc in hooks)


def test_planted_missing_wave_component_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/eks/kustomization.yaml",
        lambda text: text.replace("  - ../../gitops/components/sync-waves\n", ""),
    )
    problems = wave_problems(render_environment(root, "eks"))
    assert "ConfigMap/auth-config: wave None, expected -2" in problems
