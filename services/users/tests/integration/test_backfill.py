"""`python -m users_service backfill FILE`: profiles for accounts that predate the service, created once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from users_harness import account_created, new_id, store

pytestmark = pytest.mark.integration


def _run_backfill(mongodb_url: str, source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "users_service", "backfill", str(source)],
        # Only the store: the backfill job needs neither the broker nor the token key.
        env={"MONGODB_URL": mongodb_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _report(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    # JSON logs share stdout; the report is the last line.
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


async def test_backfill_creates_missing_profiles_once_and_reports_bad_lines(
    mongodb_url: str, tmp_path: Path
) -> None:
    accounts = [account_created(new_id(), f"old_user{n}").payload for n in range(5)]
    accounts[0]["user_id"] = accounts[0]["user_id"].replace("-", "")  # as auth's CHAR(32) column has it
    export = tmp_path / "accounts.jsonl"
    lines = [json.dumps(account) for account in accounts]
    lines.insert(2, '{"user_id": "broken"}')
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    first = await asyncio.to_thread(_run_backfill, mongodb_url, export)
    second = await asyncio.to_thread(_run_backfill, mongodb_url, export)

    assert first.returncode == 1, first.stderr  # one line was rejected
    assert _report(first) == {"created": 5, "already_present": 0, "rejected": 1, "rejected_lines": [3]}
    assert _report(second)["already_present"] == 5
    assert "broken" not in first.stdout + first.stderr, "a rejected line's content reached the log"
    async with store(mongodb_url) as database:
        documents = await database["profiles"].find({}).to_list()
    assert sorted(d["username"] for d in documents) == [f"old_user{n}" for n in range(5)]
    assert all(len(d["_id"]) == 36 for d in documents), "an id was not stored in the events' dashed form"
    assert all(d["version"] == 1 for d in documents), "the second run rewrote profiles"


async def test_backfill_without_a_file_argument_prints_usage(mongodb_url: str, tmp_path: Path) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "users_service", "backfill"],
        env={"MONGODB_URL": mongodb_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "usage" in result.stderr
