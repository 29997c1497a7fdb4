"""Ordering between Argo CD Applications: nothing relies on a bounded number of retries.

Sync waves order only the creation of the ApplicationSets in one sync; they do not wait for the addons their
Applications install to be healthy, and progressive sync orders only the Applications of one ApplicationSet.
So every generated Application retries without limit (capped backoff), and resources whose CRD another addon
installs skip the dry run until it exists (docs/platform/README.md, "Ordering").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from manifest_toolkit import REPO_ROOT, Manifest, render_argocd

Plant = Callable[[str, Callable[[str], str]], Path]
SKIP_DRY_RUN = "SkipDryRunOnMissingResource=true"


def retry_problems(docs: list[Manifest]) -> list[str]:
    problems = []
    for doc in docs:
        if doc["kind"] != "ApplicationSet":
            continue
        retry = doc["spec"]["template"]["spec"].get("syncPolicy", {}).get("retry", {})
        if retry.get("limit", 0) >= 0 or not retry.get("backoff", {}).get("maxDuration"):
            problems.append(f"ApplicationSet/{doc['metadata']['name']}: retries are bounded")
    return problems


def test_every_application_retries_until_it_syncs() -> None:
    assert retry_problems(render_argocd(REPO_ROOT)) == []


def test_planted_bounded_retries_are_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/applicationset-marketplace.yaml",
        lambda text: text.replace("limit: -1", "limit: 10"),
    )
    assert retry_problems(render_argocd(root)) == ["ApplicationSet/marketplace: retries are bounded"]


def test_resources_of_other_addons_kinds_skip_the_dry_run() -> None:
    docs = {d["metadata"]["name"]: d for d in render_argocd(REPO_ROOT) if d["kind"] == "ApplicationSet"}
    marketplace = docs["marketplace"]["spec"]["template"]["spec"]["syncPolicy"]["syncOptions"]
    assert SKIP_DRY_RUN in marketplace  # ServiceMonitor, ExternalSecret
    stack = REPO_ROOT / "gitops/argocd/addons/logging-stack/logging-stack.yaml"
    for doc in yaml.safe_load_all(stack.read_text()):
        if doc and "." in doc["apiVersion"].split("/")[0] and "k8s.elastic.co" in doc["apiVersion"]:
            assert doc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == SKIP_DRY_RUN
