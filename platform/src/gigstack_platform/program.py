"""Parts of the Pulumi program that the eks and the minikube stack build the same way.

Monitoring, the store endpoints written into the GitOps bridge, the bridge's labels and annotations, and the
Argo CD bootstrap. The stacks import this module, never the other way round
(tests/platform/test_import_graph.py); `gigstack_platform.entrypoint.main` picks the stack.
"""

from __future__ import annotations

import pulumi

from gigstack_platform.bridge import ADDONS_REPO_PATH, BridgeValues, flag, load_contract
from gigstack_platform.catalog import StoreKind, services_owning
from gigstack_platform.config import PlatformConfig
from gigstack_platform.endpoints import StoreEndpoint, endpoints_annotation
from gigstack_platform.kube.alerting import AlertmanagerConfig
from gigstack_platform.kube.apm_token import ApmToken
from gigstack_platform.kube.argocd_bootstrap import ArgoCdBootstrap, ArgoCdBootstrapArgs
from gigstack_platform.kube.monitoring import Monitoring, MonitoringArgs
from gigstack_platform.kube.observability_files import load_observability_files
from gigstack_platform.release import first_release_published, release_file


def monitoring(config: PlatformConfig, storage_class: str, opts: pulumi.ResourceOptions) -> Monitoring | None:
    # Whoever installs kube-prometheus-stack, Alertmanager reads its receivers from this Secret.
    AlertmanagerConfig("alertmanager-config", config.alert_webhook_url, opts)
    if config.monitoring.installed_by != "pulumi":
        # Argo CD installs the stack (gitops/argocd/addons); the token its APM Server and collector share
        # is a credential, so the platform still writes it.
        ApmToken("apm-token", opts)
        return None
    files = load_observability_files(config.monitoring.observability_dir)
    return Monitoring(
        "monitoring",
        MonitoringArgs(environment=config.environment, storage_class=storage_class, files=files),
        opts,
    )


def store_annotations(
    endpoints: dict[str, dict[StoreKind, StoreEndpoint]], bus: StoreEndpoint
) -> dict[str, pulumi.Input[str]]:
    def shared(kind: StoreKind) -> pulumi.Output[str]:
        address: pulumi.Output[str] = endpoints[services_owning(kind)[0]][kind].address()
        return address

    search = endpoints[services_owning(StoreKind.SEARCH)[0]][StoreKind.SEARCH]
    return {
        "postgres_endpoint": endpoints_annotation(
            {
                service: endpoints[service][StoreKind.POSTGRES]
                for service in services_owning(StoreKind.POSTGRES)
            }
        ),
        "mysql_endpoint": endpoints_annotation(
            {service: endpoints[service][StoreKind.MYSQL] for service in services_owning(StoreKind.MYSQL)}
        ),
        "redis_endpoint": shared(StoreKind.REDIS),
        "amqp_endpoint": bus.address(),
        "mongodb_endpoint": shared(StoreKind.MONGODB),
        "search_endpoint": pulumi.Output.concat("https://" if search.tls else "http://", search.address()),
    }


def bridge_values(
    config: PlatformConfig,
    *,
    pulumi_installed_monitoring: bool,
    pulumi_installed_eck: bool,
    cluster_name: pulumi.Input[str],
    storage_class: str,
    stores: dict[str, pulumi.Input[str]],
    aws_values: dict[str, pulumi.Input[str]],
) -> BridgeValues:
    eks = config.environment == "eks"
    argo_monitoring = flag(not pulumi_installed_monitoring)
    labels = {
        "environment": config.environment,
        "enable_kube_prometheus_stack": argo_monitoring,
        "enable_loki": argo_monitoring,
        "enable_alloy": argo_monitoring,
        "enable_eck": flag(not pulumi_installed_eck),
        "enable_otel_collector": argo_monitoring,
        "enable_external_secrets": flag(eks),
        "enable_aws_load_balancer_controller": flag(eks),
        "enable_ingress_nginx": flag(not eks),
        "enable_metrics_server": "true",
        # Off until the release pointer names pushed images (release.py; runbook-eks.md, first release).
        "enable_gigstack": flag(first_release_published(release_file(config.stack))),
    }
    aws_keys = (
        "aws_region",
        "aws_account_id",
        "vpc_id",
        "external_secrets_role_arn",
        "aws_load_balancer_controller_role_arn",
        "secrets_manager_prefix",
        "uploads_bucket",
        "image_registry",
    )
    annotations: dict[str, pulumi.Input[str]] = {key: aws_values.get(key, "") for key in aws_keys}
    annotations.update(
        {
            "repo_url": config.repo_url,
            "repo_revision": config.repo_revision,
            "addons_repo_path": ADDONS_REPO_PATH,
            "workloads_repo_path": f"environments/{config.stack}",
            "cluster_name": cluster_name,
            "ingress_class": "alb" if eks else "nginx",
            "storage_class": storage_class,
            **stores,
        }
    )
    return BridgeValues(labels=labels, annotations=annotations)


def bootstrap_argocd(
    config: PlatformConfig,
    bridge: BridgeValues,
    depends_on: list[pulumi.Resource],
    provider: pulumi.ProviderResource,
) -> ArgoCdBootstrap:
    argocd = ArgoCdBootstrap(
        "argocd",
        ArgoCdBootstrapArgs(
            stack=config.stack,
            repo_url=config.repo_url,
            repo_revision=config.repo_revision,
            contract=load_contract(),
            bridge=bridge,
            repo_username=config.repo_username,
            repo_password=config.repo_password,
        ),
        pulumi.ResourceOptions(providers=[provider], depends_on=depends_on),
    )
    pulumi.export("argocd_cluster_secret", argocd.cluster_secret.metadata.apply(lambda meta: meta.name))
    pulumi.export("argocd_root_application", "gigstack-root")
    return argocd
