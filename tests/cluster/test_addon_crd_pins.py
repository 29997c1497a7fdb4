"""The CRDs the cluster tests apply belong to the chart versions the repository pins.

scripts/cluster/addon-crds.txt maps each pinned chart to the Go module release its CRDs come from. When a
chart pin moves (platform/src/gigstack_platform/kube/charts.py, gitops/argocd/addons/*), this fails until the
table follows.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from cluster_toolkit import addon_crds
from control_plane import REPO_ROOT

CHARTS_PY = Path("platform/src/gigstack_platform/kube/charts.py")
ADDON_APPLICATIONSETS = Path("gitops/argocd/addons")
_CHART_REF = re.compile(r'ChartRef\(\s*"(?P<chart>[^"]+)",\s*"(?P<version>[^"]+)"')


def chart_pins(repo_root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Every version each chart is pinned at: the Pulumi program's ChartRefs and the addon ApplicationSets."""
    pins: dict[str, set[str]] = {}
    if (repo_root / CHARTS_PY).is_file():
        for match in _CHART_REF.finditer((repo_root / CHARTS_PY).read_text()):
            pins.setdefault(match["chart"], set()).add(match["version"])
    for path in sorted((repo_root / ADDON_APPLICATIONSETS).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            sources = _sources((doc or {}).get("spec", {}).get("template", {}).get("spec", {}))
            for source in sources:
                if "chart" in source:
                    pins.setdefault(str(source["chart"]), set()).add(str(source["targetRevision"]))
    return pins


def _sources(spec: dict[str, object]) -> list[dict[str, object]]:
    single = spec.get("source")
    many = spec.get("sources")
    found = [single] if isinstance(single, dict) else []
    if isinstance(many, list):
        found.extend(item for item in many if isinstance(item, dict))
    return found


def pin_problems(repo_root: Path = REPO_ROOT) -> list[str]:
    pins = chart_pins(repo_root)
    problems = []
    for row in addon_crds():
        pinned = pins.get(row.chart, set())
        if not pinned:
            problems.append(f"{row.addon}: chart {row.chart} is pinned nowhere; drop its row")
        elif pinned != {row.chart_version}:
            problems.append(
                f"{row.addon}: chart {row.chart} is pinned at {sorted(pinned)}, addon-crds.txt says "
                f"{row.chart_version} (module {row.module_version}); update the row to the chart's appVersion"
            )
    return problems


def test_every_addon_crd_row_matches_the_pinned_chart() -> None:
    problems = pin_problems()
    assert not problems, "\n".join(problems)


def test_a_moved_chart_pin_is_noticed(tmp_path: Path) -> None:
    for relative in (CHARTS_PY, ADDON_APPLICATIONSETS):
        source = REPO_ROOT / relative
        if source.is_dir():
            shutil.copytree(source, tmp_path / relative)
        else:
            (tmp_path / relative).parent.mkdir(parents=True)
            shutil.copy2(source, tmp_path / relative)
    charts = tmp_path / CHARTS_PY
    pinned = next(row for row in addon_crds() if row.chart == "argo-cd").chart_version
    charts.write_text(charts.read_text().replace(f'"argo-cd", "{pinned}"', '"argo-cd", "99.0.0"'))
    assert any("argo-cd" in problem and "99.0.0" in problem for problem in pin_problems(tmp_path))


def test_the_cached_crds_are_the_ones_in_the_table() -> None:
    for row in addon_crds():
        source = (row.directory / "SOURCE").read_text()
        assert f"{row.module}@{row.module_version}" in source, source
        assert (row.directory / "LICENSE").is_file()
        assert row.files(), row
