"""The image build context as scripts/cluster/docker_context.py sends it: .dockerignore applied the way
current Docker applies it (Debian's docker 20.10 client drops services/*/pyproject.toml)."""

from __future__ import annotations

import sys
from pathlib import Path

from control_plane import REPO_ROOT

# scripts/ is imported from the repository root (python -m scripts...); importlib mode leaves it off sys.path.
sys.path.insert(0, str(REPO_ROOT))

from scripts.cluster.docker_context import context_files


def test_the_real_context_holds_each_service_and_no_tests() -> None:
    files = set(context_files(REPO_ROOT))
    services = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/Dockerfile"))
    assert services
    for service in services:
        assert f"services/{service}/pyproject.toml" in files
        assert any(name.startswith(f"services/{service}/src/") for name in files)
    assert "uv.lock" in files
    assert not [name for name in files if "/tests/" in name or "__pycache__" in name or name.startswith(".")]


def test_the_last_matching_pattern_wins_and_parents_carry_their_files(tmp_path: Path) -> None:
    for name in ("keep/a.py", "keep/tests/t.py", "drop/b.py", "services/x/pyproject.toml", "services/x/junk"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / ".dockerignore").write_text("**\n!keep/\n!services/*/pyproject.toml\n**/tests/\n")
    assert context_files(tmp_path) == ["keep/a.py", "services/x/pyproject.toml"]
