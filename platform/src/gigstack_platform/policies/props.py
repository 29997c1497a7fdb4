"""Helpers for reading engine-level (camelCase) resource properties inside policies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

REQUIRED_TAGS = ("Project", "Stack", "Environment", "ManagedBy", "Production")


def get(props: Mapping[str, Any], *path: str) -> Any:
    """Walk nested blocks; a list block (Terraform-style) is read through its first element."""
    value: Any = props
    for key in path:
        if isinstance(value, Sequence) and not isinstance(value, str):
            value = value[0] if len(value) else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def tags(props: Mapping[str, Any]) -> Mapping[str, Any]:
    value = props.get("tags")
    return value if isinstance(value, Mapping) else {}


def is_production(props: Mapping[str, Any]) -> bool:
    return str(tags(props).get("Production", "")).lower() == "true"


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string leaf with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key in value:
            yield from strings(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
