"""Backend selection: forced by GIGSTACK_TEST_BACKEND, otherwise containers only when Docker answers."""

from __future__ import annotations

import pytest
from gigstack_testinfra import backends
from gigstack_testinfra.backends.containers import ContainerBackend
from gigstack_testinfra.backends.local import LocalBackend


def test_local_when_docker_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backends.BACKEND_ENV, raising=False)
    monkeypatch.setattr(backends, "docker_is_reachable", lambda: False)
    backend = backends.choose_backend()
    try:
        assert isinstance(backend, LocalBackend)
    finally:
        backend.close()


def test_containers_when_docker_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.BACKEND_ENV, "auto")
    monkeypatch.setattr(backends, "docker_is_reachable", lambda: True)
    assert isinstance(backends.choose_backend(), ContainerBackend)


def test_forced_local_ignores_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.BACKEND_ENV, "local")
    monkeypatch.setattr(backends, "docker_is_reachable", lambda: True)
    backend = backends.choose_backend()
    try:
        assert isinstance(backend, LocalBackend)
    finally:
        backend.close()


def test_unknown_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.BACKEND_ENV, "kubernetes")
    with pytest.raises(ValueError, match="GIGSTACK_TEST_BACKEND"):
        backends.choose_backend()


def test_docker_probe_is_false_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    # Points the client at a socket nobody serves: the probe must answer False, not raise.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert backends.docker_is_reachable() is False
