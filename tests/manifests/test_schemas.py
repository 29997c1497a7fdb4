"""Native kinds validate strictly against the Kubernetes version the platform pins; custom resources
validate against ../shared/schemas. Each check is shown to catch a planted defect."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from manifest_toolkit import (
    ENVIRONMENTS,
    Manifest,
    custom_problems,
    kubernetes_version,
    native_problems,
    render_argocd,
    render_environment,
    schemas_dir,
)

Plant = Callable[[str, Callable[[str], str]], Path]


def test_kubernetes_version_is_the_platforms(repo_root: Path) -> None:
    version = kubernetes_version(repo_root)
    print(f"validating against Kubernetes {version}")
    assert re.fullmatch(r"1\.\d+", version)


def test_shared_schemas_are_reachable(repo_root: Path) -> None:
    assert (schemas_dir(repo_root) / "argoproj.io" / "applicationset_v1alpha1.json").is_file()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_native_kinds_are_valid(
    environment: str, rendered: dict[str, list[Manifest]], repo_root: Path
) -> None:
    assert native_problems(rendered[environment], kubernetes_version(repo_root)) == []


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_custom_resources_match_shared_schemas(
    environment: str, rendered: dict[str, list[Manifest]], repo_root: Path
) -> None:
    custom = [doc for doc in rendered[environment] if "." in doc["apiVersion"].split("/")[0]]
    assert custom, "expected custom resources (ServiceMonitor, ExternalSecret) in the overlay"
    assert custom_problems(rendered[environment], repo_root) == []


def test_argocd_objects_match_shared_schemas(rendered_argocd: list[Manifest], repo_root: Path) -> None:
    assert custom_problems(rendered_argocd, repo_root) == []


def test_planted_unknown_field_is_caught(broken_copy: Plant, repo_root: Path) -> None:
    root = broken_copy(
        "gitops/components/service-workload/deployment.yaml",
        lambda text: text.replace(
            "imagePullPolicy: IfNotPresent", "imagePullPolicy: IfNotPresent\n          restartPolicyy: Always"
        ),
    )
    problems = native_problems(render_environment(root, "minikube"), kubernetes_version(repo_root))
    assert any("Deployment/gateway" in problem and "restartPolicyy" in problem for problem in problems)


def test_planted_removed_api_version_is_caught(broken_copy: Plant, repo_root: Path) -> None:
    root = broken_copy(
        "gitops/components/service-workload/horizontalpodautoscaler.yaml",
        lambda text: text.replace("autoscaling/v2", "autoscaling/v2beta2"),
    )
    problems = native_problems(render_environment(root, "eks"), kubernetes_version(repo_root))
    assert any("HorizontalPodAutoscaler/auth" in problem for problem in problems)


def test_planted_bad_custom_resource_is_caught(broken_copy: Plant, repo_root: Path) -> None:
    root = broken_copy(
        "gitops/components/service-workload/external-secret.yaml",
        lambda text: text.replace("kind: ClusterSecretStore", "kind: ClusterSecretStor"),
    )
    problems = custom_problems(render_environment(root, "eks"), repo_root)
    assert any("ExternalSecret/auth-secrets" in problem for problem in problems)


def test_planted_bad_applicationset_is_caught(broken_copy: Plant, repo_root: Path) -> None:
    root = broken_copy(
        "gitops/argocd/applicationset-marketplace.yaml",
        lambda text: text.replace("selfHeal: true", "selfHeal: true\n          selfDestruct: true"),
    )
    problems = custom_problems(render_argocd(root), repo_root)
    assert any("ApplicationSet/marketplace" in problem for problem in problems)
