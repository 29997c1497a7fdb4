"""The delivery pipeline definitions pass actionlint (they cannot run here, so they are at least linted)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from policy_scan import actionlint_executable, actionlint_problems

Plant = Callable[[str, Callable[[str], str]], Path]


@pytest.fixture(scope="module")
def actionlint() -> Path:
    executable: Path | None = actionlint_executable()
    if executable is None:
        pytest.fail("actionlint could not be built: every machine of this kind has Go (go install)")
    return executable


def test_workflows_pass_actionlint(repo_root: Path, actionlint: Path) -> None:
    assert sorted(path.name for path in (repo_root / ".github" / "workflows").glob("*.yaml")) == [
        "ci.yaml",
        "deliver.yaml",
    ]
    assert actionlint_problems(repo_root, actionlint) == []


def test_planted_broken_job_graph_is_reported(broken_copy: Plant, actionlint: Path) -> None:
    root = broken_copy(
        ".github/workflows/deliver.yaml", lambda text: text.replace("needs: push\n", "needs: pushh\n")
    )
    problems = actionlint_problems(root, actionlint)
    assert any("pushh" in problem for problem in problems), problems
