"""The live observability tier: one stack (gateway, auth, notification) with the real engines watching it.

Module-scoped, because the engines take a while to start and the tests follow one story: healthy traffic
first (targets up, one trace per signup, no alert), then injected faults (alerts fire, reach the receiver,
resolve). The engines run on free ports with the rule windows shortened (``TEST_TIMING``), from the same
generator ``make up`` uses.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend, BrokerControl
from gigstack_testinfra.endpoints import OpenSearchEndpoint
from gigstack_testinfra.mail import MailCatcher

REPO_ROOT = Path(__file__).resolve().parents[2]
# importlib import mode puts neither the repository root (scripts.devstack) nor tests/e2e (stack) on sys.path.
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests" / "e2e"), str(Path(__file__).resolve().parent)]

from live_stack import LiveStack  # noqa: E402
from stack import running_stack  # noqa: E402

from scripts.devstack.observability.configs import TEST_TIMING, ScrapeTarget, write_configs  # noqa: E402
from scripts.devstack.observability.engines import ObservabilityEngines  # noqa: E402
from scripts.devstack.observability.ports import EnginePorts  # noqa: E402

RESEND_DELAY = "2s"


@pytest.fixture(scope="module")
def _live_namespaces(
    gigstack_backend: Backend,
    rabbitmq_server: BrokerControl,
    _redis_databases: isolation.RedisDatabaseAllocator,
    _opensearch_endpoint: OpenSearchEndpoint,
) -> Iterator[tuple[str, str, str, str]]:
    """(mariadb_url, redis_url, amqp_url, log index) for the module, removed afterwards."""
    mariadb = gigstack_backend.mariadb()
    database = isolation.unique_name()
    isolation.create_mariadb_database(mariadb, database)
    rabbitmq_server.start()
    vhost = isolation.unique_name()
    isolation.create_vhost(rabbitmq_server.endpoint, vhost)
    index = f"{isolation.unique_name()}_logs"
    redis_url = _redis_databases.endpoint.url(_redis_databases.allocate())
    yield mariadb.url(database), redis_url, rabbitmq_server.endpoint.url(vhost), index
    isolation.drop_mariadb_database(mariadb, database)
    isolation.delete_vhost(rabbitmq_server.endpoint, vhost)
    isolation.delete_indices_with_prefix(_opensearch_endpoint, index)


@pytest.fixture(scope="module")
async def live(
    _live_namespaces: tuple[str, str, str, str],
    _mail_catcher_session: MailCatcher,
    _opensearch_endpoint: OpenSearchEndpoint,
    internal_keypair: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveStack]:
    mariadb_url, redis_url, amqp_url, index = _live_namespaces
    directory = tmp_path_factory.mktemp("observability")
    ports = EnginePorts.free()
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports.otlp_http}"}
    _mail_catcher_session.start()
    async with running_stack(
        mariadb_url=mariadb_url,
        redis_url=redis_url,
        amqp_url=amqp_url,
        mail_catcher=_mail_catcher_session,
        internal_keypair=internal_keypair,
        log_dir=directory / "services",
        gateway_env=tracing,
        auth_env=tracing,
        notification_env=tracing,
    ) as stack:
        services = stack.processes()
        configs = write_configs(
            directory / "config",
            ports,
            [ScrapeTarget(p.name, p.port, is_service=True) for p in services],
            smarthost=f"{_mail_catcher_session.smtp_host}:{_mail_catcher_session.smtp_port}",
            service_logs=[p.log_path for p in services],
            timing=TEST_TIMING,
        )
        engines = ObservabilityEngines(
            configs=configs,
            ports=ports,
            data_dir=directory / "data",
            log_dir=directory / "engines",
            opensearch_url=_opensearch_endpoint.url,
            log_index=index,
            resend_delay=RESEND_DELAY,
        )
        try:
            engines.start()
            # Prometheus starts last: its readiness is when the 30-second budget for `up == 1` begins.
            yield LiveStack(stack, engines, time.monotonic(), index)
        finally:
            engines.stop()
