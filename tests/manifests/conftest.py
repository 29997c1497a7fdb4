"""Fixtures for the manifest checks: renderings of the real checkout and disposable copies to break."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# The check modules sit beside the tests; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from manifest_toolkit import (
    ENVIRONMENTS,
    REPO_ROOT,
    Manifest,
    copy_repo,
    render_argocd,
    render_environment,
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(REPO_ROOT)


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    """Both overlays of the real checkout, rendered once per session."""
    renderings: dict[str, list[Manifest]] = {env: render_environment(REPO_ROOT, env) for env in ENVIRONMENTS}
    return renderings


@pytest.fixture(scope="session")
def rendered_argocd() -> list[Manifest]:
    docs: list[Manifest] = render_argocd(REPO_ROOT)
    return docs


@pytest.fixture
def broken_copy(tmp_path: Path) -> Callable[[str, Callable[[str], str]], Path]:
    """A fresh copy of the repository's manifests with one file edited by the test (a planted defect)."""

    def plant(relative_path: str, edit: Callable[[str], str]) -> Path:
        root: Path = copy_repo(tmp_path / "repo")
        target = root / relative_path
        original = target.read_text() if target.exists() else ""
        changed = edit(original)
        assert changed != original, f"the planted defect did not change {relative_path}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(changed)
        return root

    return plant
