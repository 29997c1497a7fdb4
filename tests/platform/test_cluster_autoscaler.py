"""Nodes scale: the Cluster Autoscaler addon matches the EKS version, its role carries the upstream policy
(write actions limited to this cluster's groups) and binds to the service account the chart uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from gigstack_platform.aws.iam import CLUSTER_AUTOSCALER_POLICY_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]
APPSET = REPO_ROOT / "gitops/argocd/addons/applicationset-cluster-autoscaler.yaml"
# charts/cluster-autoscaler Chart.yaml at tag cluster-autoscaler-chart-9.52.0 of kubernetes/autoscaler.
CHART_APP_VERSIONS = {"9.52.0": "1.34.1"}


def source() -> dict[str, Any]:
    (chart,) = yaml.safe_load(APPSET.read_text())["spec"]["template"]["spec"]["sources"]
    found: dict[str, Any] = chart
    return found


def values() -> dict[str, Any]:
    text = re.sub(r"\{\{[^}]*\}\}", "placeholder", source()["helm"]["values"])
    parsed: dict[str, Any] = yaml.safe_load(text)
    return parsed


def test_autoscaler_version_follows_the_eks_version() -> None:
    config = yaml.safe_load((REPO_ROOT / "environments/eks/Pulumi.eks.yaml").read_text())["config"]
    app_version = CHART_APP_VERSIONS[source()["targetRevision"]]
    assert app_version.rsplit(".", 1)[0] == config["gigstack:cluster"]["version"]
    assert app_version in (CLUSTER_AUTOSCALER_POLICY_FILE.parent / "README.md").read_text()


def test_role_has_the_upstream_policy_scoped_to_this_cluster(build_stack: Any) -> None:
    run = build_stack("eks")
    (policy,) = [
        r
        for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.endswith("cluster-autoscaler-inline")
    ]
    ours = json.loads(policy.inputs["policy"])["Statement"]
    upstream = json.loads(CLUSTER_AUTOSCALER_POLICY_FILE.read_text())["Statement"]
    assert ours[0] == upstream[0]
    assert ours[1]["Action"] == upstream[1]["Action"]
    assert ours[1]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/gigstack-eks": "owned"}
    }


def test_role_binds_to_the_chart_service_account(build_stack: Any) -> None:
    run = build_stack("eks")
    associations = {
        (a.inputs["namespace"], a.inputs["serviceAccount"])
        for a in run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    spec = yaml.safe_load(APPSET.read_text())["spec"]["template"]["spec"]
    assert (spec["destination"]["namespace"], values()["rbac"]["serviceAccount"]["name"]) in associations
    assert values()["autoDiscovery"]["clusterName"] == "placeholder"  # the cluster_name annotation


def test_node_groups_have_room_to_scale(build_stack: Any) -> None:
    for group in build_stack("eks").of_type("aws:eks/nodeGroup:NodeGroup"):
        scaling = group.inputs["scalingConfig"]
        assert scaling["minSize"] <= scaling["desiredSize"] < scaling["maxSize"], group.name
