"""The dbt project as Dagster sees it, and the manifest it needs at import time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration import settings

TARGET_DIR = settings.DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"  # the pipeline's: the change check compares its nodes (changes.py)
# dbt's other commands write target folders of their own: a docs or PostgreSQL manifest in target/ names
# another database in every node, and the next run would rebuild them all.
DOCS_TARGET_DIR = TARGET_DIR / "docs"
POSTGRES_TARGET_DIR = TARGET_DIR / "postgres"


def import_dagster_dbt():
    """dagster_dbt, imported as if dbt-core were not installed beside it.

    With dbt-core importable, dagster-dbt imports it (seconds of every pipeline process's start, issue 19) for its
    version, its enums and its selection engine; without, it uses its own (its path for dbt Fusion) and reads
    the manifest as JSON. This process never needs dbt-core: dbt builds in its own process (boligsosial-dbt),
    `DbtCli` opens no adapter and takes dbt's version from the package metadata, and the assets select every
    node. dbt-core stays importable afterwards; in a process that imported it already, nothing changes."""
    if "dagster_dbt" not in sys.modules and "dbt.version" not in sys.modules:
        sys.modules["dbt.version"] = None  # `from dbt.version import …` raises ImportError
        try:
            import dagster_dbt  # noqa: F401
        finally:
            del sys.modules["dbt.version"]
    import dagster_dbt

    return dagster_dbt


def __getattr__(name: str):
    # `dbt_project` is built on first use: importing dagster_dbt takes seconds, and the check whether
    # anything changed (orchestration/changes.py) needs only the manifest's path.
    if name == "dbt_project":
        project = import_dagster_dbt().DbtProject(project_dir=settings.DBT_PROJECT_DIR,
                                                  profiles_dir=settings.DBT_PROJECT_DIR)
        globals()["dbt_project"] = project
        return project
    raise AttributeError(name)

_DBT_INPUTS = ("models", "seeds", "macros", "tests", "dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def pipeline_dbt_executable() -> str:
    """The venv's `boligsosial-dbt` (orchestration/dbt_launcher.py): dbt started in the run's build folder."""
    candidate = Path(sys.executable).parent / "boligsosial-dbt"
    if not candidate.exists():
        raise RuntimeError(f"{candidate} is missing: install the project into this venv (`make demo` does, "
                           "or `pip install --no-deps -e .`)")
    return str(candidate)


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in _DBT_INPUTS:
        path = settings.DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        for f in files:
            newest = max(newest, f.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """`@dbt_assets` reads manifest.json when the definitions load; (re)parse when it is missing or stale."""
    manifest = MANIFEST_PATH
    if manifest.exists() and manifest.stat().st_mtime >= _newest_input_mtime():
        return manifest
    from orchestration.warehouse import DBT_LINK_NAME

    # The profile as every run's `dbt build` sees it (parse opens no database), so that build reuses this parse
    # from target/partial_parse.msgpack instead of parsing again (dbt reparses when the profile differs).
    env = {**os.environ, "BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME}
    manifest.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        # a full parse: dbt's partial parsing has kept stale seed column_types after a pull (seen here)
        [dbt_executable(), "parse", "--quiet", "--no-partial-parse", "--project-dir", str(settings.DBT_PROJECT_DIR),
         "--profiles-dir", str(settings.DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest
