"""The GitOps-bridge cluster Secret, the root Application and the teardown order, for both stacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from gigstack_platform.bridge import BridgeContractError, BridgeValues, load_contract

REPO_ROOT = Path(__file__).resolve().parents[2]
AWS_ONLY = {
    "aws_region",
    "aws_account_id",
    "vpc_id",
    "external_secrets_role_arn",
    "aws_load_balancer_controller_role_arn",
    "secrets_manager_prefix",
    "uploads_bucket",
    "image_registry",
}


def _cluster_secret(run: Any) -> Any:
    matches = [
        s
        for s in run.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == f"gigstack-{run.stack}"
    ]
    assert len(matches) == 1
    return matches[0].inputs


def test_contract_file_matches_contracts_doc() -> None:
    """docs/contracts.md names the keys in prose; the YAML file is the machine-readable copy."""
    text = (REPO_ROOT / "docs/contracts.md").read_text()
    section = text[text.index("## GitOps-bridge cluster Secret") : text.index("## Events")]
    labels_part = section[section.index("Labels (switches)") : section.index("Annotations (infrastructure")]
    annotations_part = section[section.index("Annotations (infrastructure") : section.index("On minikube")]
    names = re.compile(r"`([a-z_]+)`")
    doc_labels = {n for n in names.findall(labels_part) if n not in {"minikube", "eks"}}
    doc_annotations = set(names.findall(annotations_part))
    contract = load_contract()
    assert set(contract.labels) == doc_labels
    assert set(contract.annotations) == doc_annotations


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_cluster_secret_carries_every_contract_key(build_stack: Any, stack: Any) -> None:
    run = build_stack(stack)
    secret = _cluster_secret(run)
    contract = load_contract()
    meta = secret["metadata"]
    assert meta["namespace"] == "argocd"
    assert meta["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    assert set(meta["labels"]) - {"argocd.argoproj.io/secret-type"} == set(contract.labels)
    assert set(meta["annotations"]) == set(contract.annotations)
    assert all(isinstance(v, str) for v in (*meta["labels"].values(), *meta["annotations"].values()))
    assert secret["stringData"]["server"] == "https://kubernetes.default.svc"
    assert meta["labels"]["environment"] == stack
    annotations = meta["annotations"]
    assert annotations["workloads_repo_path"] == f"environments/{stack}"
    assert annotations["addons_repo_path"] == "gitops/argocd/addons"
    assert annotations["repo_url"] == "https://github.com/gigstack/gigstack.git"
    if stack == "minikube":
        assert all(annotations[key] == "" for key in AWS_ONLY)
        assert meta["labels"]["enable_ingress_nginx"] == "true"
        assert meta["labels"]["enable_external_secrets"] == "false"
    else:
        assert all(annotations[key] for key in contract.annotations)
        assert annotations["secrets_manager_prefix"] == "gigstack/eks/"
        assert annotations["ingress_class"] == "alb"
        assert annotations["storage_class"] == "gp3"
        assert annotations["postgres_endpoint"] == (
            "order=gigstack-eks-order.rds.mock:5432,review=gigstack-eks-review.rds.mock:5432"
        )
        assert meta["labels"]["enable_aws_load_balancer_controller"] == "true"


def test_bridge_values_refuse_drift_from_the_contract() -> None:
    contract = load_contract()
    labels = {name: "true" for name in contract.labels}
    annotations = {name: "" for name in contract.annotations}
    BridgeValues(labels, dict(annotations)).checked(contract)
    with pytest.raises(BridgeContractError, match="missing"):
        BridgeValues({k: v for k, v in labels.items() if k != "environment"}, dict(annotations)).checked(
            contract
        )
    with pytest.raises(BridgeContractError, match="not in contract"):
        BridgeValues(labels, {**annotations, "undocumented": "x"}).checked(contract)


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_root_application_points_at_the_repo_path(build_stack: Any, stack: Any) -> None:
    run = build_stack(stack)
    app = run.one("kubernetes:argoproj.io/v1alpha1:Application", "argocd-root").inputs
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["source"]["path"] == "gitops/argocd"
    assert app["spec"]["source"]["repoURL"] == "https://github.com/gigstack/gigstack.git"
    assert app["spec"]["source"]["targetRevision"] == "main"
    assert app["spec"]["destination"]["server"] == "https://kubernetes.default.svc"
    # The finalizer makes deleting the root app delete what Argo CD created (teardown order).
    assert "resources-finalizer.argocd.argoproj.io/foreground" in app["metadata"]["finalizers"]
    assert (REPO_ROOT / "gitops/argocd").is_dir()


def test_teardown_order_is_encoded_in_dependencies(build_stack: Any) -> None:
    run = build_stack("eks")
    root_app = run.one("kubernetes:argoproj.io/v1alpha1:Application", "argocd-root")
    argocd_chart = run.named("argocd-argo-cd")
    cluster_secret = run.named("argocd-cluster")
    argocd = run.named("argocd")
    assert run.depends_on(root_app, argocd_chart)
    assert run.depends_on(root_app, cluster_secret)
    # Argo CD (and so every app and load balancer it owns) goes before controllers, nodes and addons.
    for node_group in run.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert run.depends_on(argocd, node_group)
    for association in run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation"):
        assert run.depends_on(argocd, association)
    for addon in run.of_type("aws:eks/addon:Addon"):
        assert run.depends_on(argocd, addon)
    # The cluster goes before the VPC's NAT gateways and routes.
    cluster = run.of_type("aws:eks/cluster:Cluster")[0]
    for nat in run.of_type("aws:ec2/natGateway:NatGateway"):
        assert run.depends_on(cluster, nat)
    for route in run.of_type("aws:ec2/route:Route"):
        assert run.depends_on(cluster, route)
    # Nodes go before the addons they need (vpc-cni) and CoreDNS before the nodes.
    coredns = run.one("aws:eks/addon:Addon", "eks-coredns")
    for node_group in run.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert run.depends_on(coredns, node_group)
        assert run.depends_on(node_group, run.one("aws:eks/addon:Addon", "eks-vpc-cni"))


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_every_namespace_used_is_created_first(build_stack: Any, stack: str) -> None:
    run = build_stack(stack)
    created = {ns.inputs["metadata"]["name"]: ns for ns in run.of_type("kubernetes:core/v1:Namespace")}
    for resource in run.resources:
        if not resource.type.startswith("kubernetes:") or resource.type == "kubernetes:core/v1:Namespace":
            continue
        namespace = resource.inputs.get("namespace") or (resource.inputs.get("metadata") or {}).get(
            "namespace"
        )
        if namespace is None:
            continue
        assert namespace in created, f"{resource.name} uses namespace {namespace} nobody creates"
        assert run.depends_on(resource, created[namespace]), f"{resource.name} may start before {namespace}"


def test_gitops_templates_read_only_contract_keys() -> None:
    """ApplicationSets may read only keys the program writes (bridge-contract.yaml)."""
    contract = load_contract()
    texts = [
        p.read_text() for p in (REPO_ROOT / "gitops").rglob("*.yaml") if p.name != "bridge-contract.yaml"
    ]
    read_annotations = {m for text in texts for m in re.findall(r"metadata\.annotations\.([a-z_]+)", text)}
    read_labels = {m for text in texts for m in re.findall(r"metadata\.labels\.([a-z_]+)", text)}
    switch_labels = {m for text in texts for m in re.findall(r"\b(enable_[a-z_]+)\b", text)}
    assert read_annotations <= set(contract.annotations)
    assert (read_labels | switch_labels) <= set(contract.labels)
