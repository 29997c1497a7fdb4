"""What the dev stack runs: fixed ports, the service catalogue, each service's settings, the stores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.servers import (
    FerretDBServer,
    LocalServer,
    MariaDBServer,
    OpenSearchServer,
    PostgresServer,
    RabbitMQServer,
    RedisServer,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL = REPO_ROOT / ".local"
DATA, LOGS, PIDS, SECRETS = LOCAL / "data", LOCAL / "logs", LOCAL / "pids", LOCAL / "secrets"
HOST = "127.0.0.1"
PUBLIC_URL = "http://localhost:3000"

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
    "smtp": 1025,
    "mail-web": 1080,
}


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    stores: tuple[str, ...]
    migrates: bool = False

    @property
    def package(self) -> str:
        return f"{self.name}_service"


# Every service the stack knows; `make up` starts those named in DEV_SERVICES (Makefile) that exist.
CATALOGUE = {
    spec.name: spec
    for spec in (
        ServiceSpec("gateway", 8000, ("redis",)),
        ServiceSpec("auth", 8001, ("mariadb", "rabbitmq"), migrates=True),
        ServiceSpec("users", 8002, ("ferretdb", "rabbitmq")),
        ServiceSpec("gig", 8003, ("ferretdb", "opensearch", "rabbitmq")),
        ServiceSpec("chat", 8004, ("ferretdb", "rabbitmq")),
        ServiceSpec("order", 8005, ("postgres", "rabbitmq"), migrates=True),
        ServiceSpec("review", 8006, ("postgres", "rabbitmq"), migrates=True),
        ServiceSpec("notification", 8007, ("rabbitmq", "redis", "mail")),
    )
}


def build_store(store: str) -> LocalServer | MailCatcher:
    directory = DATA / store
    if store == "postgres":
        return PostgresServer(directory, PORTS["postgres"], detached=True, durable=True)
    if store == "mariadb":
        return MariaDBServer(directory, PORTS["mariadb"], detached=True, durable=True)
    if store == "redis":
        return RedisServer(directory, PORTS["redis"], detached=True, durable=True)
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
        return FerretDBServer(directory, PORTS["ferretdb"], detached=True)
    if store == "opensearch":
        return OpenSearchServer(directory, PORTS["opensearch"], PORTS["opensearch-transport"], detached=True)
    if store == "mail":
        return MailCatcher(directory, PORTS["smtp"], PORTS["mail-web"], detached=True)
    raise ValueError(f"unknown store {store}")


def service_env(spec: ServiceSpec, dev: dict[str, str], running: list[str]) -> dict[str, str]:
    amqp = f"amqp://guest:guest@{HOST}:{PORTS['rabbitmq']}/"
    redis = f"redis://{HOST}:{PORTS['redis']}"
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
    if "ferretdb" in spec.stores:
        env["MONGODB_URL"] = mongodb
    if "opensearch" in spec.stores:
        env["SEARCH_URL"] = f"http://{HOST}:{PORTS['opensearch']}"
    if "postgres" in spec.stores:
        env["DATABASE_URL"] = PostgresServer(DATA / "postgres", PORTS["postgres"]).endpoint.url(spec.name)
    if "mariadb" in spec.stores:
        env["DATABASE_URL"] = MariaDBServer(DATA / "mariadb", PORTS["mariadb"]).endpoint.url(spec.name)
    if spec.name == "gateway":
        env.update(
            REDIS_URL=f"{redis}/0",
            INTERNAL_TOKEN_PRIVATE_KEY=dev["INTERNAL_TOKEN_PRIVATE_KEY"],
            ACCESS_TOKEN_SECRET=dev["ACCESS_TOKEN_SECRET"],
            CORS_ORIGINS=PUBLIC_URL,
        )
        # Only services running locally get a URL; the gateway answers 503 for the others.
        for other in CATALOGUE.values():
            if other.name != "gateway" and other.name in running:
                env[f"{other.name.upper()}_SERVICE_URL"] = f"http://{HOST}:{other.port}"
    if spec.name == "notification":
        env.update(
            REDIS_URL=f"{redis}/1",
            SMTP_HOST=HOST,
            SMTP_PORT=str(PORTS["smtp"]),
            SMTP_STARTTLS="false",
            MAIL_FROM="Gigstack <no-reply@gigstack.localhost>",
            PUBLIC_URL=PUBLIC_URL,
        )
    return env
