"""Redis ACL users, one per service that owns Redis, derived from the registry.

The one definition every environment applies: the local dev stack and the test servers write it into an ACL
file, minikube mounts it from a Secret, and on eks the Pulumi program turns the same key pattern and command
list into ElastiCache RBAC users (whose access strings use the same syntax).

A service's user may touch only keys and pub/sub channels under its `redis_key_prefix` and run only data
commands: no FLUSHALL/FLUSHDB, CONFIG, KEYS, DEBUG, MODULE, ACL, SHUTDOWN (everything `@dangerous` or
`@admin`). Database indices are not a security boundary in Redis (SELECT cannot be limited per index), so the
key prefix is; the index remains only as a tidy separation. The `default` user is disabled.
"""

from __future__ import annotations

from collections.abc import Mapping

from gigstack_registry.model import Registry, Service

__all__ = ["SERVICE_COMMANDS", "access_string", "acl_file", "redis_services", "service_acl_user"]

# Categories first, exclusions after (rules apply left to right). @scripting is needed for the Lua scripts
# (session rotation, rate limits), whose key accesses Redis checks against the same key patterns; FUNCTION
# and SCRIPT FLUSH/KILL would let one user break every other user's scripts. @pubsub is the gateway's
# Socket.IO manager (replicas reach each other's sockets over a channel under the same prefix, `gw:realtime`);
# channel patterns limit it like key patterns do.
SERVICE_COMMANDS = (
    "-@all +@read +@write +@keyspace +@scripting +@transaction +@connection +@pubsub "
    "-@dangerous -@admin -function -script|flush -script|kill"
)


def redis_services(registry: Registry) -> list[Service]:
    return [service for service in registry.services if service.redis_key_prefix is not None]


def access_string(service: Service) -> str:
    """Key/channel patterns and commands (ACL SETUSER and ElastiCache `AccessString` syntax)."""
    if service.redis_key_prefix is None:
        raise ValueError(f"{service.name} owns no Redis")
    prefix = service.redis_key_prefix
    return f"~{prefix}* &{prefix}* {SERVICE_COMMANDS}"


def service_acl_user(service: Service, password: str) -> str:
    """One `user` line of an ACL file: enabled, one password, the service's access string."""
    _check_password(password)
    return f"user {service.name} on resetkeys resetchannels >{password} {access_string(service)}"


def acl_file(registry: Registry, passwords: Mapping[str, str], *, admin_password: str) -> str:
    """An ACL file: `default` disabled, an `admin` user for operators and test fixtures, one user a service.

    `passwords` maps each Redis-owning service to its password (a missing one is an error, not a gap).
    """
    _check_password(admin_password)
    lines = [
        "user default off resetkeys resetchannels -@all",
        f"user admin on >{admin_password} ~* &* +@all",
    ]
    for service in redis_services(registry):
        if service.name not in passwords:
            raise ValueError(f"no Redis password for {service.name}")
        lines.append(service_acl_user(service, passwords[service.name]))
    return "\n".join(lines) + "\n"


def _check_password(password: str) -> None:
    # An ACL file line is split on spaces; a password with whitespace or a leading '>' would change the rule.
    if len(password) < 16 or any(character.isspace() for character in password):
        raise ValueError("Redis passwords must be at least 16 characters without whitespace")
