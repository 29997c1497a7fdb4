"""What the cluster tests feed the API server: the addons' CRDs, the rendered overlays, Pods and Applications
derived from templates, and a kubectl bound to the test cluster."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from control_plane import ADDON_CRDS_TABLE, BIN_DIR, CACHE, REPO_ROOT

Manifest = dict[str, Any]
KUBECTL_TIMEOUT_SECONDS = 120
ENVIRONMENTS = ("eks", "minikube")
# The root Application reads gitops/argocd as a plain directory without this file
# (platform/src/gigstack_platform/kube/argocd_bootstrap.py).
ROOT_APP_EXCLUDES = {"bridge-contract.yaml"}


# --- addon CRDs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddonCrds:
    """One row of scripts/cluster/addon-crds.txt."""

    addon: str
    chart: str
    chart_version: str
    module: str
    module_version: str
    pattern: str

    @property
    def directory(self) -> Path:
        folder: Path = CACHE / "addon-crds" / f"{self.addon}-{self.module_version}"
        return folder

    def files(self) -> list[Path]:
        found = sorted(self.directory.glob("*.yaml"))
        if not found:
            raise FileNotFoundError(
                f"no CRDs in {self.directory}: run scripts/install/kubernetes.sh (make deps)"
            )
        return found


def addon_crds(table: Path = ADDON_CRDS_TABLE) -> list[AddonCrds]:
    rows = []
    for line in table.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append(AddonCrds(*line.split()))
    return rows


# --- manifests ----------------------------------------------------------------------------------------------


def kubectl_binary() -> str:
    """kubectl built with the API server (version skew: none); the system one if that is not cached."""
    cached = BIN_DIR / "kubectl"
    if cached.is_file():
        return str(cached)
    return shutil.which("kubectl") or "kubectl"


def kustomize(path: Path) -> list[Manifest]:
    result = subprocess.run(
        [kubectl_binary(), "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=KUBECTL_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize {path}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_environment(environment: str, repo_root: Path = REPO_ROOT) -> list[Manifest]:
    return kustomize(repo_root / "environments" / environment)


def argocd_objects(repo_root: Path = REPO_ROOT) -> list[Manifest]:
    """What Argo CD's root Application and the addons ApplicationSet directory put into the cluster."""
    docs: list[Manifest] = []
    for path in sorted((repo_root / "gitops" / "argocd").glob("*.yaml")):
        if path.name not in ROOT_APP_EXCLUDES:
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    addons = repo_root / "gitops" / "argocd" / "addons"
    if (addons / "kustomization.yaml").is_file():
        docs.extend(kustomize(addons))
    return docs


def addon_config_folders(repo_root: Path = REPO_ROOT) -> list[str]:
    """The gitops/addons-config/<addon> kustomizations the addon ApplicationSets sync next to their charts."""
    root = repo_root / "gitops" / "addons-config"
    return sorted(folder.name for folder in root.iterdir() if (folder / "kustomization.yaml").is_file())


def addon_config(addon: str, repo_root: Path = REPO_ROOT) -> list[Manifest]:
    return kustomize(repo_root / "gitops" / "addons-config" / addon)


def identity(doc: Manifest) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


def pods_from_workloads(docs: Iterable[Manifest]) -> list[Manifest]:
    """The Pod each workload would create. PodSecurity admission only warns on workloads; it rejects Pods."""
    pods = []
    for doc in docs:
        if doc.get("kind") == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
        elif doc.get("kind") in WORKLOAD_KINDS:
            template = doc["spec"]["template"]
        else:
            continue
        metadata = dict(template.get("metadata") or {})
        metadata["name"] = f"{doc['metadata']['name']}-{doc['kind'].lower()}"
        metadata["namespace"] = doc["metadata"].get("namespace", "default")
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]})
    return pods


_GO_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def fill_templates(value: Any, filler: str = "local") -> Any:
    """Replace each ApplicationSet Go-template expression by a plain word (names must stay DNS-1123)."""
    if isinstance(value, str):
        return _GO_TEMPLATE.sub(filler, value)
    if isinstance(value, list):
        return [fill_templates(item, filler) for item in value]
    if isinstance(value, dict):
        return {key: fill_templates(item, filler) for key, item in value.items()}
    return value


def applications_from_applicationsets(docs: Iterable[Manifest]) -> list[Manifest]:
    """The Application each ApplicationSet's template describes, with its template expressions filled in."""
    applications = []
    for doc in docs:
        if doc.get("kind") != "ApplicationSet":
            continue
        template = fill_templates(doc["spec"]["template"])
        metadata = dict(template.get("metadata") or {})
        metadata["namespace"] = doc["metadata"].get("namespace", "argocd")
        applications.append(
            {
                "apiVersion": doc["apiVersion"],
                "kind": "Application",
                "metadata": metadata,
                "spec": template["spec"],
            }
        )
    return applications


# --- kubectl ------------------------------------------------------------------------------------------------


class Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kubectl_binary(), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=KUBECTL_TIMEOUT_SECONDS,
            check=False,
        )

    def check(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def dry_run_apply(self, docs: Iterable[Manifest], namespace: str) -> subprocess.CompletedProcess[str]:
        """Server-side apply, judged by the API server (schemas, strict field validation, admission) but not
        stored. Each object is applied on its own so that one refusal names its object and hides no other."""
        return self.run(
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            "--field-manager=gigstack-tests",
            f"--namespace={namespace}",
            "-f",
            "-",
            stdin=yaml.safe_dump_all(list(docs)),
        )


@dataclass(frozen=True)
class RunningCluster:
    """The session's API server (tests/cluster/conftest.py)."""

    kubectl: Kubectl
    url: str
    start_seconds: float  # etcd + API server from nothing to /readyz
    ready_seconds: float  # ... and the CRDs established, namespaces created
