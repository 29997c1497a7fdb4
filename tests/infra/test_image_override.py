"""GIGSTACK_TEST_IMAGES replaces official images for the testcontainers backend (locally built store images
where no registry is reachable); without it, the official images stay."""

from __future__ import annotations

import pytest
from gigstack_testinfra.backends.containers import IMAGES, IMAGES_ENV, image_for


def test_official_images_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IMAGES_ENV, raising=False)
    assert image_for("postgres") == IMAGES["postgres"]


def test_an_override_replaces_only_the_store_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IMAGES_ENV, "postgres=local/postgres:15, redis=local/redis:7")
    assert image_for("postgres") == "local/postgres:15"
    assert image_for("redis") == "local/redis:7"
    assert image_for("mariadb") == IMAGES["mariadb"]


@pytest.mark.parametrize("setting", ["postgress=local/postgres:15", "redis", "redis="])
def test_a_malformed_override_is_refused(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv(IMAGES_ENV, setting)
    with pytest.raises(ValueError, match=IMAGES_ENV):
        image_for("redis")
