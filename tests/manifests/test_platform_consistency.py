"""Values the manifests repeat from the platform's eks stack config stay equal to it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from manifest_toolkit import (
    eks_stack_config,
    kubernetes_version,
    load_root_app_directory,
    render_argocd,
    render_environment,
)

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


def search_engine_problems(repo_root: Path) -> list[str]:
    """Each overlay's gig SEARCH_ENGINE names the engine its platform provisions: minikube runs ECK
    Elasticsearch; eks runs what its stack config `stores.searchEngine` says (default: opensearch)."""
    stack = eks_stack_config(repo_root)
    wanted = {
        "eks": str(stack.get("gigstack:stores", {}).get("searchEngine", "opensearch")),
        "minikube": "elasticsearch",
    }
    problems = []
    for environment, engine in wanted.items():
        configs = [
            doc
            for doc in render_environment(repo_root, environment)
            if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "gig-config"
        ]
        found = configs[0].get("data", {}).get("SEARCH_ENGINE") if configs else None
        if found != engine:
            problems.append(f"{environment}: gig-config SEARCH_ENGINE is {found}, the platform runs {engine}")
    return problems


def test_gig_talks_to_the_search_engine_each_platform_runs(repo_root: Path) -> None:
    assert search_engine_problems(repo_root) == []


def test_planted_search_engine_drift_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/eks/Pulumi.eks.yaml",
        lambda text: text.replace("searchEngine: opensearch", "searchEngine: elasticsearch"),
    )
    assert search_engine_problems(root) == [
        "eks: gig-config SEARCH_ENGINE is opensearch, the platform runs elasticsearch"
    ]


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


_CHART_REF = re.compile(r'ChartRef\(\s*"([^"]+)",\s*"([^"]+)",\s*"([^"]+)"\s*\)')


def chart_version_problems(repo_root: Path) -> list[str]:
    """A chart the platform program also installs (when it installs monitoring) is pinned to one version."""
    charts_py = repo_root / "platform" / "src" / "gigstack_platform" / "kube" / "charts.py"
    if not charts_py.is_file():
        return []
    platform_pins = {chart: version for chart, version, _ in _CHART_REF.findall(charts_py.read_text())}
    problems = []
    for doc in render_argocd(repo_root):
        if doc["kind"] != "ApplicationSet":
            continue
        template = doc["spec"]["template"]["spec"]
        for source in template.get("sources", [template.get("source", {})]):
            chart, version = source.get("chart"), source.get("targetRevision")
            if chart in platform_pins and version != platform_pins[chart]:
                problems.append(
                    f"{chart} {version} in {doc['metadata']['name']}, platform pins {platform_pins[chart]}"
                )
    return problems


def test_addon_charts_match_the_platform_pins(repo_root: Path) -> None:
    assert chart_version_problems(repo_root) == []


def test_planted_chart_drift_is_reported(broken_copy: Plant, repo_root: Path) -> None:
    root = broken_copy(
        "gitops/argocd/addons/applicationset-loki.yaml",
        lambda text: text.replace("targetRevision: 6.30.1", "targetRevision: 6.99.0"),
    )
    shutil.copytree(repo_root / "platform" / "src", root / "platform" / "src")
    assert chart_version_problems(root) == ["loki 6.99.0 in addon-loki, platform pins 6.30.1"]


# Where gig's search engine listens on eks for each `gigstack:stores.searchEngine` the platform accepts:
# Amazon OpenSearch inside the VPC on 443 (aws/data_stores.py), or ECK in namespace gigstack-data on 9200
# (kube/in_cluster_stores.py). Switching the engine must not need a manifest change.
SEARCH_ON_EKS = {"opensearch": ("ipBlock", 443), "elasticsearch": ("gigstack-data", 9200)}


def search_egress_problems(docs: list[dict[str, Any]]) -> list[str]:
    policy = next(
        (d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "egress-search"), None
    )
    if policy is None:
        return ["NetworkPolicy/egress-search is missing"]
    allowed: set[tuple[str | None, int]] = set()
    for rule in policy["spec"].get("egress", []):
        for peer in rule.get("to", []):
            namespace = (
                peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            )
            where = "ipBlock" if "ipBlock" in peer else namespace
            allowed.update((where, port["port"]) for port in rule.get("ports", []))
    return [
        f"egress-search does not allow {engine} at {where}:{port}"
        for engine, (where, port) in SEARCH_ON_EKS.items()
        if (where, port) not in allowed
    ]


def test_eks_search_egress_covers_both_engines(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert search_egress_problems(rendered["eks"]) == []


def test_planted_missing_in_cluster_search_egress_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/components/stores-aws-managed/networkpolicies.yaml",
        lambda text: text.replace("        - port: 9200\n", "        - port: 9201\n"),
    )
    assert search_egress_problems(render_environment(root, "eks")) == [
        "egress-search does not allow elasticsearch at gigstack-data:9200"
    ]
