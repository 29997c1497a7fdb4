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
from gigstack_platform.credentials import generated_password
from gigstack_platform.kube import charts

ROOT_APPLICATION = "gigstack-root"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
# The chart's Redis, API server and controllers read the password from this Secret (key `auth`). The chart
# creates it only in a pre-install hook Job, and helm.v4.Chart applies no hooks, so the program creates it
# itself and turns the hook off (docs/adr/0012-argocd-install-without-helm-hooks.md).
REDIS_SECRET = "argocd-redis"  # noqa: S105 - a Secret name, not a password
REDIS_SECRET_KEY = "auth"  # noqa: S105 - a key name
REPOSITORY_SECRET = "gigstack-repository"  # noqa: S105 - a Secret name


def argocd_chart_values() -> dict[str, object]:
    """Values of the argo-cd chart; tests render the vendored chart with exactly these."""
    return {
        "fullnameOverride": "argocd",
        "dex": {"enabled": False},
        # Applications other than the root one are created by ApplicationSets from Git.
        "applicationSet": {"replicas": 1},
        # A pre-install hook: never applied by helm.v4.Chart. REDIS_SECRET is created by ArgoCdBootstrap.
        "redisSecretInit": {"enabled": False},
    }


@dataclass
class ArgoCdBootstrapArgs:
    stack: str
    repo_url: str
    repo_revision: str
    contract: BridgeContract
    bridge: BridgeValues
    # Credentials for a private repo_url (Argo CD repository Secret); None for a public repository.
    repo_username: str = "git"
    repo_password: pulumi.Output[str] | None = None


class ArgoCdBootstrap(pulumi.ComponentResource):
    cluster_secret: k8s.core.v1.Secret
    root_application: k8s.apiextensions.CustomResource

    def __init__(
        self, name: str, args: ArgoCdBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gigstack:kube:ArgoCdBootstrap", name, None, opts)
        bridge = args.bridge.checked(args.contract)
        redis_secret = k8s.core.v1.Secret(
            f"{name}-redis",
            metadata={"name": REDIS_SECRET, "namespace": ARGOCD_NAMESPACE},
            string_data={REDIS_SECRET_KEY: generated_password(f"{name}-redis-password", self)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        argocd = charts.chart(
            f"{name}-argo-cd",
            charts.ARGO_CD,
            ARGOCD_NAMESPACE,
            argocd_chart_values(),
            pulumi.ResourceOptions(parent=self, depends_on=[redis_secret]),
            release="argocd",
        )
        if args.repo_password is not None:
            # Argo CD's declarative repository: a Secret labelled secret-type=repository, in its namespace.
            k8s.core.v1.Secret(
                f"{name}-repository",
                metadata={
                    "name": REPOSITORY_SECRET,
                    "namespace": ARGOCD_NAMESPACE,
                    "labels": {"argocd.argoproj.io/secret-type": "repository"},
                },
                string_data={
                    "type": "git",
                    "url": args.repo_url,
                    "username": args.repo_username,
                    "password": args.repo_password,
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[argocd]),
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
