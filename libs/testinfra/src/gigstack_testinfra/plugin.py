"""pytest plugin: fixtures backed by real servers, started lazily once per session and isolated per test.

Function-scoped URL fixtures each get a fresh namespace (database, vhost, Redis db index, Mongo database,
OpenSearch index prefix, S3 bucket) that is removed afterwards. Session-scoped objects let tests crash and
restart the broker or take the SMTP catcher down for a while.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import pytest

from . import isolation, object_store
from .backends import Backend, BrokerControl, choose_backend
from .endpoints import ObjectStoreEndpoint, OpenSearchEndpoint, RedisEndpoint
from .keys import generate_ed25519_pem_pair
from .mail import MailCatcher
from .processes import processes_alive_since

_test_started_at = pytest.StashKey[float]()


def _cleanup(what: str, action: Callable[[], None]) -> None:
    # The whole server is thrown away at session end, so a failed cleanup must not fail the test.
    try:
        action()
    except Exception as exc:
        warnings.warn(f"gigstack_testinfra: could not remove {what}: {exc!r}", stacklevel=2)


# --- session-scoped servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gigstack_backend() -> Iterator[Backend]:
    backend = choose_backend()
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="session")
def rabbitmq_server(gigstack_backend: Backend) -> BrokerControl:
    """The shared broker: ``.stop()``, ``.start()`` (same ports, data kept), ``.kill()`` (SIGKILL)."""
    return gigstack_backend.rabbitmq()


@pytest.fixture(scope="session")
def internal_keypair() -> tuple[str, str]:
    """(private_pem, public_pem) Ed25519 pair for internal tokens."""
    return generate_ed25519_pem_pair()


@pytest.fixture(scope="session")
def _mail_catcher_session() -> Iterator[MailCatcher]:
    catcher = MailCatcher.for_tests()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.discard()


@pytest.fixture(scope="session")
def stripe_mock_url() -> Iterator[str]:
    """Base URL of a stripe-mock server (request-shape checks for Stripe adapters), one per session."""
    from gigstack_testinfra.stripe_mock import running_stripe_mock

    with running_stripe_mock() as url:
        yield url


@pytest.fixture(scope="session")
def _redis_databases(gigstack_backend: Backend) -> isolation.RedisDatabaseAllocator:
    return isolation.RedisDatabaseAllocator(gigstack_backend.redis())


@pytest.fixture(scope="session")
def _opensearch_endpoint(gigstack_backend: Backend) -> OpenSearchEndpoint:
    return gigstack_backend.opensearch()


@pytest.fixture(scope="session")
def _object_store_endpoint(gigstack_backend: Backend) -> ObjectStoreEndpoint:
    return gigstack_backend.object_store()


@dataclass(frozen=True)
class RedisWithServiceUsers:
    """A redis-server running the registry's ACL file: `default` off, `admin`, one user per service."""

    admin: RedisEndpoint
    passwords: dict[str, str]
    allocator: isolation.RedisDatabaseAllocator

    def url(self, service: str, db: int | None = None) -> str:
        """A URL as `service`'s own Redis user, on a fresh db index unless one is given."""
        index = self.allocator.allocate() if db is None else db
        return self.admin.as_user(service, self.passwords[service]).url(index)


@pytest.fixture(scope="session")
def redis_with_service_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisWithServiceUsers]:
    """Its own redis-server process (whatever the backend), so the ACLs under test are the real ones."""
    from gigstack_registry import load_registry  # the repository's registry: only this fixture needs it
    from gigstack_registry.redis_acl import acl_file, redis_services

    from .net import free_port
    from .servers.redis import RedisServer

    registry = load_registry()
    passwords = {service.name: secrets.token_urlsafe(24) for service in redis_services(registry)}
    admin_password = secrets.token_urlsafe(24)
    server = RedisServer(
        tmp_path_factory.mktemp("redis-acl"),
        free_port(),
        acl=acl_file(registry, passwords, admin_password=admin_password),
        admin=("admin", admin_password),
    )
    server.start()
    try:
        endpoint = server.endpoint
        yield RedisWithServiceUsers(endpoint, passwords, isolation.RedisDatabaseAllocator(endpoint))
    finally:
        server.stop()


