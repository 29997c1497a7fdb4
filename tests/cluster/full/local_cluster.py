"""The running one-node cluster of `make cluster-up` (scripts/cluster/cluster.sh), as the full tier sees
it: kubectl with the admin credentials, the mail catcher's ports, the Application Argo CD syncs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN = Path(os.environ.get("GIGSTACK_CLUSTER_RUN", "/run/gigstack-cluster"))
CACHE = Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))
_BUILT_KUBECTL = CACHE / "kubernetes-v1.34.4" / "bin" / "kubectl"
# kubectl v1.34 when built (scripts/install/kubernetes.sh kubectl), else the machine's.
KUBECTL = _BUILT_KUBECTL if _BUILT_KUBECTL.exists() else Path(shutil.which("kubectl") or "kubectl")
NODE_IP = "10.213.0.1"  # scripts/cluster/cluster.sh
NODE_NAME = "gigstack-node"
NAMESPACE = "gigstack"
APPLICATION = "gigstack-local"
GIT_URL = f"git://{NODE_IP}/gigstack.git"
ROLLOUT_SECONDS = 300


class KubectlError(RuntimeError):
    pass


@dataclass(frozen=True)
class Kube:
    kubeconfig: Path

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def check(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        result = self.run(*args, stdin=stdin, timeout=timeout)
        if result.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def get(self, *args: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.check("get", *args, "-o", "json"))
        return loaded

    def items(self, *args: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(*args)["items"]
        return items


def running_cluster() -> Kube:
    kubeconfig = RUN / "admin.kubeconfig"
    if not kubeconfig.exists():
        raise RuntimeError(
            f"{kubeconfig} is missing: start the cluster with `make cluster-up` (or make test-cluster)"
        )
    return Kube(kubeconfig)


def eventually(
    what: str, condition: Callable[[], Any], timeout: float = ROLLOUT_SECONDS, interval: float = 1.0
) -> Any:
    """Poll until ``condition()`` returns something truthy; its last error or value is in the failure."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (KubectlError, OSError, KeyError, ValueError) as exc:
            value, last = None, exc
        if value:
            return value
        last = last if value is None else value
        time.sleep(interval)
    raise AssertionError(f"{what}: not reached in {timeout:.0f}s (last: {last!r})")


def application(kube: Kube) -> dict[str, Any]:
    return kube.get("applications.argoproj.io", APPLICATION, "-n", "argocd")


def synced_and_healthy(kube: Kube, revision: str | None = None) -> bool:
    status = application(kube).get("status", {})
    sync = status.get("sync", {})
    return (
        sync.get("status") == "Synced"
        and status.get("health", {}).get("status") == "Healthy"
        and (revision is None or sync.get("revision") == revision)
    )


def deployments_available(kube: Kube) -> list[str] | None:
    """The Deployments of the namespace if every one is Available with all its replicas updated and ready."""
    deployments = kube.items("deployments", "-n", NAMESPACE)
    names = []
    for deployment in deployments:
        spec, status = deployment["spec"], deployment.get("status", {})
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        wanted = spec.get("replicas", 1)
        if (
            conditions.get("Available") != "True"
            or status.get("observedGeneration") != deployment["metadata"]["generation"]
        ):
            return None
        if (
            status.get("updatedReplicas") != wanted
            or status.get("readyReplicas") != wanted
            or status.get("replicas") != wanted
        ):
            return None
        names.append(deployment["metadata"]["name"])
    return sorted(names) or None


def store_ports() -> dict[str, int]:
    ports: dict[str, int] = json.loads((RUN / "stores" / "ports.json").read_text())
    return ports
