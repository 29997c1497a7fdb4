"""yamllint is clean on every YAML source this delivery piece owns; a planted defect is reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from policy_scan import yamllint_problems


def test_yaml_sources_are_lint_clean(repo_root: Path) -> None:
    assert yamllint_problems(repo_root) == []


def test_planted_duplicate_key_is_reported(broken_copy: Callable[[str, Callable[[str], str]], Path]) -> None:
    root = broken_copy(
        "gitops/base/services/auth/configmap.yaml",
        lambda text: text.replace(
            '  OTP_TTL_SECONDS: "600"\n', '  OTP_TTL_SECONDS: "600"\n  OTP_TTL_SECONDS: "60"\n'
        ),
    )
    problems = yamllint_problems(root)
    assert any("key-duplicates" in problem and "auth/configmap.yaml" in problem for problem in problems), (
        problems
    )
