"""The published warehouse and the private copy each run builds in.

BI reads `warehouse/boligsosial.duckdb` while loads run. A run never writes to that file: it copies the
last published warehouse to a build file of its own, loads and transforms there, and only when every
blocking check passed swaps the build file in with an atomic rename. Readers that hold the old file keep
reading it; a failed run leaves the published file untouched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb

BUILD_DIR_NAME = ".build"
DBT_LINK_NAME = "dbt.duckdb"
STALE_BUILD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class WarehouseBuild:
    published_path: Path
    run_id: str

    @property
    def build_dir(self) -> Path:
        return self.published_path.parent / BUILD_DIR_NAME

    @property
    def path(self) -> Path:
        return self.build_dir / f"{self.published_path.stem}-{self.run_id}.duckdb"

    @property
    def base_marker(self) -> Path:
        """Which published file this build started from: publication refuses if it changed meanwhile."""
        return self.path.with_suffix(".base.json")

    def ensure(self) -> Path:
        """Create the build file on first use in a run: a copy of the published warehouse, or empty.

        A run that did not come through `runner.run_pipeline` (the daemon's) takes the writer lock here,
        before it copies anything; it is released at publication or discard (or when the process dies)."""
        from orchestration import writer_lock

        if writer_lock.held(self.published_path) is None:
            _BUILD_LOCKS[self.run_id] = writer_lock.WriterLock.for_warehouse(self.published_path).acquire(
                command=f"Dagster run {self.run_id}")
        self.build_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.build_dir / "build.lock"):
            if not self.path.exists():
                _remove_stale_builds(self.build_dir, keep=self.path)
                self.base_marker.write_text(json.dumps(_identity(self.published_path)))
                if self.published_path.exists():
                    tmp = self.path.with_suffix(".copying")
                    shutil.copyfile(self.published_path, tmp)
                    os.replace(tmp, self.path)
                else:
                    duckdb.connect(str(self.path)).close()
        return self.path

    @contextlib.contextmanager
    def linked_for_dbt(self) -> Iterator[Path]:
        """A fixed name (`.build/dbt.duckdb`), hard-linked to this run's build file while dbt runs, for its profile.

        dbt reuses its parse (target/partial_parse.msgpack) only while the profile is unchanged, and the
        build file's name changes every run; dbt starts in this folder and the profile names the link by its
        name alone (orchestration/dbt_launcher.py), so the profile is the same for every warehouse too. A hard
        link, not a symlink: DuckDB resolves a symlink and would name the catalog after the build file, not the
        profile's path as dbt-duckdb expects. One writer run at a time (writer lock), so one link per warehouse
        suffices."""
        self.ensure()
        link = dbt_link_path(self.published_path)
        wal = link.with_name(link.name + ".wal")
        wal.unlink(missing_ok=True)  # left by a crashed run: it belongs to another build
        tmp = link.with_suffix(".linking")
        tmp.unlink(missing_ok=True)
        os.link(self.path, tmp)
        os.replace(tmp, link)
        try:
            yield link
        finally:
            if wal.exists():  # dbt closes with a checkpoint; should it not, its WAL belongs beside the build file
                os.replace(wal, self.path.with_name(self.path.name + ".wal"))
            link.unlink(missing_ok=True)

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.ensure()
        con = duckdb.connect(str(self.path), read_only=read_only, config=duckdb_settings())
        try:
            yield con
        finally:
            con.close()

    def publish(self) -> Path:
        """Atomically replace the published warehouse with this run's build."""
        if not self.path.exists():
            raise FileNotFoundError(f"nothing to publish: build file {self.path} does not exist")
        started_from = json.loads(self.base_marker.read_text()) if self.base_marker.exists() else None
        if started_from is not None and started_from != _identity(self.published_path):
            # Another writer (e.g. `make demo` beside the daemon) published since this run copied the
            # warehouse: replacing it would silently drop that run's loads.
            raise PublishConflict(
                f"{self.published_path} was published by another run after this run ({self.run_id}) started; "
                "nothing was replaced: run again to build on the newer warehouse")
        con = duckdb.connect(str(self.path))
        try:
            con.execute("CHECKPOINT")
            total, free = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
        finally:
            con.close()
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():  # after a checkpoint the WAL is empty; never ship one beside the published file
            wal.unlink()
        if total and free / total > COMPACT_FREE_SHARE:
            _compact(self.path)
        self.published_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, self.published_path)
        self.base_marker.unlink(missing_ok=True)
        _release_build_lock(self.run_id)
        return self.published_path

    def discard(self) -> None:
        """Drop a failed run's build; the published warehouse is untouched."""
        for p in (self.path, self.path.with_name(self.path.name + ".wal"), self.base_marker):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        _release_build_lock(self.run_id)


