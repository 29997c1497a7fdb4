"""The service registry: a typed view of `services/registry.toml`, the one list of Gigstack's services.

Everything that names services (the dev stack, the platform, and the checks in tests/registry) reads the list
from here instead of keeping its own copy (docs/adr/0013-service-registry.md). Standard library only, so the
Pulumi program and the dev stack can import it without pulling in a service's dependencies.
"""

from gigstack_registry.model import (
    STORE_KINDS,
    Registry,
    RegistryError,
    Service,
    routing_key_matches,
)
from gigstack_registry.reader import REGISTRY_FILE, REPO_ROOT, load_registry, parse_registry

__all__ = [
    "REGISTRY_FILE",
    "REPO_ROOT",
    "STORE_KINDS",
    "Registry",
    "RegistryError",
    "Service",
    "load_registry",
    "parse_registry",
    "routing_key_matches",
]
