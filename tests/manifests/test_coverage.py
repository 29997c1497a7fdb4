"""Every service under services/ has base manifests and a Dockerfile, is listed in both overlays and
is picked up by the marketplace ApplicationSet; ApplicationSets read only bridge-contract keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from manifest_toolkit import bridge_key_problems, coverage_problems, service_names

Plant = Callable[[str, Callable[[str], str]], Path]


def test_services_exist(repo_root: Path) -> None:
    assert {"gateway", "auth"} <= set(service_names(repo_root))


def test_every_service_is_deployed_in_both_environments(repo_root: Path) -> None:
    assert coverage_problems(repo_root) == []


def test_planted_service_without_manifests_is_reported(broken_copy: Plant) -> None:
    root = broken_copy("services/ledger/pyproject.toml", lambda _: '[project]\nname = "ledger-service"\n')
    problems = coverage_problems(root)
    assert "ledger: no gitops/base/services/ledger/kustomization.yaml" in problems
    assert "ledger: no services/ledger/Dockerfile" in problems
    assert any("environments/minikube/kustomization.yaml does not list" in problem for problem in problems)
    assert any("no Deployment/ledger in the rendered eks overlay" in problem for problem in problems)


def test_planted_overlay_without_a_service_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/minikube/kustomization.yaml",
        lambda text: text.replace("  - ../../gitops/base/services/auth\n", ""),
    )
    problems = coverage_problems(root)
    assert any(problem.startswith("auth: environments/minikube/kustomization.yaml") for problem in problems)


def test_planted_applicationset_without_an_environment_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/applicationset-marketplace.yaml",
        lambda text: text.replace("values: [minikube, eks]", "values: [eks]"),
    )
    assert "marketplace ApplicationSet does not select environments ['minikube']" in coverage_problems(root)


def test_applicationsets_read_only_bridge_contract_keys(repo_root: Path) -> None:
    assert bridge_key_problems(repo_root) == []


def test_planted_unlisted_bridge_key_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/addons/applicationset-aws-load-balancer-controller.yaml",
        lambda text: text.replace(".metadata.annotations.vpc_id", ".metadata.annotations.vpc_identifier"),
    )
    problems = bridge_key_problems(root)
    assert any("'vpc_identifier', not in bridge-contract.yaml" in problem for problem in problems), problems
