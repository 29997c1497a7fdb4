"""The local overlay as the cluster runs it: every service rolled out and ready, non-root and read-only,
in a namespace whose Pod Security `restricted` the API server enforces; cluster DNS from pods and the host."""

from __future__ import annotations

import dns.resolver
import pytest
from gigstack_registry import load_registry
from local_cluster import NAMESPACE, NODE_NAME, Kube, deployments_available

pytestmark = pytest.mark.slow

DNS_SERVICE_IP = "10.213.128.10"  # scripts/cluster/cluster.sh


def _pods(kube: Kube) -> list[dict]:  # type: ignore[type-arg]
    """The Deployments' pods that are serving: not the ones a rollout or a drain is terminating."""
    return [
        p
        for p in kube.items("pods", "-n", NAMESPACE)
        if p["metadata"].get("ownerReferences", [{}])[0].get("kind") == "ReplicaSet"
        and p["metadata"].get("deletionTimestamp") is None
    ]


def test_the_node_is_ready(kube: Kube) -> None:
    node = kube.get("node", NODE_NAME)
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.4"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")


def test_every_service_of_the_registry_is_available(kube: Kube) -> None:
    expected = sorted(s.name for s in load_registry() if s.exists)
    assert deployments_available(kube) == expected


def test_every_pod_is_ready_and_runs_as_the_image_user_read_only(kube: Kube) -> None:
    pods = _pods(kube)
    assert pods
    for pod in pods:
        name = pod["metadata"]["name"]
        statuses = pod["status"]["containerStatuses"]
        assert all(s["ready"] for s in statuses), f"{name}: readiness probe not green: {statuses}"
        container = pod["spec"]["containers"][0]
        assert container["imagePullPolicy"] == "Never", name
        security = container["securityContext"]
        assert security["runAsUser"] == 10001, name
        assert security["readOnlyRootFilesystem"] is True, name


def test_the_namespace_refuses_a_privileged_pod(kube: Kube) -> None:
    labels = kube.get("namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    privileged = """
apiVersion: v1
kind: Pod
metadata: {name: privileged-probe}
spec:
  containers:
    - name: probe
      image: gigstack/gateway:dev
      imagePullPolicy: Never
      securityContext: {privileged: true}
"""
    result = kube.run("apply", "-n", NAMESPACE, "-f", "-", stdin=privileged)
    assert result.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in result.stderr
    assert "privileged" in result.stderr


def test_cluster_dns_from_a_pod(kube: Kube) -> None:
    gateway = next(p for p in _pods(kube) if p["metadata"]["labels"]["app.kubernetes.io/name"] == "gateway")
    script = (
        "import socket\n"
        "for name in ('auth', 'mariadb.gigstack-data.svc.cluster.local', 'kubernetes.default'):\n"
        "    print(name, socket.getaddrinfo(name, 80)[0][4][0])\n"
        "try:\n"
        "    socket.getaddrinfo('example.com', 80)\n"
        "    print('outside: resolved')\n"
        "except socket.gaierror:\n"
        "    print('outside: refused')\n"
    )
    output = kube.check("exec", "-n", NAMESPACE, gateway["metadata"]["name"], "--", "python", "-c", script)
    addresses = dict(line.split(" ", 1) for line in output.strip().splitlines())
    assert addresses["auth"] == kube.get("service", "auth", "-n", NAMESPACE)["spec"]["clusterIP"]
    assert addresses["mariadb.gigstack-data.svc.cluster.local"].startswith("10.213.128.")
    assert addresses["kubernetes.default"] == "10.213.128.1"
    # Nothing is forwarded outside the cluster's own names.
    assert addresses["outside:"] == "refused"


def test_cluster_dns_from_the_host(kube: Kube) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [DNS_SERVICE_IP]
    answer = resolver.resolve("gateway.gigstack.svc.cluster.local", "A", lifetime=5)
    assert [r.address for r in answer] == [
        kube.get("service", "gateway", "-n", NAMESPACE)["spec"]["clusterIP"]
    ]
