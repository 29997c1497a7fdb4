"""Connection URLs in the forms the services' settings expect (docs/contracts.md "Settings").

Credentials come from pulumi_random and are alphanumeric, so no URL escaping is needed.
"""

from __future__ import annotations

import pulumi

from gigstack_platform.catalog import RDS_CA_BUNDLE_KEY, StoreKind

# Amazon's RDS/DocumentDB CA bundle is not in public trust stores; on eks the workloads mount it here
# (docs/contracts.md, "Kubernetes names"), from ConfigMap catalog.RDS_CA_BUNDLE_CONFIGMAP written by
# ClusterBasics. asyncpg's ssl=require encrypts without needing it.
RDS_CA_BUNDLE = f"/etc/ssl/certs/{RDS_CA_BUNDLE_KEY}"


def store_url(
    kind: StoreKind,
    *,
    host: pulumi.Input[str],
    port: int,
    username: pulumi.Input[str],
    password: pulumi.Input[str],
    database: str,
    tls: bool,
) -> pulumi.Output[str]:
    """Build the URL one service uses for one store; the result is a secret because it embeds a password."""

    def render(args: list[str]) -> str:
        user, secret, hostname = args
        auth = f"{user}:{secret}@"
        match kind:
            case StoreKind.POSTGRES:
                query = "?ssl=require" if tls else ""
                return f"postgresql+asyncpg://{auth}{hostname}:{port}/{database}{query}"
            case StoreKind.MYSQL:
                query = f"?ssl_ca={RDS_CA_BUNDLE}" if tls else ""
                return f"mysql+asyncmy://{auth}{hostname}:{port}/{database}{query}"
            case StoreKind.REDIS:
                scheme = "rediss" if tls else "redis"
                return f"{scheme}://{user}:{secret}@{hostname}:{port}/{database}"
            case StoreKind.RABBITMQ:
                scheme = "amqps" if tls else "amqp"
                return f"{scheme}://{auth}{hostname}:{port}/{database}"
            case StoreKind.MONGODB:
                # DocumentDB: TLS, no retryable writes; authSource=admin works on both engines.
                query = (
                    f"?tls=true&tlsCAFile={RDS_CA_BUNDLE}&retryWrites=false&authSource=admin"
                    if tls
                    else "?authSource=admin"
                )
                return f"mongodb://{auth}{hostname}:{port}/{database}{query}"
            case StoreKind.SEARCH:
                scheme = "https" if tls else "http"
                return f"{scheme}://{auth}{hostname}:{port}"
        raise ValueError(f"unknown store kind {kind}")

    return pulumi.Output.secret(pulumi.Output.all(username, password, host).apply(render))
