"""Unit tests of the review service: no servers; fakes only for its own ports (review_fakes)."""

import sys
from pathlib import Path

# --import-mode=importlib does not put test directories on sys.path; the fakes module lives here
# (uniquely named, because sys.path is shared by every suite in one pytest run).
sys.path.insert(0, str(Path(__file__).parent))
