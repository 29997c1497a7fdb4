"""Local development stack behind ``make up`` / ``make down``: stores, mail catcher, services on fixed ports.

Everything lives under ``.local/`` (data, logs, pid files, generated dev secrets) and runs detached, so the
stack outlives this script; ``down`` stops it through the pid files. Servers come from
``gigstack_testinfra.servers``: the launchers the tests use, here with fixed ports and persistent directories.

    uv run python scripts/devstack.py up --services "gateway auth notification"
    uv run python scripts/devstack.py status
    uv run python scripts/devstack.py down
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from gigstack_testinfra import isolation
from gigstack_testinfra.keys import generate_ed25519_pem_pair
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
from gigstack_testinfra.supervision import ManagedProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
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


# --- pid files ----------------------------------------------------------------------------------------------


def _pid_file(name: str) -> Path:
    return PIDS / f"{name}.pid"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def running_groups(name: str) -> list[int]:
    path = _pid_file(name)
    if not path.exists():
        return []
    return [int(p) for p in path.read_text().split() if p.strip() and _group_alive(int(p))]


def record(name: str, pids: Sequence[int | None]) -> None:
    PIDS.mkdir(parents=True, exist_ok=True)
    _pid_file(name).write_text("\n".join(str(p) for p in pids if p is not None) + "\n")


def stop_groups(name: str) -> bool:
    groups = running_groups(name)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.3)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)
    return bool(groups)


# --- stores, databases, secrets -----------------------------------------------------------------------------


def start_store(store: str) -> None:
    if running_groups(store):
        print(f"  {store:<13} already running")
        return
    server = build_store(store)
    server.start()
    pids = server.pids() if isinstance(server, RabbitMQServer) else [server.pid]
    record(store, pids)
    # One place for every log: the server writes into its data dir, .local/logs/ links to it.
    link = LOGS / f"{store}.log"
    link.unlink(missing_ok=True)
    link.symlink_to(server.log_path)
    print(f"  {store:<13} started (log: .local/logs/{store}.log)")


def ensure_databases(stores: set[str], services: list[ServiceSpec]) -> None:
    names = [s.name for s in services if s.migrates]
    for name in names:
        try:
            if "mariadb" in CATALOGUE[name].stores and "mariadb" in stores:
                endpoint = MariaDBServer(DATA / "mariadb", PORTS["mariadb"]).endpoint
                isolation.create_mariadb_database(endpoint, name)
            elif "postgres" in CATALOGUE[name].stores and "postgres" in stores:
                pg = PostgresServer(DATA / "postgres", PORTS["postgres"]).endpoint
                isolation.create_postgres_database(pg, name)
        except Exception as exc:
            if "exists" not in str(exc):  # a rerun of `make up`: keep the data
                raise


def dev_secrets() -> dict[str, str]:
    """Generated once into .local/secrets (never committed); values are for this machine only."""
    SECRETS.mkdir(parents=True, exist_ok=True, mode=0o700)
    private, public = SECRETS / "internal-token-private.pem", SECRETS / "internal-token-public.pem"
    access = SECRETS / "access-token-secret"
    if not private.exists() or not public.exists():
        private_pem, public_pem = generate_ed25519_pem_pair()
        private.write_text(private_pem)
        public.write_text(public_pem)
        private.chmod(0o600)
    if not access.exists():
        access.write_text(secrets.token_urlsafe(48))
        access.chmod(0o600)
    return {
        "INTERNAL_TOKEN_PRIVATE_KEY": private.read_text(),
        "INTERNAL_TOKEN_PUBLIC_KEY": public.read_text(),
        "ACCESS_TOKEN_SECRET": access.read_text().strip(),
    }


# --- services -----------------------------------------------------------------------------------------------


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


def migrate(spec: ServiceSpec, env: dict[str, str]) -> None:
    log = LOGS / f"{spec.name}-migrate.log"
    with log.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", spec.package, "migrate"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=False,
        )
    if result.returncode != 0:
        raise SystemExit(f"{spec.name}: migrations failed, see {log.relative_to(REPO_ROOT)}")
    print(f"  {spec.name:<13} migrations applied")


def wait_ready(spec: ServiceSpec, process: ManagedProcess, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.is_running():
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{HOST}:{spec.port}/health/ready", timeout=2.0).status_code == 200:
                return True
        time.sleep(0.5)
    return False


def start_service(spec: ServiceSpec, dev: dict[str, str], running: list[str]) -> None:
    if running_groups(spec.name):
        print(f"  {spec.name:<13} already running on :{spec.port}")
        return
    env = service_env(spec, dev, running)
    if spec.migrates:
        migrate(spec, env)
    process = ManagedProcess(
        spec.name,
        [sys.executable, "-m", spec.package],
        log_path=LOGS / f"{spec.name}.log",
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        detached=True,
    )
    process.start()
    record(spec.name, [process.pid])
    state = "ready" if wait_ready(spec, process) else "NOT READY (see log)"
    print(f"  {spec.name:<13} {state} on http://{HOST}:{spec.port} (log: .local/logs/{spec.name}.log)")


# --- commands -----------------------------------------------------------------------------------------------


def selected_services(names: list[str]) -> list[ServiceSpec]:
    chosen = []
    for name in names:
        if name not in CATALOGUE:
            print(f"  {name:<13} unknown service, skipped (known: {', '.join(CATALOGUE)})")
        elif not (REPO_ROOT / "services" / name / "pyproject.toml").exists():
            print(f"  {name:<13} not in services/ yet, skipped")
        else:
            chosen.append(CATALOGUE[name])
    return chosen


def up(names: list[str]) -> None:
    for directory in (DATA, LOGS, PIDS):
        directory.mkdir(parents=True, exist_ok=True)
    services = selected_services(names)
    stores = {"mail"} | {store for spec in services for store in spec.stores}
    order = ["postgres", "mariadb", "redis", "rabbitmq", "ferretdb", "opensearch", "mail"]
    print("stores:")
    for store in (s for s in order if s in stores):
        start_store(store)
    ensure_databases(stores, services)
    dev = dev_secrets()
    print("services:")
    for spec in services:
        start_service(spec, dev, [s.name for s in services])
    print("\nGigstack dev stack is up:")
    if any(s.name == "gateway" for s in services):
        print(f"  API docs (gateway)   http://{HOST}:8000/docs")
    print(f"  mail catcher UI      http://{HOST}:{PORTS['mail-web']}/  (SMTP {HOST}:{PORTS['smtp']})")
    if "rabbitmq" in stores:
        print(f"  RabbitMQ management  http://{HOST}:{PORTS['rabbitmq-management']}/  (guest/guest)")
    print("  logs                 .local/logs/   stop with: make down")


def down() -> None:
    names = [p.stem for p in PIDS.glob("*.pid")] if PIDS.exists() else []
    # Services first, so they do not log a storm of connection errors while their stores go away.
    for name in sorted(names, key=lambda n: n not in CATALOGUE):
        print(f"  {name:<13} {'stopped' if stop_groups(name) else 'was not running'}")


def status() -> None:
    names = sorted(p.stem for p in PIDS.glob("*.pid")) if PIDS.exists() else []
    if not names:
        print("nothing running (make up)")
    for name in names:
        print(f"  {name:<13} {'running' if running_groups(name) else 'dead'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--services", default="gateway auth notification", help="space-separated names")
    args = parser.parse_args()
    if args.command == "up":
        up(args.services.split())
    elif args.command == "down":
        down()
    else:
        status()


if __name__ == "__main__":
    main()
