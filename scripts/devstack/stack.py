"""Bringing the stack up and down: stores, databases, dev secrets, migrations, services."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time

import httpx
from gigstack_testinfra import isolation, object_store
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.servers import LocalServer, MariaDBServer, PostgresServer
from gigstack_testinfra.supervision import ManagedProcess

from scripts.devstack.catalogue import (
    CATALOGUE,
    DATA,
    HOST,
    LOGS,
    PIDS,
    PORTS,
    PUBLIC_URL,
    REPO_ROOT,
    SECRETS,
    ServiceSpec,
    build_store,
    media_bucket,
    service_env,
)
from scripts.devstack.observability import dev as observability
from scripts.devstack.pidfiles import record, recorded_groups, running_groups, stop_groups


def start_store(store: str) -> None:
    running = running_groups(store)
    if running and running == recorded_groups(store):
        print(f"  {store:<13} already running")
        return
    if running:
        # Half a store (FerretDB without its PostgreSQL, RabbitMQ without epmd): stop the rest, start afresh.
        stop_groups(store)
        print(f"  {store:<13} was partly running, restarting")
    server = build_store(store)
    server.start()
    # Several groups for some stores: RabbitMQ's epmd, FerretDB's PostgreSQL.
    pids = server.pids() if isinstance(server, LocalServer) else [server.pid]
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


def ensure_media_bucket(stores: set[str]) -> None:
    if "s3proxy" not in stores:
        return
    bucket = media_bucket()
    try:
        object_store.create_bucket(bucket.endpoint, bucket.bucket)
    except Exception as exc:
        if "BucketAlready" not in str(exc):  # a rerun of `make up`: keep the objects
            raise


def dev_secrets() -> dict[str, str]:
    """Generated once into .local/secrets (never committed); values are for this machine only."""
    SECRETS.mkdir(parents=True, exist_ok=True, mode=0o700)
    private, public = SECRETS / "internal-token-private.pem", SECRETS / "internal-token-public.pem"
    access = SECRETS / "access-token-secret"
    webhook = SECRETS / "payment-webhook-secret"
    if not private.exists() or not public.exists():
        private_pem, public_pem = generate_ed25519_pem_pair()
        private.write_text(private_pem)
        public.write_text(public_pem)
        private.chmod(0o600)
    if not access.exists():
        access.write_text(secrets.token_urlsafe(48))
        access.chmod(0o600)
    if not webhook.exists():
        # The order service's payment-webhook signing secret (the local payment provider signs with it).
        webhook.write_text(f"whsec_{secrets.token_urlsafe(32)}")
        webhook.chmod(0o600)
    return {
        "INTERNAL_TOKEN_PRIVATE_KEY": private.read_text(),
        "INTERNAL_TOKEN_PUBLIC_KEY": public.read_text(),
        "ACCESS_TOKEN_SECRET": access.read_text().strip(),
        "PAYMENT_WEBHOOK_SECRET": webhook.read_text().strip(),
    }


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


def start_service(
    spec: ServiceSpec, dev: dict[str, str], running: list[str], extra_env: dict[str, str]
) -> None:
    if running_groups(spec.name):
        print(f"  {spec.name:<13} already running on :{spec.port}")
        return
    env = {**service_env(spec, dev, running), **extra_env}
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


def up(names: list[str], *, with_observability: bool = True) -> None:
    for directory in (DATA, LOGS, PIDS):
        directory.mkdir(parents=True, exist_ok=True)
    services = selected_services(names)
    stores = {"mail"} | {store for spec in services for store in spec.stores}
    if with_observability:
        stores |= set(observability.STORES)
    order = ["postgres", "mariadb", "redis", "rabbitmq", "ferretdb", "opensearch", "s3proxy", "mail"]
    print("stores:")
    for store in (s for s in order if s in stores):
        start_store(store)
    ensure_databases(stores, services)
    ensure_media_bucket(stores)
    dev = dev_secrets()
    extra_env: dict[str, str] = {}
    if with_observability:
        print("observability:")
        observability.start(services)
        extra_env = observability.service_env()
    print("services:")
    for spec in services:
        start_service(spec, dev, [s.name for s in services], extra_env)
    print("\nGigstack dev stack is up:")
    if any(s.name == "storefront" for s in services):
        print(f"  storefront (open me) {PUBLIC_URL}/")
    if any(s.name == "gateway" for s in services):
        print(f"  API docs (gateway)   http://{HOST}:8000/docs")
    print(f"  mail catcher UI      http://{HOST}:{PORTS['mail-web']}/  (SMTP {HOST}:{PORTS['smtp']})")
    if "s3proxy" in stores:
        bucket = media_bucket()
        print(f"  object store (S3)    {bucket.url}/{bucket.bucket}  (s3proxy, loopback-only keys)")
    if "rabbitmq" in stores:
        print(f"  RabbitMQ management  http://{HOST}:{PORTS['rabbitmq-management']}/  (guest/guest)")
    if with_observability:
        print("\n".join(observability.banner()))
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
