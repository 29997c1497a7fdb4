"""Values the manifests repeat from the platform's eks stack config stay equal to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from manifest_toolkit import eks_stack_config, kubernetes_version, load_root_app_directory

Plant = Callable[[str, Callable[[str], str]], Path]


def consistency_problems(repo_root: Path) -> list[str]:
    stack = eks_stack_config(repo_root)
    if not stack:
        return ["environments/eks/Pulumi.eks.yaml is missing"]
    release: dict[str, Any] = yaml.safe_load((repo_root / "environments/eks/release.yaml").read_text())[
        "data"
    ]
    smtp = yaml.safe_load((repo_root / "environments/eks/notification-smtp.yaml").read_text())["data"]
    region = stack.get("aws:region")
    problems = []
    if release["vpc_cidr"] != stack.get("gigstack:network", {}).get("cidr"):
        problems.append(f"release.yaml vpc_cidr {release['vpc_cidr']} is not the stack's network.cidr")
    if f".dkr.ecr.{region}.amazonaws.com/" not in release["registry"]:
        problems.append(f"release.yaml registry {release['registry']} is not in region {region}")
    for stack_file in sorted((repo_root / "environments").glob("*/Pulumi.*.yaml")):
        repo_url = (yaml.safe_load(stack_file.read_text()) or {}).get("config", {}).get("gigstack:repoUrl")
        for project in (doc for doc in load_root_app_directory(repo_root) if doc["kind"] == "AppProject"):
            if repo_url not in project["spec"]["sourceRepos"]:
                problems.append(
                    f"AppProject/{project['metadata']['name']} does not accept {stack_file.name}'s repoUrl"
                )
    if smtp["SMTP_HOST"] != f"email-smtp.{region}.amazonaws.com":
        problems.append(f"SMTP_HOST {smtp['SMTP_HOST']} is not Amazon SES in region {region}")
    return problems


def test_manifests_agree_with_the_eks_stack(repo_root: Path) -> None:
    print(f"Kubernetes {kubernetes_version(repo_root)} (eks stack config)")
    assert consistency_problems(repo_root) == []


def test_planted_cidr_drift_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/eks/release.yaml", lambda text: text.replace("10.20.0.0/16", "10.30.0.0/16")
    )
    assert consistency_problems(root) == [
        "release.yaml vpc_cidr 10.30.0.0/16 is not the stack's network.cidr"
    ]


def test_planted_repository_drift_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/appproject-marketplace.yaml",
        lambda text: text.replace(
            "https://github.com/gigstack/gigstack.git", "https://github.com/someone/fork.git"
        ),
    )
    problems = consistency_problems(root)
    assert "AppProject/marketplace does not accept Pulumi.eks.yaml's repoUrl" in problems
