"""Where the tests' data lives: vendor specs and real MS Project files, in the repository
(each folder has a README naming its source). ``PMOSYNC_FIXTURES_DIR`` points the whole suite
at another copy, e.g. a larger corpus of plans, with the same layout."""

from __future__ import annotations

import os
from pathlib import Path

FIXTURES_DIR = Path(os.environ.get("PMOSYNC_FIXTURES_DIR") or Path(__file__).parent / "fixtures")
MSPROJECT = FIXTURES_DIR / "msproject"
SPECS = FIXTURES_DIR / "specs"
