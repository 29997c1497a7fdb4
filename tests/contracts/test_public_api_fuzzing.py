"""schemathesis with every check against the real gateway + auth stack, signed in, from a known device.

The run is bounded (few examples per operation, one worker) and deterministic (derandomized generation, no
example database), so CI sees the same requests every time. The stack is the e2e one with rate limits raised
for this test only (conftest.FUZZING_GATEWAY_ENV).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from contract_support import CONTRACT_OPERATION_IDS, SignedInUser
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
MAX_EXAMPLES_PER_OPERATION = 15
RUN_TIMEOUT_SECONDS = 300


def _generation_options() -> list[str]:
    """CI's bounded, derandomized run; `GIGSTACK_FUZZ_SEED` / `GIGSTACK_FUZZ_MAX_EXAMPLES` make a deeper hunt
    (`make fuzz-deep`), random unless a seed is given (a finding is replayed with the seed it printed)."""
    examples = os.environ.get("GIGSTACK_FUZZ_MAX_EXAMPLES", str(MAX_EXAMPLES_PER_OPERATION))
    seed = os.environ.get("GIGSTACK_FUZZ_SEED")
    if seed is None and "GIGSTACK_FUZZ_MAX_EXAMPLES" not in os.environ:
        return ["--max-examples", examples, "--generation-deterministic"]
    return ["--max-examples", examples, *(["--seed", seed] if seed else [])]


def _timeout_seconds() -> int:
    return int(os.environ.get("GIGSTACK_FUZZ_TIMEOUT_SECONDS", RUN_TIMEOUT_SECONDS))


def run_schemathesis(
    stack: GigstackStack, user: SignedInUser, report_dir: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{stack.gateway_url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"X-Device-Id: {user.device_id}",
        *_generation_options(),  # by default derandomized, and no example database between runs
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "CONTRACT_GATEWAY_URL": stack.gateway_url,
        "CONTRACT_LOGIN": user.email,
        "CONTRACT_PASSWORD": user.password,
        "CONTRACT_DEVICE_ID": user.device_id,
        "CONTRACT_ACCESS_TOKEN": user.access_token,
    }
    # schemathesis keeps a cache of past failures (replayed first) in the working directory: a fresh one per
    # run keeps the run independent of earlier ones.
    work_dir = report_dir.parent / "schemathesis-work"
    work_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        command,
        env=environment,
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=_timeout_seconds(),
        check=False,
    )


@pytest.mark.usefixtures("trading_partner")
async def test_every_check_passes_against_the_published_openapi(
    contract_stack: GigstackStack, signed_in_user: SignedInUser, tmp_path: Path
) -> None:
    result = run_schemathesis(contract_stack, signed_in_user, tmp_path / "report")

    # schemathesis' report (the seed, each failure with its curl, warnings, links covered) is captured stdout:
    # pytest shows it for a failure, and `make fuzz-deep` (-rP) for a pass too.
    print(result.stdout + result.stderr)
    see_report = "see schemathesis' report in the captured stdout"
    assert result.returncode == 0, see_report
    report = next((tmp_path / "report").glob("junit*.xml"))
    suites = ElementTree.parse(report).getroot()  # noqa: S314  # written by the run above, not untrusted
    totals = {name: int(suites.get(name, "0")) for name in ("tests", "failures", "errors")}
    assert totals["tests"] >= len(CONTRACT_OPERATION_IDS), see_report
    assert totals["failures"] == 0, see_report
    assert totals["errors"] == 0, see_report
