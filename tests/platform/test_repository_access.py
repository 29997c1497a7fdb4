"""Argo CD can read every repository the platform points it at: the AppProjects accept each source of
each ApplicationSet (the stack's repoUrl included), and a private repoUrl gets a repository Secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gigstack_platform.kube.argocd_bootstrap import REPOSITORY_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]
ARGOCD = REPO_ROOT / "gitops" / "argocd"
REPO_URL_TEMPLATE = "{{ .metadata.annotations.repo_url }}"


def projects() -> dict[str, list[str]]:
    found = {}
    for path in ARGOCD.glob("appproject-*.yaml"):
        doc = yaml.safe_load(path.read_text())
        found[doc["metadata"]["name"]] = doc["spec"]["sourceRepos"]
    return found


def appsets() -> list[dict[str, Any]]:
    paths = [*ARGOCD.glob("applicationset-*.yaml"), *(ARGOCD / "addons").glob("applicationset-*.yaml")]
    return [yaml.safe_load(path.read_text()) for path in paths]


def access_problems(repo_url: str) -> list[str]:
    problems = []
    allowed = projects()
    for appset in appsets():
        spec = appset["spec"]["template"]["spec"]
        for source in spec.get("sources") or [spec["source"]]:
            url = repo_url if source["repoURL"] == REPO_URL_TEMPLATE else source["repoURL"]
            if url not in allowed[spec["project"]]:
                problems.append(f"{appset['metadata']['name']}: {url} not in AppProject {spec['project']}")
    return problems


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_projects_accept_every_source(stack: str) -> None:
    config = yaml.safe_load((REPO_ROOT / f"environments/{stack}/Pulumi.{stack}.yaml").read_text())["config"]
    assert access_problems(config["gigstack:repoUrl"]) == []


def test_a_fork_without_project_edits_is_reported() -> None:
    """The planted defect: repoUrl changed in the stack config only."""
    problems = access_problems("https://github.com/someone/fork.git")
    assert "marketplace: https://github.com/someone/fork.git not in AppProject marketplace" in problems
    assert any(p.startswith("platform-addons: ") for p in problems)


def test_private_repository_gets_credentials(build_stack: Any) -> None:
    run = build_stack("minikube", {"gigstack:repoPassword": "ghp_example", "gigstack:repoUsername": "bot"})
    (secret,) = [
        s.inputs
        for s in run.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == REPOSITORY_SECRET
    ]
    assert secret["metadata"]["namespace"] == "argocd"
    assert secret["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    assert secret["stringData"] == {
        "type": "git",
        "url": "https://github.com/gigstack/gigstack.git",
        "username": "bot",
        "password": "ghp_example",
    }


def test_public_repository_needs_none(build_stack: Any) -> None:
    run = build_stack("minikube")
    names = {s.inputs["metadata"]["name"] for s in run.of_type("kubernetes:core/v1:Secret")}
    assert REPOSITORY_SECRET not in names
