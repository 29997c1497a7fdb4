"""Only the gateway and the storefront are reachable from outside the gigstack namespace (Prometheus scraping
aside), through one Ingress: /api to the gateway, everything else to the storefront (docs/adr/0025)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from manifest_toolkit import ENVIRONMENTS, Manifest, exposure_problems, render_environment

Plant = Callable[[str, Callable[[str], str]], Path]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_only_the_gateway_and_the_storefront_are_exposed(
    environment: str, rendered: dict[str, list[Manifest]]
) -> None:
    docs = rendered[environment]
    assert exposure_problems(docs) == []
    ingresses = [doc for doc in docs if doc["kind"] == "Ingress"]
    # minikube also publishes its object store for browsers' presigned POSTs; on eks that is S3 itself.
    expected = ["gateway", "s3proxy"] if environment == "minikube" else ["gateway"]
    assert sorted(doc["metadata"]["name"] for doc in ingresses) == expected
    for ingress in ingresses:
        assert ingress["spec"]["tls"], f"the {ingress['metadata']['name']} Ingress must terminate TLS"
    (edge,) = [doc for doc in ingresses if doc["metadata"]["name"] == "gateway"]
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for rule in edge["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == {"/api": "gateway", "/": "storefront"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_namespace_denies_by_default(environment: str, rendered: dict[str, list[Manifest]]) -> None:
    policies = {
        doc["metadata"]["name"]: doc["spec"]
        for doc in rendered[environment]
        if doc["kind"] == "NetworkPolicy"
    }
    deny = policies["default-deny-all"]
    assert deny["podSelector"] == {}
    assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny
    assert "egress" not in deny


def test_planted_ingress_to_an_internal_service_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/components/gateway-ingress-nginx/ingress.yaml",
        lambda text: text.replace("                name: gateway", "                name: auth"),
    )
    problems = exposure_problems(render_environment(root, "minikube"))
    assert "Ingress/gateway: routes to service 'auth'" in problems


def test_planted_load_balancer_service_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/components/service-workload/service.yaml",
        lambda text: text.replace("type: ClusterIP", "type: LoadBalancer"),
    )
    problems = exposure_problems(render_environment(root, "eks"))
    assert "Service/notification: type LoadBalancer publishes it outside the cluster" in problems


def test_planted_outside_peer_for_an_internal_service_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/base/services/auth/networkpolicy.yaml",
        lambda text: text.replace(
            "        - podSelector:\n"
            "            matchLabels:\n"
            "              app.kubernetes.io/name: gateway\n",
            "        - ipBlock:\n            cidr: 0.0.0.0/0\n",
        ),
    )
    problems = exposure_problems(render_environment(root, "eks"))
    assert any(problem.startswith("NetworkPolicy/auth: admits {'ipBlock'") for problem in problems), problems
