"""checkov (offline) finds nothing outside the reviewed skip list in the rendered manifests, the Argo CD
objects and the Dockerfiles; planted insecure settings are reported."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from manifest_toolkit import ENVIRONMENTS, render_argocd, render_environment
from policy_scan import checkov_failures, unexplained_skips, write_rendered

Plant = Callable[[str, Callable[[str], str]], Path]


def _scan_manifests(root: Path, work: Path) -> list[str]:
    docs = {env: render_environment(root, env) for env in ENVIRONMENTS}
    docs["argocd"] = render_argocd(root)
    failures: list[str] = checkov_failures(
        write_rendered(docs, work / "rendered"), "kubernetes", root / ".checkov.yaml"
    )
    return failures


def _scan_dockerfiles(root: Path, work: Path) -> list[str]:
    target = work / "dockerfiles"
    for dockerfile in sorted((root / "services").glob("*/Dockerfile")):
        (target / dockerfile.parent.name).mkdir(parents=True)
        shutil.copy2(dockerfile, target / dockerfile.parent.name / "Dockerfile")
    failures: list[str] = checkov_failures(target, "dockerfile", root / ".checkov.yaml")
    return failures


def test_skip_list_is_explained(repo_root: Path) -> None:
    assert unexplained_skips(repo_root / ".checkov.yaml") == []


def test_planted_unexplained_skip_is_refused(broken_copy: Plant) -> None:
    root = broken_copy(
        ".checkov.yaml", lambda text: text.replace("skip-check:\n", "skip-check:\n  - CKV_K8S_8\n")
    )
    assert unexplained_skips(root / ".checkov.yaml") == [
        "CKV_K8S_8 is skipped without a reason comment on its line"
    ]


def test_manifests_pass_checkov(repo_root: Path, tmp_path: Path) -> None:
    assert _scan_manifests(repo_root, tmp_path) == []


def test_planted_privileged_container_fails_checkov(broken_copy: Plant, tmp_path: Path) -> None:
    root = broken_copy(
        "gitops/components/service-workload/deployment.yaml",
        lambda text: text.replace("privileged: false", "privileged: true").replace(
            "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"
        ),
    )
    failures = _scan_manifests(root, tmp_path)
    assert any(failure.startswith("CKV_K8S_16 Deployment.gigstack.auth") for failure in failures), failures
    assert any(failure.startswith("CKV_K8S_22 Deployment.gigstack.auth") for failure in failures), failures


def test_dockerfiles_pass_checkov(repo_root: Path, tmp_path: Path) -> None:
    assert list((repo_root / "services").glob("*/Dockerfile")), "no Dockerfile to scan"
    assert _scan_dockerfiles(repo_root, tmp_path) == []


def test_planted_root_user_fails_checkov(broken_copy: Plant, tmp_path: Path) -> None:
    root = broken_copy(
        "services/gateway/Dockerfile", lambda text: text.replace("USER 10001:10001", "USER root")
    )
    failures = _scan_dockerfiles(root, tmp_path)
    assert any(failure.startswith("CKV_DOCKER_8") for failure in failures), failures
