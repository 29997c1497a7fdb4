"""Assemble each service's secret values from the stores it owns (docs/contracts.md "Settings")."""

from __future__ import annotations

import json

import pulumi

from gigstack_platform.catalog import (
    OWNED_STORES,
    REDIS_DATABASE_INDEX,
    SERVICES,
    STORE_ENV_VAR,
    StoreKind,
    secret_keys,
)
from gigstack_platform.connection_strings import store_url
from gigstack_platform.endpoints import StoreEndpoint

# RabbitMQ's default virtual host, URL-encoded.
DEFAULT_VHOST = "%2F"


def relational_database(service: str) -> str:
    """The PostgreSQL/MySQL database of `service`. Not the bare service name: `order` is a reserved word,
    which RDS refuses as DBName (tests/platform/test_database_names.py asks a real PostgreSQL)."""
    return f"{service}_db"


def _database(kind: StoreKind, service: str) -> str:
    match kind:
        case StoreKind.POSTGRES | StoreKind.MYSQL:
            return relational_database(service)
        case StoreKind.REDIS:
            return str(REDIS_DATABASE_INDEX[service])
        case StoreKind.RABBITMQ:
            return DEFAULT_VHOST
        case StoreKind.SEARCH:
            return ""
        case _:
            return service


def service_secret_values(
    endpoints: dict[str, dict[StoreKind, StoreEndpoint]],
    bus: StoreEndpoint,
    extra: dict[str, dict[str, pulumi.Output[str]]],
) -> dict[str, dict[str, pulumi.Output[str]]]:
    """`{service: {VARIABLE: secret value}}` with exactly the keys `catalog.secret_keys` lists."""
    values: dict[str, dict[str, pulumi.Output[str]]] = {}
    for service in SERVICES:
        entries: dict[str, pulumi.Output[str]] = {}
        for kind in (*OWNED_STORES[service], StoreKind.RABBITMQ):
            endpoint = bus if kind is StoreKind.RABBITMQ else endpoints[service][kind]
            entries[STORE_ENV_VAR[kind]] = store_url(
                kind,
                host=endpoint.host,
                port=endpoint.port,
                username=endpoint.username,
                password=endpoint.password,
                database=_database(kind, service),
                tls=endpoint.tls,
            )
        entries.update(extra.get(service, {}))
        if sorted(entries) != secret_keys(service):
            raise ValueError(f"{service}: secret keys {sorted(entries)} != contract {secret_keys(service)}")
        values[service] = entries
    return values


def json_secret(values: dict[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    """One JSON object per service, the shape ExternalSecrets unpack into `<service>-secrets`."""
    keys = sorted(values)
    return pulumi.Output.secret(
        pulumi.Output.all(*[values[key] for key in keys]).apply(
            lambda resolved: json.dumps(dict(zip(keys, resolved, strict=True)), sort_keys=True)
        )
    )
