"""What the platform provides for each service: stores, secret keys, namespaces (docs/contracts.md).

The services and the stores they own come from services/registry.toml (gigstack_registry); the rest is the
platform's own data. Shared by the eks and minikube code paths and by the tests, so both environments hand
every service exactly the stores it owns and nothing else.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from gigstack_registry import load_registry


class StoreKind(StrEnum):
    POSTGRES = "postgres"
    MYSQL = "mysql"
    REDIS = "redis"
    RABBITMQ = "rabbitmq"
    MONGODB = "mongodb"
    SEARCH = "search"


_REGISTRY: Final = load_registry()
# The registry itself, for what is derived from it whole (the Redis ACL file, gigstack_registry.redis_acl).
REGISTRY: Final = _REGISTRY

# Every service of services/registry.toml, planned ones included: the platform provisions a service's stores
# and secrets before its first release, so deploying it needs no platform change.
SERVICES: Final = _REGISTRY.names

# The stores each service owns; the bus is shared by design.
OWNED_STORES: Final[dict[str, tuple[StoreKind, ...]]] = {
    service.name: tuple(StoreKind(store) for store in service.stores) for service in _REGISTRY
}

# Relational engines get one server per owning service: database-per-service without a bootstrap job that
# would have to create extra databases and users. MongoDB-compatible and Redis servers are shared, with one
# database (or database index) per service.
DEDICATED_SERVER_KINDS: Final = (StoreKind.POSTGRES, StoreKind.MYSQL)

REDIS_DATABASE_INDEX: Final[dict[str, int]] = {
    service.name: service.redis_database for service in _REGISTRY if service.redis_database is not None
}

STORE_ENV_VAR: Final[dict[StoreKind, str]] = {
    StoreKind.POSTGRES: "DATABASE_URL",
    StoreKind.MYSQL: "DATABASE_URL",
    StoreKind.REDIS: "REDIS_URL",
    StoreKind.RABBITMQ: "AMQP_URL",
    StoreKind.MONGODB: "MONGODB_URL",
    StoreKind.SEARCH: "SEARCH_URL",
}

# Services that hand out or accept media keys (registry `uses_media`): they get the media bucket's name in
# their secret and access to it (eks: a Pod Identity role; minikube: s3proxy's key pair).
MEDIA_SERVICES: Final = tuple(service.name for service in _REGISTRY if service.uses_media)
MEDIA_SECRET_KEYS: Final = ("OBJECT_STORE_BUCKET",)
# minikube's s3proxy key pair, shared by s3proxy and the media services (environments/minikube/object-store).
OBJECT_STORE_CREDENTIALS_SECRET: Final = "object-store-credentials"  # noqa: S105 - a Secret name
MINIKUBE_MEDIA_BUCKET: Final = "gigstack-media"

# Secret keys that are not store URLs.
EXTRA_SECRET_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "gateway": ("ACCESS_TOKEN_SECRET", "INTERNAL_TOKEN_PRIVATE_KEY"),
    # Amazon SES SMTP credentials (an IAM-derived user name and password) on eks; empty on minikube.
    "notification": ("SMTP_USERNAME", "SMTP_PASSWORD"),
    # Stripe's API key and webhook signing secret (stack config secrets stripeSecretKey, stripeWebhookSecret).
    "order": ("STRIPE_SECRET_KEY", "PAYMENT_WEBHOOK_SECRET"),
}

SERVICES_NAMESPACE: Final = "gigstack"
DATA_NAMESPACE: Final = "gigstack-data"
MONITORING_NAMESPACE: Final = "monitoring"
LOGGING_NAMESPACE: Final = "logging"
ARGOCD_NAMESPACE: Final = "argocd"
EXTERNAL_SECRETS_NAMESPACE: Final = "external-secrets"
# The ECK operator's own namespace (monitoring's logging stack and minikube's search both need it).
ELASTIC_OPERATOR_NAMESPACE: Final = "elastic-system"
INTERNAL_TOKEN_CONFIGMAP: Final = "internal-token-public-key"  # noqa: S105 - a ConfigMap name
# eks: Amazon's RDS/DocumentDB CA bundle, mounted by gitops/components/stores-aws-managed (subPath) at
# connection_strings.RDS_CA_BUNDLE in every pod labelled gigstack.io/uses-mysql or uses-mongodb.
RDS_CA_BUNDLE_CONFIGMAP: Final = "rds-ca-bundle"
RDS_CA_BUNDLE_KEY: Final = "rds-global-bundle.pem"
# minikube: the dev mail catcher in DATA_NAMESPACE (docs/contracts.md).
MAIL_CATCHER_SERVICE: Final = "mailpit"
MAIL_CATCHER_SMTP_PORT: Final = 1025
MAIL_CATCHER_UI_PORT: Final = 8025


def services_owning(kind: StoreKind) -> list[str]:
    return [service for service in SERVICES if kind in OWNED_STORES[service]]


def secret_keys(service: str) -> list[str]:
    """Keys of `<service>-secrets`, exactly the variable names the service reads."""
    keys = {STORE_ENV_VAR[kind] for kind in OWNED_STORES[service]}
    keys.add(STORE_ENV_VAR[StoreKind.RABBITMQ])
    keys.update(EXTRA_SECRET_KEYS.get(service, ()))
    if service in MEDIA_SERVICES:
        keys.update(MEDIA_SECRET_KEYS)
    return sorted(keys)


def secret_name(service: str) -> str:
    return f"{service}-secrets"
