"""Where the servers come from: containers when a Docker engine answers, otherwise local processes."""

from __future__ import annotations

import os

from .base import Backend, BrokerControl

BACKEND_ENV = "GIGSTACK_TEST_BACKEND"


def docker_is_reachable() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def choose_backend() -> Backend:
    """``GIGSTACK_TEST_BACKEND=local|containers`` forces a choice; otherwise Docker decides."""
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced not in ("", "auto", "local", "containers"):
        raise ValueError(f"{BACKEND_ENV} must be local, containers or auto, not {forced!r}")
    if forced == "containers" or (forced in ("", "auto") and docker_is_reachable()):
        from gigstack_testinfra.backends.containers import ContainerBackend

        return ContainerBackend()
    from gigstack_testinfra.backends.local import LocalBackend

    return LocalBackend()


__all__ = ["BACKEND_ENV", "Backend", "BrokerControl", "choose_backend", "docker_is_reachable"]
