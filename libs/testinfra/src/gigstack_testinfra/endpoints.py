"""Where a running server can be reached; identical whether it is a local process or a container."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{self.user}:{quote(self.password)}@{self.host}:{self.port}/{database}"

    def plain_url(self, database: str) -> str:
        """libpq/asyncpg style URL (no SQLAlchemy driver suffix)."""
        return f"postgresql://{self.user}:{quote(self.password)}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class MariaDBEndpoint:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str, driver: str = "asyncmy") -> str:
        return f"mysql+{driver}://{self.user}:{quote(self.password)}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class RedisEndpoint:
    host: str
    port: int
    databases: int
    # Set when the server runs with an ACL file (the `default` user disabled).
    username: str | None = None
    password: str | None = None

    def url(self, db: int = 0) -> str:
        if self.username is None:
            return f"redis://{self.host}:{self.port}/{db}"
        credentials = f"{quote(self.username)}:{quote(self.password or '', safe='')}@"
        return f"redis://{credentials}{self.host}:{self.port}/{db}"

    def as_user(self, username: str, password: str) -> RedisEndpoint:
        return RedisEndpoint(self.host, self.port, self.databases, username, password)


@dataclass(frozen=True)
class RabbitMQEndpoint:
    host: str
    amqp_port: int
    management_port: int
    user: str
    password: str

    def url(self, vhost: str = "/") -> str:
        credentials = f"{self.user}:{quote(self.password)}"
        return f"amqp://{credentials}@{self.host}:{self.amqp_port}/{quote(vhost, safe='')}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.management_port}"


@dataclass(frozen=True)
class MongoEndpoint:
    host: str
    port: int

    def url(self, database: str) -> str:
        return f"mongodb://{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class OpenSearchEndpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class MailCatcherEndpoint:
    host: str
    smtp_port: int
    http_port: int

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"


@dataclass(frozen=True)
class ObjectStoreEndpoint:
    """An S3-compatible store (s3proxy locally) and the one key pair it accepts."""

    host: str
    port: int
    access_key: str
    secret_key: str
    region: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
