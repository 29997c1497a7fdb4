"""Both overlays and the Argo CD objects build with kustomize; a broken reference fails the build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from manifest_toolkit import ENVIRONMENTS, Manifest, RenderError, render_environment


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_overlay_renders_with_every_kind_a_service_needs(
    environment: str, rendered: dict[str, list[Manifest]]
) -> None:
    kinds = {doc["kind"] for doc in rendered[environment]}
    expected = {
        "Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler",
        "ServiceMonitor", "NetworkPolicy", "ConfigMap", "Ingress", "Job",
    }  # fmt: skip
    assert expected <= kinds, f"missing kinds in {environment}: {expected - kinds}"
    assert all(doc["metadata"].get("namespace") == "gigstack" for doc in rendered[environment])


def test_argocd_objects_render(rendered_argocd: list[Manifest]) -> None:
    kinds = [doc["kind"] for doc in rendered_argocd]
    assert kinds.count("AppProject") == 2
    assert kinds.count("ApplicationSet") >= 2


def test_planted_broken_reference_fails_the_build(
    broken_copy: Callable[[str, Callable[[str], str]], Path],
) -> None:
    root = broken_copy(
        "environments/eks/kustomization.yaml",
        lambda text: text.replace("gitops/base/services/auth\n", "gitops/base/services/auth-typo\n"),
    )
    with pytest.raises(RenderError, match="auth-typo"):
        render_environment(root, "eks")
