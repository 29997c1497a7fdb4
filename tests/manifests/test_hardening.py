"""Pod hardening and resource sizing every service workload must have."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from manifest_toolkit import ENVIRONMENTS, Manifest, render_environment, service_names

Plant = Callable[[str, Callable[[str], str]], Path]
# Workloads that are not services of ours, so have no servicekit health paths: both probes, of any kind.
THIRD_PARTY_WORKLOADS = frozenset({"s3proxy"})  # minikube's object store (environments/minikube/object-store)


def hardening_problems(docs: list[Manifest]) -> list[str]:
    problems = []
    for doc in docs:
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        pod: dict[str, Any] = doc["spec"]["template"]["spec"]
        security = pod.get("securityContext", {})
        if security.get("runAsNonRoot") is not True or not security.get("runAsUser"):
            problems.append(f"{name}: pod must run as a non-root numeric user")
        if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccomp profile must be RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: mounts a service-account token it does not need")
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            context = container.get("securityContext", {})
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem must be read-only")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: privilege escalation must be off")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: must drop ALL capabilities")
            resources = container.get("resources", {})
            if not resources.get("requests", {}).get("memory") or not resources.get("limits", {}).get(
                "memory"
            ):
                problems.append(f"{where}: memory request and limit are required")
            if doc["kind"] == "Deployment" and doc["metadata"]["name"] in THIRD_PARTY_WORKLOADS:
                if not container.get("livenessProbe") or not container.get("readinessProbe"):
                    problems.append(f"{where}: liveness and readiness probes are required")
            elif doc["kind"] == "Deployment":
                probes = {
                    probe: container.get(probe, {}).get("httpGet", {}).get("path")
                    for probe in ("livenessProbe", "readinessProbe")
                }
                if probes != {"livenessProbe": "/health/live", "readinessProbe": "/health/ready"}:
                    problems.append(f"{where}: probes must use /health/live and /health/ready, got {probes}")
    return problems


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_workloads_are_hardened(environment: str, rendered: dict[str, list[Manifest]]) -> None:
    assert hardening_problems(rendered[environment]) == []


def test_planted_missing_readiness_probe_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/components/service-workload/deployment.yaml",
        lambda text: text.replace("path: /health/ready", "path: /"),
    )
    problems = hardening_problems(render_environment(root, "eks"))
    assert any(problem.startswith("Deployment/gateway/gateway: probes") for problem in problems)


def _measurement_note_problem(text: str) -> str | None:
    """What is wrong with a deployment's resources note, or None when it cites measured figures."""
    match = re.search(r"resources:\n((?:\s+#.*\n)+)", text)
    if match is None:
        return "no comment on resources"
    note = match.group(1)
    if "pending" in note.lower():
        return "measurement still pending"
    if "docs/benchmarks.md" not in note or not re.search(r"\d+(\.\d+)? MiB", note):
        return "note does not cite a measured MiB figure from docs/benchmarks.md"
    return None


def test_resources_cite_their_memory_measurement(repo_root: Path) -> None:
    """Requests/limits carry a note citing the measured RSS (bench/idle_memory -> docs/benchmarks.md)."""
    for service in service_names(repo_root):
        text = (repo_root / "gitops" / "base" / "services" / service / "deployment.yaml").read_text()
        assert _measurement_note_problem(text) is None, f"{service}: {_measurement_note_problem(text)}"


def test_planted_pending_measurement_is_reported() -> None:
    text = "          resources:\n            # measured: pending\n            requests:\n"
    assert _measurement_note_problem(text) == "measurement still pending"


def test_planted_third_party_workload_without_probes_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/minikube/object-store/deployment.yaml",
        lambda text: text.replace("          readinessProbe:", "          startupProbe:"),
    )
    problems = hardening_problems(render_environment(root, "minikube"))
    assert "Deployment/s3proxy/s3proxy: liveness and readiness probes are required" in problems
