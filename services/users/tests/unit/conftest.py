"""Registers `fakes.py` beside this file as the module `users_fakes`.

--import-mode=importlib puts no test directory on sys.path, and a plain `fakes` would clash with other
services' fakes modules in the same pytest run (sys.modules is shared), hence the service-specific name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("users_fakes", Path(__file__).with_name("fakes.py"))
assert _spec is not None
assert _spec.loader is not None
users_fakes = importlib.util.module_from_spec(_spec)
sys.modules["users_fakes"] = users_fakes
_spec.loader.exec_module(users_fakes)
