"""Fixtures for the registry checks: the real checkout, and disposable copies with one place broken."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# The check module sits beside the tests; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
# scripts.new_service is run from the repository root (python -m); appended, so nothing in the root shadows
# an installed module.
sys.path.append(str(Path(__file__).resolve().parents[2]))

from registry_places import GATEWAY_SETTINGS

REPO_ROOT = Path(__file__).resolve().parents[2]
# Everything registry_places reads.
CHECKED_PATHS = [
    Path("services/registry.toml"),
    Path(".importlinter"),
    Path("pyproject.toml"),
    Path("compose.yaml"),
    Path("docs/contracts.md"),
    Path("gitops/base/services"),
    Path("environments/eks/kustomization.yaml"),
    Path("environments/minikube/kustomization.yaml"),
    Path("environments/local/kustomization.yaml"),
    GATEWAY_SETTINGS,
    *(path.relative_to(REPO_ROOT) for path in REPO_ROOT.glob("services/*/pyproject.toml")),
]

Plant = Callable[[str, Callable[[str], str]], Path]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def copy_checked_files(root: Path, extra: tuple[Path, ...] = ()) -> Path:
    for path in (*CHECKED_PATHS, *extra):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        if (REPO_ROOT / path).is_dir():
            shutil.copytree(REPO_ROOT / path, root / path)
        else:
            shutil.copy2(REPO_ROOT / path, root / path)
    return root


@pytest.fixture
def broken_copy(tmp_path: Path) -> Plant:
    """A copy of what the checks read, with one file edited by the test (a planted defect)."""

    def plant(relative_path: str, edit: Callable[[str], str]) -> Path:
        root = copy_checked_files(tmp_path / "repo")
        target = root / relative_path
        original = target.read_text() if target.exists() else ""
        changed = edit(original)
        assert changed != original, f"the planted defect did not change {relative_path}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(changed)
        return root

    return plant


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """What the checks read, plus what a new service is rendered from (gateway Dockerfile, components)."""
    return copy_checked_files(
        tmp_path / "repo", (Path("services/gateway/Dockerfile"), Path("gitops/components"))
    )
