"""Kubernetes providers: the EKS cluster (exec-based kubeconfig) or the local minikube context."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.config import MinikubeConfig


def eks_provider(name: str, kubeconfig: pulumi.Input[str], depends_on: list[pulumi.Resource]) -> k8s.Provider:
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        enable_server_side_apply=True,
        # Deleting the cluster deletes its objects; do not fail destroy on an unreachable API.
        delete_unreachable=True,
        opts=pulumi.ResourceOptions(depends_on=depends_on),
    )


def minikube_provider(name: str, config: MinikubeConfig) -> k8s.Provider:
    return k8s.Provider(
        name,
        context=config.kube_context,
        enable_server_side_apply=True,
        render_yaml_to_directory=config.render_yaml_to_directory,
    )
