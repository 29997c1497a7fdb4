"""Policy and style scans: checkov on rendered manifests and Dockerfiles, yamllint on YAML sources.

checkov pulls a dependency tree that does not fit the workspace lock, so it lives in its own uv tool
environment under ~/.cache/gigstack (installed on first use, idempotently; see
scripts/validate-manifests.sh). It runs offline (--skip-download).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

CHECKOV_VERSION = "3.3.30"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.7"
TOOLS_HOME = Path.home() / ".cache" / "gigstack"
CHECKOV_TIMEOUT_SECONDS = 300
INSTALL_TIMEOUT_SECONDS = 900
YAMLLINT_TIMEOUT_SECONDS = 120
ACTIONLINT_TIMEOUT_SECONDS = 60

# What yamllint reads: every YAML source this piece owns (relative to the repository root).
YAML_SOURCES = (
    "gitops",
    "environments",
    ".github/workflows",
    "compose.yaml",
    "compose.observability.yaml",
    ".checkov.yaml",
    ".yamllint",
)


def checkov_executable() -> Path:
    """The pinned checkov, installing it as an isolated uv tool when it is missing."""
    bin_dir = TOOLS_HOME / "bin"
    executable = bin_dir / "checkov"
    if executable.is_file():
        return executable
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is needed to install checkov")
    env = {**os.environ, "UV_TOOL_DIR": str(TOOLS_HOME / "uv-tools"), "UV_TOOL_BIN_DIR": str(bin_dir)}
    subprocess.run(
        [uv, "tool", "install", "--python", "3.11", f"checkov=={CHECKOV_VERSION}"],
        env=env,
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        capture_output=True,
    )
    return executable


def write_rendered(docs_by_name: dict[str, list[dict[str, Any]]], directory: Path) -> Path:
    """One multi-document file per rendering, as checkov's kubernetes framework expects."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, docs in docs_by_name.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return directory


def checkov_failures(directory: Path, framework: str, config_file: Path) -> list[str]:
    """Failed checks (after the reviewed skip list) for every file under directory."""
    result = subprocess.run(
        [
            str(checkov_executable()),
            "--directory",
            str(directory),
            "--framework",
            framework,
            "--config-file",
            str(config_file),
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        check=False,
        # No telemetry, no network: the scan must be the same offline as in CI.
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    if not result.stdout.strip():
        raise RuntimeError(f"checkov produced no report (exit {result.returncode}): {result.stderr[-2000:]}")
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failures = []
    for report in reports:
        for check in report.get("results", {}).get("failed_checks", []):
            where = f"{check.get('resource')} ({check.get('file_path')})"
            failures.append(f"{check['check_id']} {where}: {check['check_name']}")
        if report.get("summary", {}).get("parsing_errors"):
            failures.append(f"checkov could not parse files in {directory}")
    return failures


def unexplained_skips(config_file: Path) -> list[str]:
    """Every skip-check entry must carry its reason as a comment on the same line."""
    config = yaml.safe_load(config_file.read_text())
    skipped = [str(entry) for entry in config.get("skip-check", [])]
    problems = []
    for check_id in skipped:
        pattern = re.compile(rf"^\s*-\s*{re.escape(check_id)}\s+#\s*\S.{{10,}}$", re.MULTILINE)
        if not pattern.search(config_file.read_text()):
            problems.append(f"{check_id} is skipped without a reason comment on its line")
    return problems


def yamllint_problems(repo_root: Path, sources: Iterable[str] = YAML_SOURCES) -> list[str]:
    # Relative paths: the ignore patterns in .yamllint are relative to the repository root.
    paths = [source for source in sources if (repo_root / source).exists()]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "--strict",
            "--format",
            "parsable",
            "--config-file",
            str(repo_root / ".yamllint"),
            *paths,
        ],
        capture_output=True,
        text=True,
        timeout=YAMLLINT_TIMEOUT_SECONDS,
        check=False,
        cwd=repo_root,
    )
    if result.returncode not in (0, 1, 2):
        raise RuntimeError(f"yamllint failed to run: {result.stderr}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def actionlint_executable() -> Path | None:
    """actionlint built from the Go module proxy into ~/.cache/gigstack/bin; None without a Go toolchain."""
    executable = TOOLS_HOME / "bin" / "actionlint"
    if executable.is_file():
        return executable
    go = shutil.which("go")
    if go is None:
        return None
    subprocess.run(
        [go, "install", ACTIONLINT_MODULE],
        env={**os.environ, "GOBIN": str(executable.parent)},
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        capture_output=True,
    )
    return executable


def actionlint_problems(repo_root: Path, executable: Path) -> list[str]:
    """GitHub Actions workflow errors (expressions, job graph, action inputs, runner labels)."""
    workflows = sorted(str(path) for path in (repo_root / ".github" / "workflows").glob("*.yaml"))
    result = subprocess.run(
        # The run: scripts are shellchecked too where shellcheck is installed (Debian package).
        [str(executable), *([] if shutil.which("shellcheck") else ["-shellcheck="]), "-oneline", *workflows],
        capture_output=True,
        text=True,
        timeout=ACTIONLINT_TIMEOUT_SECONDS,
        check=False,
        cwd=repo_root,
    )
    return [line for line in result.stdout.splitlines() if line.strip()]
