"""Reading services/registry.toml into a checked `Registry`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gigstack_registry.model import Registry, RegistryError, Service

# The workspace is installed in editable mode, so this file sits at libs/registry/src/gigstack_registry/.
REPO_ROOT = Path(__file__).resolve().parents[4]
REGISTRY_FILE = Path("services") / "registry.toml"

_TUPLE_FIELDS = ("stores", "public_groups", "consumes", "produces")
_KNOWN_FIELDS = {
    "name",
    "exists",
    "port",
    "redis_database",
    "redis_key_prefix",
    "migrates",
    "sends_mail",
    "uses_media",
    *_TUPLE_FIELDS,
}


def _service(entry: dict[str, Any]) -> Service:
    unknown = set(entry) - _KNOWN_FIELDS
    if unknown:
        raise RegistryError(f"{entry.get('name', '?')}: unknown fields {sorted(unknown)}")
    try:
        fields: dict[str, Any] = {k: tuple(v) if k in _TUPLE_FIELDS else v for k, v in entry.items()}
        return Service(**fields)
    except TypeError as error:  # a required field is missing
        raise RegistryError(f"{entry.get('name', '?')}: {error}") from error


def parse_registry(text: str) -> Registry:
    """A registry from TOML text; raises RegistryError when an entry breaks the registry's rules."""
    registry = Registry(tuple(_service(entry) for entry in tomllib.loads(text).get("service", [])))
    problems = registry.problems()
    if problems:
        raise RegistryError("; ".join(problems))
    return registry


def load_registry(repo_root: Path = REPO_ROOT) -> Registry:
    return parse_registry((repo_root / REGISTRY_FILE).read_text())
