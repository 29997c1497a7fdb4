"""The local cluster's stores and platform objects: what the platform program does for minikube, done here.

The stores are the `make up` kind of servers (gigstack_testinfra launchers: PostgreSQL, MariaDB, Redis with
one ACL user per service, RabbitMQ, FerretDB, OpenSearch, s3proxy for media, the mail catcher), run as host
processes outside the cluster, the way eks reaches managed stores outside its cluster: each is a Service
without selector in namespace gigstack-data with a hand-written EndpointSlice pointing at the node address.
The servers keep listening on 127.0.0.1 (free ports); a socat relay per store listens on the node address
(10.213.0.1, the cluster bridge) at the store's usual port, so nothing is bound to the machine's primary
address and the servers' loopback-only users (RabbitMQ's guest) keep working.

It also writes, as the platform program writes for minikube: namespaces `gigstack` (Pod Security
`restricted`) and `gigstack-data`, each service's `<service>-secrets` (exactly the keys
gigstack_platform.catalog lists), the `internal-token-public-key` ConfigMap and the `object-store-credentials`
Secret (s3proxy's key pair for the media services). order gets no Stripe key: the local overlay runs it with
the local payment provider (environments/local/order-payments.yaml), whose webhook secret is generated here.

    python -m scripts.cluster.stores up | down | status | objects
State: /run/gigstack-cluster/stores (data, logs, pids, generated keys); `down` stops all and removes it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gigstack_platform.catalog import (
    MEDIA_SERVICES,
    MINIKUBE_MEDIA_BUCKET,
    OBJECT_STORE_CREDENTIALS_SECRET,
    secret_keys,
)
from gigstack_platform.service_settings import relational_database
from gigstack_registry import load_registry
from gigstack_registry.redis_acl import acl_file, redis_services
from gigstack_testinfra import isolation
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.net import free_port, port_is_open
from gigstack_testinfra.object_store import create_bucket
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
from gigstack_testinfra.supervision import ManagedProcess

REGISTRY = load_registry()
RUN = Path(os.environ.get("GIGSTACK_CLUSTER_RUN", "/run/gigstack-cluster"))
STATE = RUN / "stores"
CACHE = Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))
_BUILT_KUBECTL = CACHE / "kubernetes-v1.34.4" / "bin" / "kubectl"
# kubectl v1.34 when built (scripts/install/kubernetes.sh kubectl), else the machine's.
KUBECTL = _BUILT_KUBECTL if _BUILT_KUBECTL.exists() else Path(shutil.which("kubectl") or "kubectl")
NODE_IP = "10.213.0.1"  # scripts/cluster/cluster.sh
DATA_NAMESPACE = "gigstack-data"
SERVICES_NAMESPACE = "gigstack"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
# A Service in gigstack-data per store server: its name there and the port it answers on.
STORE_SERVICES = {
    "postgres": 5432,
    "mariadb": 3306,
    "redis": 6379,
    "rabbitmq": 5672,
    "mongodb": 27017,
    "search": 9200,
    # minikube's name for its in-cluster s3proxy (environments/minikube/object-store).
    "s3proxy": 8080,
    "mailpit": 1025,
}
# The media services' view of the store: in-cluster for HEAD checks and signing; no ingress here, so browsers
# (none in this tier) would use the same address.
OBJECT_STORE_URL = f"http://s3proxy.{DATA_NAMESPACE}.svc.cluster.local:8080"
REDIS_ADMIN = "admin"


@dataclass(frozen=True)
class Ports:
    """The loopback ports the servers listen on (chosen once per `up`, kept in the state directory)."""

    postgres: int
    mariadb: int
    redis: int
    rabbitmq: int
    rabbitmq_management: int
    rabbitmq_dist: int
    rabbitmq_epmd: int
    mongodb: int
    search: int
    search_transport: int
    s3proxy: int
    mail_web: int

    @classmethod
    def load_or_choose(cls) -> Ports:
        path = STATE / "ports.json"
        if path.exists():
            with contextlib.suppress(TypeError):  # a state directory from before a store was added
                return cls(**json.loads(path.read_text()))
        names = cls.__dataclass_fields__
        ports = cls(**{name: free_port() for name in names})
        path.write_text(json.dumps(ports.__dict__))
        return ports


def _redis_acl() -> str:
    """Redis's ACL file: `default` off, an admin for readiness, each service its own user (as minikube)."""
    keys = _keys()
    passwords = {service.name: keys[f"REDIS_PASSWORD_{service.name}"] for service in redis_services(REGISTRY)}
    return acl_file(REGISTRY, passwords, admin_password=keys["REDIS_PASSWORD_ADMIN"])


