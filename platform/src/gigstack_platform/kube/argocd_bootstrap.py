"""ArgoCdBootstrap: install Argo CD, write the GitOps-bridge cluster Secret, create the root Application.

Everything after the root Application belongs to Argo CD. Destroy runs in reverse: the root Application
(with Argo CD's resources finalizer) goes first, so Argo CD deletes the apps, their Ingresses and
LoadBalancer Services while the controllers, nodes and cluster still exist (docs/platform/runbook-eks.md,
"Teardown").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.bridge import ROOT_APP_PATH, BridgeContract, BridgeValues
from gigstack_platform.catalog import ARGOCD_NAMESPACE
from gigstack_platform.kube import charts

ROOT_APPLICATION = "gigstack-root"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


@dataclass
class ArgoCdBootstrapArgs:
    stack: str
    repo_url: str
    repo_revision: str
    contract: BridgeContract
    bridge: BridgeValues


class ArgoCdBootstrap(pulumi.ComponentResource):
    cluster_secret: k8s.core.v1.Secret
    root_application: k8s.apiextensions.CustomResource

    def __init__(
        self, name: str, args: ArgoCdBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gigstack:kube:ArgoCdBootstrap", name, None, opts)
        bridge = args.bridge.checked(args.contract)
        argocd = charts.chart(
            f"{name}-argo-cd",
            charts.ARGO_CD,
            ARGOCD_NAMESPACE,
            {
                "fullnameOverride": "argocd",
                "dex": {"enabled": False},
                # Applications other than the root one are created by ApplicationSets from Git.
                "applicationSet": {"replicas": 1},
            },
            pulumi.ResourceOptions(parent=self),
            release="argocd",
        )
        secret_name = args.contract.secret_name(args.stack)
        self.cluster_secret = k8s.core.v1.Secret(
            f"{name}-cluster",
            metadata={
                "name": secret_name,
                "namespace": args.contract.namespace,
                "labels": {"argocd.argoproj.io/secret-type": "cluster", **bridge.labels},
                "annotations": bridge.annotations,
            },
            string_data={
                "name": secret_name,
                "server": args.contract.server,
                "config": '{"tlsClientConfig":{"insecure":false}}',
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[argocd]),
        )
        self.root_application = k8s.apiextensions.CustomResource(
            f"{name}-root",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={
                "name": ROOT_APPLICATION,
                "namespace": ARGOCD_NAMESPACE,
                # Deleting the root app makes Argo CD delete what it created (teardown order).
                "finalizers": [RESOURCES_FINALIZER],
            },
            spec={
                "project": "default",
                "source": {
                    "repoURL": args.repo_url,
                    "targetRevision": args.repo_revision,
                    "path": ROOT_APP_PATH,
                    # The bridge contract is documentation for both sides, not a manifest.
                    "directory": {"recurse": False, "exclude": "bridge-contract.yaml"},
                },
                "destination": {"server": args.contract.server, "namespace": ARGOCD_NAMESPACE},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["ServerSideApply=true"],
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[argocd, self.cluster_secret]),
        )
        self.register_outputs({"cluster_secret": secret_name, "root_application": ROOT_APPLICATION})
