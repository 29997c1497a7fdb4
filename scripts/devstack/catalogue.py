"""What the dev stack runs: fixed ports, the services (services/registry.toml), their settings, the stores."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from gigstack_registry import Service, load_registry
from gigstack_registry.redis_acl import acl_file, redis_services
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.object_store import ObjectStoreBucket
from gigstack_testinfra.servers import (
    FerretDBServer,
    LocalServer,
    MariaDBServer,
    OpenSearchServer,
    PostgresServer,
    RabbitMQServer,
    RedisServer,
    S3ProxyServer,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL = REPO_ROOT / ".local"
DATA, LOGS, PIDS, SECRETS = LOCAL / "data", LOCAL / "logs", LOCAL / "pids", LOCAL / "secrets"
HOST = "127.0.0.1"
# The storefront's address (its registry port): links in emails open its pages, and the gateway's CORS and the
# object store's CORS admit this origin.
STOREFRONT_PORT = 8008
PUBLIC_URL = f"http://{HOST}:{STOREFRONT_PORT}"
# The one media bucket (docs/contracts.md, media keys), created by `make up` in the local s3proxy.
MEDIA_BUCKET = "gigstack-media"

# Stores on their usual ports; services and mail catcher as fixed in docs/contracts.md.
PORTS = {
    "postgres": 5432,
    "mariadb": 3306,
    "redis": 6379,
    "rabbitmq": 5672,
    "rabbitmq-management": 15672,
    "rabbitmq-dist": 25672,
    "rabbitmq-epmd": 4371,  # not 4369: a system-wide epmd may already own the default
    "ferretdb": 27017,
    "opensearch": 9200,
    "opensearch-transport": 9300,
    "s3proxy": 9000,  # the S3 API; browsers POST uploads here too
    "smtp": 1025,
    "mail-web": 1080,
}


# The local server that plays each store of the registry (services/registry.toml) on a developer machine.
LOCAL_SERVER = {
    "postgres": "postgres",
    "mysql": "mariadb",
    "redis": "redis",
    "mongodb": "ferretdb",
    "search": "opensearch",
}


@dataclass(frozen=True)
class ServiceSpec:
    """A registry entry as the dev stack runs it: which local servers it needs."""

    name: str
    port: int
    stores: tuple[str, ...]
    migrates: bool = False
    redis_database: int | None = None
    internal_api: bool = False

    @property
    def package(self) -> str:
        return f"{self.name}_service"


def dev_spec(service: Service) -> ServiceSpec:
    servers = [LOCAL_SERVER[store] for store in service.stores]
    if service.uses_bus:
        servers.append("rabbitmq")
    if service.sends_mail:
        servers.append("mail")
    if service.uses_media:
        servers.append("s3proxy")
    return ServiceSpec(
        service.name,
        service.port,
        tuple(servers),
        migrates=service.migrates,
        redis_database=service.redis_database,
        internal_api=service.internal_api,
    )


# Every service the registry knows; `make up` starts those named in DEV_SERVICES (Makefile) that exist.
REGISTRY = load_registry()
CATALOGUE = {service.name: dev_spec(service) for service in REGISTRY}


def redis_passwords() -> dict[str, str]:
    """Passwords of the Redis users (`admin` and one per service), generated once into .local/secrets.

    The dev Redis runs the same ACL file as every environment (gigstack_registry.redis_acl): each service
    logs in as its own user, limited to its key prefix; the `default` user is off.
    """
    SECRETS.mkdir(parents=True, exist_ok=True, mode=0o700)
    passwords = {}
    for name in ("admin", *(service.name for service in redis_services(REGISTRY))):
        path = SECRETS / f"redis-{name}"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        passwords[name] = path.read_text().strip()
    return passwords


def build_store(store: str) -> LocalServer | MailCatcher:
    directory = DATA / store
    if store == "postgres":
        return PostgresServer(directory, PORTS["postgres"], detached=True, durable=True)
    if store == "mariadb":
        return MariaDBServer(directory, PORTS["mariadb"], detached=True, durable=True)
    if store == "redis":
        passwords = redis_passwords()
        admin_password = passwords.pop("admin")
        return RedisServer(
            directory,
            PORTS["redis"],
            detached=True,
            durable=True,
            acl=acl_file(REGISTRY, passwords, admin_password=admin_password),
            admin=("admin", admin_password),
        )
    if store == "rabbitmq":
        return RabbitMQServer(
            directory,
            PORTS["rabbitmq"],
            PORTS["rabbitmq-management"],
            PORTS["rabbitmq-dist"],
            PORTS["rabbitmq-epmd"],
            detached=True,
            node_name="gigstack-dev@localhost",
        )
    if store == "ferretdb":
        return FerretDBServer(directory, PORTS["ferretdb"], detached=True, durable=True)
    if store == "opensearch":
        return OpenSearchServer(directory, PORTS["opensearch"], PORTS["opensearch-transport"], detached=True)
    if store == "s3proxy":
        return S3ProxyServer(directory, PORTS["s3proxy"], detached=True)
    if store == "mail":
        return MailCatcher(directory, PORTS["smtp"], PORTS["mail-web"], detached=True)
    raise ValueError(f"unknown store {store}")


def media_bucket() -> ObjectStoreBucket:
    return ObjectStoreBucket(S3ProxyServer(DATA / "s3proxy", PORTS["s3proxy"]).endpoint, MEDIA_BUCKET)


def service_env(spec: ServiceSpec, dev: dict[str, str], running: list[str]) -> dict[str, str]:
    amqp = f"amqp://guest:guest@{HOST}:{PORTS['rabbitmq']}/"
    mongodb = f"mongodb://{HOST}:{PORTS['ferretdb']}/{spec.name}"
    env = {
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "INFO",
        "HOST": HOST,
        "PORT": str(spec.port),
        "INTERNAL_TOKEN_PUBLIC_KEY": dev["INTERNAL_TOKEN_PUBLIC_KEY"],
    }
    if "rabbitmq" in spec.stores:
        env["AMQP_URL"] = amqp
    if "redis" in spec.stores:
        password = redis_passwords()[spec.name]
        env["REDIS_URL"] = f"redis://{spec.name}:{password}@{HOST}:{PORTS['redis']}/{spec.redis_database}"
    if "ferretdb" in spec.stores:
        env["MONGODB_URL"] = mongodb
    if "opensearch" in spec.stores:
        env["SEARCH_URL"] = f"http://{HOST}:{PORTS['opensearch']}"
    if "s3proxy" in spec.stores:
        # s3proxy's fixed loopback-only key pair; ENVIRONMENT=development accepts it.
        env.update(media_bucket().settings_env())
    if "postgres" in spec.stores:
        env["DATABASE_URL"] = PostgresServer(DATA / "postgres", PORTS["postgres"]).endpoint.url(spec.name)
    if "mariadb" in spec.stores:
        env["DATABASE_URL"] = MariaDBServer(DATA / "mariadb", PORTS["mariadb"]).endpoint.url(spec.name)
    if spec.name == "gateway":
        env.update(
            INTERNAL_TOKEN_PRIVATE_KEY=dev["INTERNAL_TOKEN_PRIVATE_KEY"],
            ACCESS_TOKEN_SECRET=dev["ACCESS_TOKEN_SECRET"],
            CORS_ORIGINS=PUBLIC_URL,
        )
        # Only services running locally get a URL; the gateway answers 503 for the others.
        for other in CATALOGUE.values():
            if other.internal_api and other.name in running:
                env[f"{other.name.upper()}_SERVICE_URL"] = f"http://{HOST}:{other.port}"
    if spec.name == "storefront":
        env["GATEWAY_URL"] = f"http://{HOST}:{CATALOGUE['gateway'].port}"
        # Presigned uploads go from the browser straight to s3proxy: the one other origin its CSP names.
        bucket = media_bucket()
        env["MEDIA_PUBLIC_ORIGIN"] = bucket.url.rstrip("/")
        # Covers at /media/<key> on the storefront's own origin, read from the private bucket server-side
        # (docs/adr/0025): pages GET nothing from s3proxy.
        env["MEDIA_PROXY_ENABLED"] = "true"
        env.update(bucket.settings_env())
    if spec.name == "order":
        # PAYMENT_PROVIDER stays `local` (its default, development only): no card network is reachable here.
        env["PAYMENT_WEBHOOK_SECRET"] = dev["PAYMENT_WEBHOOK_SECRET"]
    if spec.name == "notification":
        env.update(
            SMTP_HOST=HOST,
            SMTP_PORT=str(PORTS["smtp"]),
            SMTP_STARTTLS="false",
            MAIL_FROM="Gigstack <no-reply@gigstack.localhost>",
            PUBLIC_URL=PUBLIC_URL,
        )
    return env
