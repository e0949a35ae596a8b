"""Where the tests find the repository, their fixtures and the shared reference material."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO_ROOT / "tests"
FIXTURES = TESTS_DIR / "fixtures"
# ../shared beside the checkout holds the report's tables and real SSB answers. A fresh clone has none,
# and the tests reading it skip; BOLIGSOSIAL_SHARED_DIR points elsewhere (e.g. from a git worktree).
SHARED_DIR = Path(os.environ.get("BOLIGSOSIAL_SHARED_DIR") or REPO_ROOT.parent / "shared")
