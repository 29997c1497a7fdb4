"""Disruptions: a killed pod is replaced by its ReplicaSet, and a node drain stops at the PodDisruptionBudget
(there is no second node to move pods to, so an eviction that would leave the gateway with no ready pod is
refused and the gateway keeps answering through its Service)."""

from __future__ import annotations

import httpx
import pytest
from local_cluster import NAMESPACE, NODE_NAME, Kube, deployments_available, eventually

pytestmark = pytest.mark.slow


def _ready_pods(kube: Kube, service: str) -> list[str]:
    pods = kube.items("pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/name={service}")
    return sorted(
        p["metadata"]["name"]
        for p in pods
        if p["metadata"].get("deletionTimestamp") is None
        and p["status"].get("phase") == "Running"
        and all(s["ready"] for s in p["status"].get("containerStatuses", []))
    )


def test_a_killed_pod_is_replaced(kube: Kube) -> None:
    [victim] = _ready_pods(kube, "users")
    kube.check("delete", "pod", "-n", NAMESPACE, victim, "--grace-period=0", "--force", "--wait=false")
    replacement = eventually(
        "a new users pod ready", lambda: [p for p in _ready_pods(kube, "users") if p != victim] or None
    )
    assert len(replacement) == 1
    eventually("every Deployment Available again", lambda: deployments_available(kube))


def test_a_drain_stops_at_the_disruption_budget(kube: Kube, gateway_url: str) -> None:
    # Two gateway pods: the budget (maxUnavailable 1) lets the drain evict one; its replacement cannot be
    # scheduled on the cordoned node, so evicting the second would leave none ready and must be refused.
    kube.check("scale", "deployment", "gateway", "-n", NAMESPACE, "--replicas=2")
    try:
        eventually("two gateway pods ready", lambda: len(_ready_pods(kube, "gateway")) == 2)
        drain = kube.run(
            "drain", NODE_NAME, "--pod-selector=app.kubernetes.io/name=gateway", "--delete-emptydir-data",
            "--ignore-daemonsets", "--timeout=45s",
            timeout=120,
        )  # fmt: skip
        assert drain.returncode != 0, drain.stdout
        assert "violate the pod's disruption budget" in drain.stderr
        assert len(_ready_pods(kube, "gateway")) == 1
        budget = kube.get("pdb", "gateway", "-n", NAMESPACE)["status"]
        assert budget["disruptionsAllowed"] == 0
        assert budget["currentHealthy"] == 1
        assert httpx.get(f"{gateway_url}/health/ready", timeout=10).status_code == 200
    finally:
        kube.check("uncordon", NODE_NAME)
        kube.check("scale", "deployment", "gateway", "-n", NAMESPACE, "--replicas=1")
    eventually("every Deployment Available again", lambda: deployments_available(kube))