def servers(ports: Ports) -> dict[str, LocalServer]:
    return {
        "postgres": PostgresServer(STATE / "postgres", ports.postgres, detached=True),
        "mariadb": MariaDBServer(STATE / "mariadb", ports.mariadb, detached=True),
        "redis": RedisServer(
            STATE / "redis",
            ports.redis,
            detached=True,
            acl=_redis_acl(),
            admin=(REDIS_ADMIN, _keys()["REDIS_PASSWORD_ADMIN"]),
        ),
        "rabbitmq": RabbitMQServer(
            STATE / "rabbitmq",
            ports.rabbitmq,
            ports.rabbitmq_management,
            ports.rabbitmq_dist,
            ports.rabbitmq_epmd,
            detached=True,
            node_name="gigstack-cluster@localhost",
        ),
        "mongodb": FerretDBServer(STATE / "ferretdb", ports.mongodb, detached=True),
        "search": OpenSearchServer(STATE / "opensearch", ports.search, ports.search_transport, detached=True),
        "s3proxy": S3ProxyServer(STATE / "s3proxy", ports.s3proxy, detached=True),
    }


def _record(name: str, pids: list[int | None]) -> None:
    (STATE / "pids").mkdir(exist_ok=True)
    (STATE / "pids" / f"{name}.pid").write_text("\n".join(str(p) for p in pids if p) + "\n")


def _alive(name: str) -> bool:
    path = STATE / "pids" / f"{name}.pid"
    if not path.exists():
        return False
    for pid in path.read_text().split():
        try:
            os.killpg(int(pid), 0)
        except (ProcessLookupError, PermissionError):
            return False
    return True


def _relay(name: str, port: int, target: int) -> None:
    """socat on the node address, forwarding to the server's loopback port (one process per store)."""
    if _alive(f"relay-{name}"):
        return
    log = (STATE / "logs" / f"relay-{name}.log").open("ab")
    process = subprocess.Popen(
        [
            shutil.which("socat") or "/usr/bin/socat",
            f"TCP-LISTEN:{port},bind={NODE_IP},reuseaddr,fork",
            f"TCP:127.0.0.1:{target}",
        ],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _record(f"relay-{name}", [process.pid])
    deadline = time.monotonic() + 10
    while not port_is_open(port, NODE_IP):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"relay for {name} did not listen on {NODE_IP}:{port}")
        time.sleep(0.1)


def _targets(ports: Ports) -> dict[str, int]:
    return {
        "postgres": ports.postgres,
        "mariadb": ports.mariadb,
        "redis": ports.redis,
        "rabbitmq": ports.rabbitmq,
        "mongodb": ports.mongodb,
        "search": ports.search,
        "s3proxy": ports.s3proxy,
    }


def start_stores() -> Ports:
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(exist_ok=True)
    ports = Ports.load_or_choose()
    for name, server in servers(ports).items():
        if not _alive(name):
            started = time.monotonic()
            server.start()
            _record(name, list(server.pids()))  # several for RabbitMQ (epmd) and FerretDB (PostgreSQL)
            print(f"  {name:<22} started in {time.monotonic() - started:.1f} s")
        _relay(name, STORE_SERVICES[name], _targets(ports)[name])
    if not _alive("mailpit"):
        # The mail catcher binds where it is told: the node address itself, SMTP on the usual 1025.
        mail = ManagedProcess(
            "mail-catcher",
            [
                sys.executable, "-m", "gigstack_testinfra.mailcatcher", "--host", NODE_IP,
                "--smtp-port", str(STORE_SERVICES["mailpit"]), "--http-port", str(ports.mail_web),
                "--data-dir", str(STATE / "mail"),
            ],
            log_path=STATE / "logs" / "mail-catcher.log",
            detached=True,
        )  # fmt: skip
        (STATE / "mail").mkdir(exist_ok=True)
        mail.start()
        _record("mailpit", [mail.pid])
        deadline = time.monotonic() + 30
        while not port_is_open(STORE_SERVICES["mailpit"], NODE_IP):
            if time.monotonic() > deadline:
                raise SystemExit("the mail catcher did not listen")
            time.sleep(0.2)
    mariadb = MariaDBServer(STATE / "mariadb", ports.mariadb)
    postgres = PostgresServer(STATE / "postgres", ports.postgres)
    for service in REGISTRY:
        # A second `up`: the databases and the bucket are there already.
        if service.exists and "mysql" in service.stores:
            with contextlib.suppress(Exception):
                isolation.create_mariadb_database(mariadb.endpoint, relational_database(service.name))
        if service.exists and "postgres" in service.stores:
            with contextlib.suppress(Exception):
                isolation.create_postgres_database(postgres.endpoint, relational_database(service.name))
    with contextlib.suppress(Exception):
        create_bucket(S3ProxyServer(STATE / "s3proxy", ports.s3proxy).endpoint, MINIKUBE_MEDIA_BUCKET)
    return ports