_BUILD_LOCKS: dict = {}  # run id -> the writer lock its build took (runs not started by the runner)


def _release_build_lock(run_id: str) -> None:
    lock = _BUILD_LOCKS.pop(run_id, None)
    if lock is not None:
        lock.release()


# DuckDB reuses the blocks of dropped tables but never gives them back, so rebuilding models in place grows
# the file run after run; past this share of free blocks publication writes a compact copy instead.
COMPACT_FREE_SHARE = 0.25


def _compact(path: Path) -> None:
    """Replace `path` with a copy holding only live blocks (tables, views, constraints, comments, sequences)."""
    tmp = path.with_suffix(".compact")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(":memory:", config=duckdb_settings())
    try:
        con.execute(f"attach '{path}' as build (read_only)")
        con.execute(f"attach '{tmp}' as compact")
        con.execute("copy from database build to compact")
        con.execute("detach compact")
    finally:
        con.close()
    os.replace(tmp, path)


def dbt_link_path(published_path: Path) -> Path:
    """The build file's fixed name while dbt runs (`WarehouseBuild.linked_for_dbt`); dbt starts in its folder."""
    return published_path.parent / BUILD_DIR_NAME / DBT_LINK_NAME


class PublishConflict(RuntimeError):
    """The published warehouse changed while this run was building."""


def _identity(path: Path) -> dict | None:
    if not path.exists():
        return None
    stat = path.stat()
    return {"inode": stat.st_ino, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _remove_stale_builds(build_dir: Path, keep: Path) -> None:
    """Build files of crashed runs older than a day are garbage; younger ones may belong to a live run."""
    now = time.time()
    for p in [*build_dir.glob("*.duckdb*"), *build_dir.glob("*.base.json")]:
        with contextlib.suppress(FileNotFoundError):  # lstat: a crashed run may leave dbt's link dangling
            if p != keep and now - p.lstat().st_mtime > STALE_BUILD_SECONDS:
                p.unlink()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def duckdb_settings() -> dict[str, str]:
    """Memory cap and threads for loads and checks; dbt_project/profiles.yml sets the same defaults for the models
    (issue 19: the pipeline process and dbt run side by side; tests/unit/test_duckdb_settings.py keeps them equal)."""
    return {"memory_limit": os.environ.get("BOLIGSOSIAL_DUCKDB_MEMORY_LIMIT", "256MB"),
            "threads": os.environ.get("BOLIGSOSIAL_DUCKDB_THREADS", "2")}


def relation_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `schema.name` is a table or a view (information_schema.tables lists both in DuckDB)."""
    schema, _, table = name.partition(".")
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(row and row[0])


def table_row_counts(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> list[tuple[str, str, int]]:
    """(schema, table, rows) of every table (of `schema`), counted: duckdb_tables().estimated_size also counts
    rows an incremental model deleted until the file is compacted (a backfill showed 173 114 for 163 851)."""
    tables = con.execute("select schema_name, table_name from duckdb_tables() where not temporary"
                         + (" and schema_name = ?" if schema else "") + " order by 1, 2",
                         [schema] if schema else []).fetchall()
    if not tables:
        return []
    quoted = (f'"{s.replace(chr(34), chr(34) * 2)}"."{t.replace(chr(34), chr(34) * 2)}"' for s, t in tables)
    counts = con.execute(" union all ".join(f"select {i} as i, count(*) from {q}" for i, q in enumerate(quoted))
                         ).fetchall()
    return [(*tables[i], n) for i, n in sorted(counts)]


def open_published(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse, as BI opens it."""
    from orchestration import settings

    target = path or settings.warehouse_path()
    return duckdb.connect(str(target), read_only=True)
