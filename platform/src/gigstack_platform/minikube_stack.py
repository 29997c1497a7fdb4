"""The minikube stack: the local kube context, in-cluster stores, monitoring, then Argo CD."""

from __future__ import annotations

import pulumi

from gigstack_platform.catalog import MEDIA_SERVICES, MINIKUBE_MEDIA_BUCKET
from gigstack_platform.config import PlatformConfig
from gigstack_platform.credentials import GatewayAndMailKeys
from gigstack_platform.kube.cluster_basics import ClusterBasics, ClusterBasicsArgs
from gigstack_platform.kube.in_cluster_stores import InClusterStores, InClusterStoresArgs
from gigstack_platform.kube.object_store_credentials import ObjectStoreCredentials
from gigstack_platform.kube.provider import minikube_provider
from gigstack_platform.kube.service_secrets import ServiceSecrets
from gigstack_platform.program import bootstrap_argocd, bridge_values, monitoring, store_annotations
from gigstack_platform.service_settings import service_secret_values


def build_minikube(config: PlatformConfig) -> None:
    provider = minikube_provider("minikube", config.minikube)
    keys = GatewayAndMailKeys(
        "service-keys",
        config.smtp_username,
        config.smtp_password,
        stripe_secret_key=config.stripe_secret_key,
        stripe_webhook_secret=config.stripe_webhook_secret,
    )
    basics = ClusterBasics(
        "cluster-basics",
        ClusterBasicsArgs(
            environment="minikube",
            internal_token_public_key=keys.keys.internal_token_public_key,
            kms_key_arn=None,
            minikube_storage_class=config.minikube.storage_class,
        ),
        pulumi.ResourceOptions(provider=provider),
    )
    observability = monitoring(
        config, basics.storage_class, pulumi.ResourceOptions(provider=provider, depends_on=[basics])
    )
    stores = InClusterStores(
        "in-cluster-stores",
        InClusterStoresArgs(
            storage_class=basics.storage_class,
            eck_operator=observability.eck_operator if observability else None,
            mail_catcher=True,
        ),
        pulumi.ResourceOptions(provider=provider, depends_on=[basics]),
    )
    if stores.bus is None:
        raise ValueError("the minikube stack runs its own RabbitMQ")
    extra = {**keys.keys.values}
    for service in MEDIA_SERVICES:
        extra[service] = {
            **extra.get(service, {}),
            "OBJECT_STORE_BUCKET": pulumi.Output.from_input(MINIKUBE_MEDIA_BUCKET),
        }
    values = service_secret_values(stores.endpoints, stores.bus, extra)
    secrets = ServiceSecrets(
        "service-secrets", values, pulumi.ResourceOptions(provider=provider, depends_on=[basics])
    )
    # s3proxy (environments/minikube/object-store) and the media services share this key pair.
    store_keys = ObjectStoreCredentials(
        "object-store-credentials", pulumi.ResourceOptions(provider=provider, depends_on=[basics])
    )
    bridge = bridge_values(
        config,
        pulumi_installed_monitoring=observability is not None,
        pulumi_installed_eck=True,
        cluster_name=config.minikube.kube_context,
        storage_class=basics.storage_class,
        stores=store_annotations(stores.endpoints, stores.bus),
        aws_values={},
    )
    bootstrap_argocd(
        config,
        bridge,
        depends_on=[basics, stores, secrets, store_keys, *([observability] if observability else [])],
        provider=provider,
    )
    pulumi.export("kube_context", config.minikube.kube_context)
    if stores.smtp_host is not None:
        pulumi.export("mail_catcher_host", stores.smtp_host)
    if observability:
        pulumi.export("grafana_admin_password", observability.grafana_admin_password)