def _keys() -> dict[str, str]:
    keys = STATE / "keys.json"
    if not keys.exists():
        private_pem, public_pem = generate_ed25519_pem_pair()
        values = {
            "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
            "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
            "ACCESS_TOKEN_SECRET": secrets.token_urlsafe(48),
            # The local payment provider signs its webhooks with it (no Stripe key on this cluster).
            "PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "REDIS_PASSWORD_ADMIN": secrets.token_urlsafe(24),
            **{f"REDIS_PASSWORD_{s.name}": secrets.token_urlsafe(24) for s in redis_services(REGISTRY)},
        }
        keys.write_text(json.dumps(values))
        keys.chmod(0o600)
    loaded: dict[str, str] = json.loads(keys.read_text())
    return loaded


def service_secrets() -> dict[str, dict[str, str]]:
    """`{service: {VARIABLE: value}}` for the services that exist, with the keys of the platform contract."""
    keys = _keys()
    data = f"{DATA_NAMESPACE}.svc.cluster.local"
    mariadb = f"mysql+asyncmy://gigstack:gigstack-local-only@mariadb.{data}:3306"
    postgres_account = PostgresServer(STATE / "postgres", 0).endpoint
    postgres = (
        f"postgresql+asyncpg://{postgres_account.user}:{postgres_account.password}@postgres.{data}:5432"
    )
    values: dict[str, dict[str, str]] = {}
    for service in REGISTRY:
        if not service.exists:
            continue
        entries = {"AMQP_URL": f"amqp://guest:guest@rabbitmq.{data}:5672/%2F"}
        if "mysql" in service.stores:
            entries["DATABASE_URL"] = f"{mariadb}/{relational_database(service.name)}"
        if "postgres" in service.stores:
            entries["DATABASE_URL"] = f"{postgres}/{relational_database(service.name)}"
        if "redis" in service.stores:
            password = keys[f"REDIS_PASSWORD_{service.name}"]
            entries["REDIS_URL"] = (
                f"redis://{service.name}:{password}@redis.{data}:6379/{service.redis_database}"
            )
        if "mongodb" in service.stores:
            entries["MONGODB_URL"] = f"mongodb://mongodb.{data}:27017/{service.name}"
        if "search" in service.stores:
            entries["SEARCH_URL"] = f"http://search.{data}:9200"
        if service.sends_mail:
            entries.update(SMTP_USERNAME="", SMTP_PASSWORD="")  # the mail catcher takes plain SMTP
        if service.name in MEDIA_SERVICES:
            entries["OBJECT_STORE_BUCKET"] = MINIKUBE_MEDIA_BUCKET
        if service.name == "order":
            entries.update(STRIPE_SECRET_KEY="", PAYMENT_WEBHOOK_SECRET=keys["PAYMENT_WEBHOOK_SECRET"])
        if service.name == "gateway":
            entries["INTERNAL_TOKEN_PRIVATE_KEY"] = keys["INTERNAL_TOKEN_PRIVATE_KEY"]
            entries["ACCESS_TOKEN_SECRET"] = keys["ACCESS_TOKEN_SECRET"]
        if sorted(entries) != secret_keys(service.name):
            raise SystemExit(
                f"{service.name}: keys {sorted(entries)} != contract {secret_keys(service.name)}"
            )
        values[service.name] = entries
    return values


