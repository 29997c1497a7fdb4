"""The bus topology every publisher declares (servicekit.events.subscriptions) matches the registry.

A service's `consumes` in services/registry.toml and the bindings of its queues must be the same patterns:
a pattern only in the registry would leave that service's events unbound (dropped before ADR 0015, now
refused as unroutable); one only in the declaration would bind events the registry says nobody consumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gigstack_registry import load_registry
from servicekit.events import SUBSCRIPTIONS, Subscription


def topology_drift(repo_root: Path, subscriptions: Sequence[Subscription]) -> list[str]:
    problems: list[str] = []
    registry = load_registry(repo_root)
    for service in registry.existing:
        declared = {
            key
            for sub in subscriptions
            if sub.queue.split(".")[0] == service.name
            for key in sub.routing_keys
        }
        if declared != set(service.consumes):
            problems.append(
                f"{service.name}: registry consumes {sorted(service.consumes)}, "
                f"subscriptions bind {sorted(declared)}"
            )
    known = set(registry.names)
    problems += [
        f"{sub.queue}: no service of that name"
        for sub in subscriptions
        if sub.queue.split(".")[0] not in known
    ]
    return problems


def test_every_service_queue_binds_what_the_registry_says_it_consumes(repo_root: Path) -> None:
    assert topology_drift(repo_root, SUBSCRIPTIONS) == []


def test_planted_missing_binding_is_named(repo_root: Path) -> None:
    without_users = [sub for sub in SUBSCRIPTIONS if sub.queue != "users.profiles"]
    assert any(problem.startswith("users:") for problem in topology_drift(repo_root, without_users))