# --- function-scoped, isolated namespaces -------------------------------------------------------------------


@pytest.fixture
def postgres_url(gigstack_backend: Backend) -> Iterator[str]:
    """``postgresql+asyncpg://`` URL of a fresh database, dropped after the test."""
    endpoint = gigstack_backend.postgres()
    name = isolation.unique_name()
    isolation.create_postgres_database(endpoint, name)
    yield endpoint.url(name)
    _cleanup(f"postgres database {name}", lambda: isolation.drop_postgres_database(endpoint, name))


@pytest.fixture
def mariadb_url(gigstack_backend: Backend) -> Iterator[str]:
    """``mysql+asyncmy://`` URL of a fresh database, dropped after the test."""
    endpoint = gigstack_backend.mariadb()
    name = isolation.unique_name()
    isolation.create_mariadb_database(endpoint, name)
    yield endpoint.url(name)
    _cleanup(f"mariadb database {name}", lambda: isolation.drop_mariadb_database(endpoint, name))


@pytest.fixture
def redis_url(_redis_databases: isolation.RedisDatabaseAllocator) -> str:
    """``redis://`` URL of a db index flushed just before the test."""
    return _redis_databases.endpoint.url(_redis_databases.allocate())


@pytest.fixture
def amqp_url(rabbitmq_server: BrokerControl) -> Iterator[str]:
    """``amqp://`` URL of a fresh vhost, deleted afterwards; restarts the broker if a test left it down."""
    rabbitmq_server.start()
    endpoint = rabbitmq_server.endpoint
    vhost = isolation.unique_name()
    isolation.create_vhost(endpoint, vhost)
    yield endpoint.url(vhost)

    def delete() -> None:
        rabbitmq_server.start()
        isolation.delete_vhost(endpoint, vhost)

    _cleanup(f"rabbitmq vhost {vhost}", delete)


@pytest.fixture
def mongodb_url(gigstack_backend: Backend) -> Iterator[str]:
    """``mongodb://host:port/<database>`` (FerretDB locally); the database is dropped after the test."""
    endpoint = gigstack_backend.mongodb()
    name = isolation.unique_name()
    yield endpoint.url(name)
    _cleanup(f"mongo database {name}", lambda: isolation.drop_mongo_database(endpoint, name))


@pytest.fixture
def opensearch_url(_opensearch_endpoint: OpenSearchEndpoint) -> str:
    """Base URL of the shared OpenSearch node; combine with ``opensearch_index_prefix``."""
    return _opensearch_endpoint.url


@pytest.fixture
def opensearch_index_prefix(_opensearch_endpoint: OpenSearchEndpoint) -> Iterator[str]:
    """A prefix (``test_<hex>_``) for this test's index names; matching indices are deleted after."""
    prefix = f"{isolation.unique_name()}_"
    yield prefix
    _cleanup(
        f"opensearch indices {prefix}*",
        lambda: isolation.delete_indices_with_prefix(_opensearch_endpoint, prefix),
    )


@pytest.fixture
def object_store_bucket(
    _object_store_endpoint: ObjectStoreEndpoint,
) -> Iterator[object_store.ObjectStoreBucket]:
    """This test's own empty bucket in the shared s3proxy (S3 API, signatures checked); removed after."""
    bucket = object_store.unique_bucket_name()
    object_store.create_bucket(_object_store_endpoint, bucket)
    yield object_store.ObjectStoreBucket(_object_store_endpoint, bucket)
    _cleanup(
        f"object store bucket {bucket}",
        lambda: object_store.delete_bucket(_object_store_endpoint, bucket),
    )


@pytest.fixture
def mail_catcher(_mail_catcher_session: MailCatcher) -> MailCatcher:
    """The SMTP catcher, running and empty at the start of the test."""
    _mail_catcher_session.start()
    _mail_catcher_session.clear()
    return _mail_catcher_session


# --- service logs in failure reports ------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_test_started_at] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not getattr(report, "failed", False):
        return
    started_at = item.stash.get(_test_started_at, None)
    if started_at is None:
        return
    for process in processes_alive_since(started_at):
        report.sections.append((f"service log: {process.name} ({process.log_path})", process.log_tail()))