def cluster_objects() -> list[dict[str, object]]:
    objects: list[dict[str, object]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": SERVICES_NAMESPACE, "labels": RESTRICTED},
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": DATA_NAMESPACE, "labels": RESTRICTED},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "internal-token-public-key", "namespace": SERVICES_NAMESPACE},
            "data": {"INTERNAL_TOKEN_PUBLIC_KEY": _keys()["INTERNAL_TOKEN_PUBLIC_KEY"]},
        },
    ]
    store_keys = S3ProxyServer(STATE / "s3proxy", 0).endpoint
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": OBJECT_STORE_CREDENTIALS_SECRET, "namespace": SERVICES_NAMESPACE},
            "type": "Opaque",
            # s3proxy's one identity (gigstack_testinfra.servers.s3proxy), as minikube's generated pair.
            "stringData": {
                "OBJECT_STORE_ACCESS_KEY_ID": store_keys.access_key,
                "OBJECT_STORE_SECRET_ACCESS_KEY": store_keys.secret_key,
            },
        }
    )
    for service, entries in service_secrets().items():
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"{service}-secrets", "namespace": SERVICES_NAMESPACE},
                "type": "Opaque",
                "stringData": entries,
            }
        )
    for name, port in STORE_SERVICES.items():
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "gigstack"}
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": DATA_NAMESPACE, "labels": labels},
                "spec": {"ports": [{"name": "tcp", "port": port, "targetPort": port, "protocol": "TCP"}]},
            }
        )
        objects.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{name}-host",
                    "namespace": DATA_NAMESPACE,
                    "labels": {
                        "kubernetes.io/service-name": name,
                        "endpointslice.kubernetes.io/managed-by": "gigstack-cluster",
                    },
                },
                "addressType": "IPv4",
                "endpoints": [{"addresses": [NODE_IP], "conditions": {"ready": True}}],
                "ports": [{"name": "tcp", "port": port, "protocol": "TCP"}],
            }
        )
    return objects


def apply_objects() -> None:
    kubeconfig = RUN / "admin.kubeconfig"
    document = {"apiVersion": "v1", "kind": "List", "items": cluster_objects()}
    subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), "apply", "--server-side", "--force-conflicts",
         "--field-manager=gigstack-platform", "-f", "-"],
        input=json.dumps(document).encode(),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )  # fmt: skip


def down() -> None:
    pid_dir = STATE / "pids"
    if pid_dir.exists():
        for path in sorted(pid_dir.glob("*.pid"), key=lambda p: not p.stem.startswith("relay-")):
            for pid in path.read_text().split():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(pid), signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(_alive(p.stem) for p in pid_dir.glob("*.pid")) and time.monotonic() < deadline:
            time.sleep(0.25)
        for path in pid_dir.glob("*.pid"):
            for pid in path.read_text().split():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(pid), signal.SIGKILL)
    shutil.rmtree(STATE, ignore_errors=True)


def _rss_mib(pid: int) -> int:
    """Resident memory of a process and its descendants (OpenSearch's JVM, RabbitMQ's beam are children)."""
    result = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=True)
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for line in result.stdout.splitlines():
        child, parent, kib = (int(field) for field in line.split())
        children.setdefault(parent, []).append(child)
        rss[child] = kib
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total // 1024


def status() -> None:
    total = 0
    for path in sorted((STATE / "pids").glob("*.pid")):
        pids = [int(p) for p in path.read_text().split()]
        mib = sum(_rss_mib(pid) for pid in pids)
        total += mib
        print(f"  {path.stem:<22} {'running' if _alive(path.stem) else 'dead'} (RSS {mib} MiB)")
    print(f"  {'stores':<22} RSS {total} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "status", "objects"])
    args = parser.parse_args()
    if args.command == "up":
        start_stores()
        apply_objects()
        print("  stores                 up; Services in gigstack-data, Secrets in gigstack")
    elif args.command == "status":
        status()
    elif args.command == "objects":
        json.dump(cluster_objects(), sys.stdout, indent=1)
    else:
        down()


if __name__ == "__main__":
    main()
