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


def differs_from_committed_demo(written: list[Path], out_dir: Path) -> list[str]:
    """The files a demo generator wrote under `out_dir` whose bytes differ from (or are missing in) the
    committed data/demo/inbox: `make demo-data` must reproduce them exactly, in any process."""
    committed = REPO_ROOT / "data" / "demo" / "inbox"
    return [str(p.relative_to(out_dir)) for p in written
            if not (committed / p.relative_to(out_dir)).is_file()
            or (committed / p.relative_to(out_dir)).read_bytes() != p.read_bytes()]
