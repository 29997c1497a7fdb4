"""Configs generated from observability/ pass the engines' checks; test rules are the real ones, faster."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from scripts.devstack.observability.configs import (  # noqa: E402
    DEV_TIMING,
    RULE_SOURCES,
    TEST_TIMING,
    ScrapeTarget,
    Timing,
    duration_seconds,
    shortened_rules,
    write_configs,
)
from scripts.devstack.observability.engines import built_binary, debian_binary  # noqa: E402
from scripts.devstack.observability.ports import EnginePorts  # noqa: E402

RANGE = re.compile(r"\[((?:\d+[smhdw])+)\]")
SOURCE_RULES = sorted(RULE_SOURCES.glob("*.yaml"))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, env=env)


def _rules(text: str) -> list[dict[str, str]]:
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def _windows(rule: dict[str, str]) -> list[int]:
    return [duration_seconds(d) for d in RANGE.findall(rule["expr"])] + (
        [duration_seconds(rule["for"])] if "for" in rule else []
    )


def _shortening_errors(source: str, generated: str, divisor: int) -> list[str]:
    errors = []
    for original, short in zip(_rules(source), _rules(generated), strict=True):
        name = original.get("alert") or original.get("record")
        same_rule = name == (short.get("alert") or short.get("record"))
        if not same_rule or original.get("labels") != short.get("labels"):
            errors.append(f"{name}: not the same rule")
        if [max(1, w // divisor) for w in _windows(original)] != _windows(short):
            errors.append(f"{name}: windows {_windows(original)} became {_windows(short)}")
    return errors


@pytest.mark.parametrize("source", SOURCE_RULES, ids=[p.name for p in SOURCE_RULES])
def test_test_rules_are_the_source_rules_with_every_window_divided(source: Path, tmp_path: Path) -> None:
    generated = shortened_rules(source.read_text(), TEST_TIMING.time_divisor)
    assert _shortening_errors(source.read_text(), generated, TEST_TIMING.time_divisor) == []
    (tmp_path / source.name).write_text(generated)
    checked = _run(debian_binary("promtool"), "check", "rules", str(tmp_path / source.name))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_window_check_notices_a_window_left_long() -> None:
    source = SOURCE_RULES[0].read_text()
    generated = shortened_rules(source, TEST_TIMING.time_divisor).replace("[120s]", "[1h]", 1)
    assert _shortening_errors(source, generated, TEST_TIMING.time_divisor) != []


def test_make_up_uses_the_rules_exactly_as_written() -> None:
    source = SOURCE_RULES[0].read_text()
    assert shortened_rules(source, DEV_TIMING.time_divisor) == source


@pytest.mark.parametrize("timing", [DEV_TIMING, TEST_TIMING], ids=["make-up", "tests"])
def test_generated_configs_pass_the_engines_own_checks(timing: Timing, tmp_path: Path) -> None:
    configs = write_configs(
        tmp_path,
        EnginePorts(),
        [ScrapeTarget("gateway", 8000, is_service=True)],
        smarthost="127.0.0.1:1025",
        service_logs=[tmp_path / "gateway.log"],
        timing=timing,
    )
    prometheus = _run(debian_binary("promtool"), "check", "config", str(configs.prometheus))
    assert prometheus.returncode == 0, prometheus.stdout + prometheus.stderr
    alertmanager = _run(debian_binary("amtool"), "check-config", str(configs.alertmanager))
    assert alertmanager.returncode == 0, alertmanager.stdout + alertmanager.stderr
    collector_args = [f"--config={path}" for path in configs.collector]
    jaeger = {"TRACES_OTLP_ENDPOINT": "http://127.0.0.1:14318", "PATH": "/usr/bin:/bin"}
    collector = _run(built_binary("otelcol"), "validate", *collector_args, env=jaeger)
    assert collector.returncode == 0, collector.stdout + collector.stderr


def test_every_service_target_carries_the_label_the_availability_alert_selects(tmp_path: Path) -> None:
    configs = write_configs(
        tmp_path,
        EnginePorts(),
        [ScrapeTarget("auth", 8001, is_service=True)],
        smarthost="127.0.0.1:1025",
        service_logs=[],
        timing=DEV_TIMING,
    )
    jobs = {job["job_name"]: job for job in yaml.safe_load(configs.prometheus.read_text())["scrape_configs"]}
    assert jobs["auth"]["static_configs"][0]["labels"] == {"namespace": "gigstack", "service": "auth"}
