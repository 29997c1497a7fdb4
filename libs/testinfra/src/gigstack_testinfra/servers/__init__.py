"""Launchers for local server processes, shared by the pytest plugin and ``make up`` (scripts/devstack.py).

Each launcher takes a directory and fixed ports, so the same code serves throwaway test servers (temporary
directory, free ports) and the persistent development stack (``.local/``, well-known ports).
"""

from .base import LocalServer, ServerStartError
from .ferretdb import FerretDBServer
from .mariadb import MariaDBServer
from .opensearch import OpenSearchServer
from .postgres import PostgresServer
from .rabbitmq import RabbitMQServer
from .redis import RedisServer
from .s3proxy import S3ProxyServer

__all__ = [
    "FerretDBServer",
    "LocalServer",
    "MariaDBServer",
    "OpenSearchServer",
    "PostgresServer",
    "RabbitMQServer",
    "RedisServer",
    "S3ProxyServer",
    "ServerStartError",
]
