"""What the registry says about a service, and the rules an entry must follow."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

_Value = TypeVar("_Value", str, int)

# The stores a service can own. The RabbitMQ bus is not one: it is shared, and a service uses it when it
# consumes or produces events.
STORE_KINDS = ("postgres", "mysql", "redis", "mongodb", "search")


class RegistryError(ValueError):
    """services/registry.toml breaks one of the registry's rules."""


@dataclass(frozen=True)
class Service:
    name: str
    exists: bool
    port: int
    stores: tuple[str, ...] = ()
    redis_database: int | None = None
    # Every Redis key (and pub/sub channel) of the service starts with this; its Redis user may touch
    # nothing else (gigstack_registry.redis_acl).
    redis_key_prefix: str | None = None
    migrates: bool = False
    sends_mail: bool = False
    # Hands out or accepts media keys: gets the OBJECT_STORE_* settings and access to the one media bucket.
    uses_media: bool = False
    public_groups: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        return f"{self.name}_service"

    @property
    def uses_bus(self) -> bool:
        return bool(self.consumes or self.produces)

    @property
    def internal_api(self) -> bool:
        """The gateway calls it (it serves public groups behind the edge)."""
        return bool(self.public_groups)

    def problems(self) -> list[str]:
        found = [f"{self.name}: unknown store {store!r}" for store in self.stores if store not in STORE_KINDS]
        if ("redis" in self.stores) != (self.redis_database is not None):
            found.append(f"{self.name}: redis_database is set exactly when the service owns redis")
        if ("redis" in self.stores) != (self.redis_key_prefix is not None):
            found.append(f"{self.name}: redis_key_prefix is set exactly when the service owns redis")
        elif self.redis_key_prefix is not None and not _is_key_prefix(self.redis_key_prefix):
            found.append(f"{self.name}: redis_key_prefix must be lowercase letters ending in ':'")
        found.extend(
            f"{self.name}: produces {key!r}, which is not <{self.name}>.<aggregate>.<event>.v<major>"
            for key in self.produces
            if not _is_event_type(key, self.name)
        )
        return found


def _is_key_prefix(prefix: str) -> bool:
    # No glob characters: the prefix becomes an ACL key pattern (`~<prefix>*`).
    return prefix.endswith(":") and len(prefix) > 1 and prefix[:-1].isalpha() and prefix.islower()


def _is_event_type(key: str, producer: str) -> bool:
    words = key.split(".")
    return len(words) == 4 and words[0] == producer and words[3][:1] == "v" and words[3][1:].isdigit()


def _twice(what: str, values: list[_Value]) -> list[str]:
    return [f"{what} {value!r} is used twice" for value in sorted(set(values)) if values.count(value) > 1]


def routing_key_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: `*` is exactly one word, `#` zero or more words."""

    def match(pattern_words: list[str], key_words: list[str]) -> bool:
        if not pattern_words:
            return not key_words
        head, rest = pattern_words[0], pattern_words[1:]
        if head == "#":
            return any(match(rest, key_words[skip:]) for skip in range(len(key_words) + 1))
        return bool(key_words) and head in ("*", key_words[0]) and match(rest, key_words[1:])

    return match(pattern.split("."), key.split("."))


@dataclass(frozen=True)
class Registry:
    services: tuple[Service, ...]

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services)

    def __getitem__(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(service.name for service in self.services)

    @property
    def existing(self) -> tuple[Service, ...]:
        return tuple(service for service in self.services if service.exists)

    def owning(self, store: str) -> tuple[Service, ...]:
        return tuple(service for service in self.services if store in service.stores)

    def group_owners(self) -> dict[str, str]:
        """Public group -> the service that serves it."""
        return {group: service.name for service in self.services for group in service.public_groups}

    def problems(self) -> list[str]:
        found = [problem for service in self.services for problem in service.problems()]
        found.extend(_twice("name", [service.name for service in self.services]))
        found.extend(_twice("port", [service.port for service in self.services]))
        found.extend(_twice("group", [group for service in self.services for group in service.public_groups]))
        indexes = [service.redis_database for service in self.services if service.redis_database is not None]
        found.extend(_twice("redis_database", indexes))
        produced = [key for service in self.services for key in service.produces]
        for service in self.services:
            found.extend(
                f"{service.name}: consumes {pattern!r}, which no service produces"
                for pattern in service.consumes
                if not any(routing_key_matches(pattern, key) for key in produced)
            )
        return found
