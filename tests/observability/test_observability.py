"""Observability as code: rule files pass promtool, alerts fire as designed, dashboards only use real metrics.

Each check is also run against a planted defect to prove it can fail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OBS = REPO / "observability"
RULES = OBS / "prometheus" / "rules" / "gigstack-slo.rules.yaml"
RULE_TESTS = OBS / "prometheus" / "tests" / "gigstack-slo.test.yaml"
DASHBOARDS = sorted((OBS / "grafana" / "dashboards").glob("*.json"))
METRICS_SOURCE = REPO / "libs" / "servicekit" / "src" / "servicekit"

PROMQL_BUILTINS = {
    "sum",
    "rate",
    "increase",
    "max",
    "min",
    "avg",
    "by",
    "without",
    "histogram_quantile",
    "clamp_min",
    "and",
    "or",
    "unless",
    "label_values",
    "le",
    "on",
    "ignoring",
    "count",
    "abs",
}


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: scripts/install-deps.sh installs Debian's prometheus package")
    return path


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=120, check=False)


def test_rules_pass_promtool_check() -> None:
    result = _run(_promtool(), "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    result = _run(_promtool(), "test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_catches_a_broken_expression(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules.yaml"
    broken.write_text(RULES.read_text().replace("> (14.4 * 0.001)", "> > (14.4 * 0.001)", 1))
    assert _run(_promtool(), "check", "rules", str(broken)).returncode != 0


def test_unit_tests_catch_a_loosened_threshold(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    tests_dir = tmp_path / "tests"
    rules_dir.mkdir()
    tests_dir.mkdir()
    # A fast-burn threshold of 100x would never page on a 5% error ratio: the unit test must notice.
    (rules_dir / RULES.name).write_text(RULES.read_text().replace("(14.4 * 0.001)", "(100 * 0.001)"))
    shutil.copy(RULE_TESTS, tests_dir / RULE_TESTS.name)
    assert _run(_promtool(), "test", "rules", RULE_TESTS.name, cwd=tests_dir).returncode != 0


def _metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    without_numbers = re.sub(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b", "", without_ranges)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_numbers))
    return {n for n in names if n not in PROMQL_BUILTINS and not n.startswith("$")}


def _recorded_names() -> set[str]:
    return set(re.findall(r"record: (\S+)", RULES.read_text()))


def _exported_metric_names() -> set[str]:
    """Metric names that servicekit or a service declares (prometheus_client adds _bucket/_count/_sum/_total
    suffixes); a service's own metric (notification_smtp_paused) lives in its package."""
    service_files = [
        path
        for path in (REPO / "services").glob("*/src/*/**/*.py")
        if "prometheus_client" in path.read_text()
    ]
    source = "\n".join(p.read_text() for p in [*METRICS_SOURCE.rglob("*.py"), *service_files])
    declared = set(re.findall(r'"([a-z_]+)"', source))
    expanded = set(declared)
    for name in declared:
        expanded |= {f"{name}_bucket", f"{name}_count", f"{name}_sum", f"{name}_total"}
    return expanded


def _unknown_metrics(exprs: list[str]) -> set[str]:
    known = _exported_metric_names() | _recorded_names() | {"up"}
    used: set[str] = set()
    for expr in exprs:
        used |= _metric_names(expr)
    return used - known


def _dashboard_exprs(dashboard: dict[str, object]) -> list[str]:
    panels = dashboard["panels"]
    assert isinstance(panels, list)
    return [t["expr"] for p in panels for t in p["targets"]]


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_dashboard_is_valid_and_uses_exported_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert _unknown_metrics(_dashboard_exprs(dashboard)) == set()


def test_rules_use_exported_metrics() -> None:
    exprs = re.findall(r"expr: \|\n((?:\s{10}.*\n)+)|expr: (.+)", RULES.read_text())
    flat = [block or line for block, line in exprs]
    assert flat, "no expressions found"
    assert _unknown_metrics(flat) == set()


def test_metric_check_catches_a_misspelt_metric() -> None:
    assert _unknown_metrics(['sum(rate(http_request_totl{service="x"}[5m]))']) == {"http_request_totl"}


def test_dashboards_exist() -> None:
    assert {p.name for p in DASHBOARDS} >= {"gigstack-red.json", "gigstack-events.json"}
