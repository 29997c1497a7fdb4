"""Integration tests of the users service on real FerretDB and RabbitMQ (gigstack_testinfra plugin)."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib puts no test directory on sys.path; the harness has a service-specific name.
sys.path.insert(0, str(Path(__file__).parent))
