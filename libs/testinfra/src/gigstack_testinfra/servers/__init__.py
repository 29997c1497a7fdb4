"""Launchers for local server processes, shared by the pytest plugin and ``make up`` (scripts/devstack.py).

Each launcher takes a directory and fixed ports, so the same code serves throwaway test servers (temporary
directory, free ports) and the persistent development stack (``.local/``, well-known ports).
"""

from gigstack_testinfra.servers.base import LocalServer, ServerStartError
from gigstack_testinfra.servers.ferretdb import FerretDBServer
from gigstack_testinfra.servers.mariadb import MariaDBServer
from gigstack_testinfra.servers.opensearch import OpenSearchServer
from gigstack_testinfra.servers.postgres import PostgresServer
from gigstack_testinfra.servers.rabbitmq import RabbitMQServer
from gigstack_testinfra.servers.redis import RedisServer

__all__ = [
    "FerretDBServer",
    "LocalServer",
    "MariaDBServer",
    "OpenSearchServer",
    "PostgresServer",
    "RabbitMQServer",
    "RedisServer",
    "ServerStartError",
]
