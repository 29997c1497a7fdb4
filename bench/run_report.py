"""The metadata every small benchmark's JSON report carries, and where it goes (bench/results, stdout)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any


def write_report(
    result: dict[str, Any], *, command: str, load_before: tuple[float, float, float], path: Path
) -> None:
    """Add the command, load averages, machine and time to `result`; write it to `path` and print it."""
    result.update(
        command=command,
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in os.getloadavg()],
        machine=f"{platform.machine()}, {os.cpu_count()} cores",
        measured_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
