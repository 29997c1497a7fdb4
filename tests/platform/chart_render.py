"""Render the vendored charts (tests/platform/vendor/) with the Helm CLI and read what workloads reference.

`render_chart` is `helm template` with the values the platform program passes; each document is split into
what a plain apply creates (what helm.v4.Chart applies) and Helm hooks (which helm.v4.Chart never runs).
`workload_references` lists every Secret, ConfigMap and ServiceAccount a Deployment/StatefulSet/DaemonSet
needs to start, skipping references marked `optional: true`.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDOR = Path(__file__).resolve().parent / "vendor"
KUBE_VERSION = "1.33.1"
HELM_TIMEOUT_SECONDS = 120
INSTALL_TIMEOUT_SECONDS = 1800
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
HOOK_ANNOTATION = "helm.sh/hook"

Manifest = dict[str, Any]


@cache
def helm_executable() -> str:
    """The cached Helm CLI; scripts/install/helm.sh builds it from the Go module proxy when missing."""
    env = {**os.environ, "GOFLAGS": os.environ.get("GOFLAGS", "-p=1")}
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install" / "helm.sh"), "--print-path"],
        capture_output=True,
        text=True,
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        env=env,
    )
    return result.stdout.strip().splitlines()[-1]


@dataclass
class Rendering:
    applied: list[Manifest]
    hooks: list[Manifest]


def render_chart(
    chart: str, release: str, namespace: str, values: dict[str, Any], tmp_path: Path
) -> Rendering:
    values_file = tmp_path / f"{release}-values.json"
    values_file.write_text(json.dumps(values))
    result = subprocess.run(
        [
            helm_executable(),
            "template",
            release,
            str(VENDOR / "charts" / chart),
            "--namespace",
            namespace,
            "--kube-version",
            KUBE_VERSION,
            "--values",
            str(values_file),
        ],
        capture_output=True,
        text=True,
        timeout=HELM_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("namespace", namespace)
    hooks = [d for d in docs if HOOK_ANNOTATION in (d["metadata"].get("annotations") or {})]
    return Rendering(applied=[d for d in docs if d not in hooks], hooks=hooks)


def key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def identity(doc: Manifest) -> str:
    meta = doc["metadata"]
    return key(doc["kind"], meta.get("namespace", ""), meta["name"])


def _pod_spec(doc: Manifest) -> Manifest:
    spec: Manifest = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: Manifest = spec["template"]["spec"]
    return pod


def workload_references(doc: Manifest) -> set[str]:
    """Secrets, ConfigMaps and the ServiceAccount the pods of `doc` cannot start without."""
    namespace = doc["metadata"]["namespace"]
    pod = _pod_spec(doc)
    refs = {key("ServiceAccount", namespace, pod.get("serviceAccountName") or "default")}

    def add(kind: str, source: Manifest | None) -> None:
        if source and not source.get("optional", False):
            refs.add(key(kind, namespace, source["name"]))

    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for env in container.get("env", []):
            value_from = env.get("valueFrom") or {}
            add("Secret", value_from.get("secretKeyRef"))
            add("ConfigMap", value_from.get("configMapKeyRef"))
        for env_from in container.get("envFrom", []):
            add("Secret", env_from.get("secretRef"))
            add("ConfigMap", env_from.get("configMapRef"))
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            secret = volume["secret"]
            add("Secret", {"name": secret["secretName"], "optional": secret.get("optional", False)})
        add("ConfigMap", volume.get("configMap"))
        for source in (volume.get("projected") or {}).get("sources", []):
            add("Secret", source.get("secret"))
            add("ConfigMap", source.get("configMap"))
    return refs


def missing_references(applied: list[Manifest]) -> dict[str, set[str]]:
    """For each workload in `applied`, what it references that `applied` does not contain."""
    present = {identity(doc) for doc in applied}
    # Kubernetes creates the `default` ServiceAccount in every namespace.
    present |= {key("ServiceAccount", doc["metadata"]["namespace"], "default") for doc in applied}
    missing = {}
    for doc in applied:
        if doc["kind"] in WORKLOAD_KINDS:
            absent = workload_references(doc) - present
            if absent:
                missing[identity(doc)] = absent
    return missing


def load_vendored_yaml(relative: str) -> Any:
    return yaml.safe_load((VENDOR / relative).read_text(encoding="utf-8"))
