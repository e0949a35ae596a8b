"""What changed since the last publication, and so what a run must rebuild.

A run's inputs are versioned: each source (SSB release stamps or demo files, KLASS, each inbox folder, the
follow-up register, the day the quality rules judge by), the code (Python package and its configuration,
the expectation suites, dbt's project settings and macros, each dbt node's manifest entry) and the serving
targets. The versions a publication incorporated are written into the published warehouse
(`meta.publication`). A run compares the current versions with those: nothing different → nothing to do
(the published file is not touched); else the assets to rebuild are the changed inputs' assets and
everything downstream of them in Dagster's asset graph, which dagster-dbt turns into a dbt `--select` of
the changed models and their descendants (and only their tests and checks run).

Cheap by design: hashing ~11 MB of demo files and reading dbt's manifest take well under a second;
nothing here imports Dagster, so `boligsosial demo` with nothing changed answers before Dagster loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration import settings
from orchestration.ingest.klass import tables as klass_tables

TABLE = "meta.publication"
EMPTY = "empty"

# Which assets each source feeds (the whole multi-asset is selected; downstream follows from the graph).
SOURCE_ASSETS: dict[str, list[tuple[str, ...]]] = {
    "ssb": [("raw", "ssb_observations")],
    "klass": [("raw", klass_tables.CODES_TABLE)],
    "husbanken": [("raw", "husbanken_instruments")],
    "programme_reports": [("raw", "programme_report_answers")],
    "kmd_survey": [("raw", "kmd_survey")],
    "programme_list": [("raw", "programme_municipalities")],
    "dwelling_register": [("raw", "dwelling_register")],
    "followup_register": [("quality", "findings")],
    "quality_date": [("quality", "findings")],
}
INBOX_SOURCES = ("husbanken", "programme_reports", "kmd_survey", "programme_list", "dwelling_register")
SERVE_ASSETS = [("postgres_marts",), ("exports",)]
# Code whose change can alter anything: rebuild everything.
GLOBAL_CODE = ("python", "config", "expectations", "dbt_project", "mode")


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _files(root: Path, pattern: str = "*") -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts
                  and not p.name.startswith((".", "~$")))


def tree_version(root: Path, pattern: str = "*") -> str:
    """Content hash of the files under `root` (names and bytes); EMPTY when there are none."""
    files = _files(root, pattern)
    if not files:
        return EMPTY
    return _digest(x for p in files for x in (p.relative_to(root).as_posix(), p.read_bytes()))


def file_version(path: Path) -> str:
    return _digest([path.read_bytes()]) if path.is_file() else EMPTY


# ------------------------------------------------------------------------------------------------ sources


def _ssb_version() -> str:
    if settings.source_mode() == "demo":
        return tree_version(settings.demo_data_dir() / "ssb")
    # live: the `updated` stamp of each configured table (one metadata request each, as the sensor asks)
    from orchestration.ingest.ssb.client import SsbClient, SsbError
    from orchestration.ingest.ssb.releases import load_table_config

    client = SsbClient(base_url=settings.ssb_api_url(), max_retries=2)

    def stamp(table_id: str) -> str:
        try:
            return str(client.table_info(table_id).get("updated"))
        except SsbError as exc:
            # a table SSB does not answer for is the run's catalogue verification to name, loudly; here
            # it only makes the source count as changed, so that verification runs
            return f"unanswered: {exc}"

    return _digest(f"{t['table_id']}@{stamp(t['table_id'])}" for t in load_table_config())


def _klass_version() -> str:
    if settings.source_mode() == "demo":
        return tree_version(settings.REFERENCE_DATA_DIR / "klass")
    return f"asked daily: {dt.date.today().isoformat()}"  # KLASS has no cheap change stamp: ask once a day


def _inbox_version(source: str) -> str:
    """The kept demo inbox by content; the data team's inbox empties on import, so any file there is new."""
    from orchestration.ingest.files.inbox import inboxes

    parts = []
    for inbox, keep in inboxes():
        version = tree_version(inbox / source)
        if version != EMPTY:
            parts.append(f"{'kept' if keep else 'new'}:{version}")
    return " ".join(parts) or EMPTY


def source_versions() -> dict[str, str]:
    from orchestration.quality import store

    versions = {"ssb": _ssb_version(), "klass": _klass_version()}
    versions |= {source: _inbox_version(source) for source in INBOX_SOURCES}
    versions["followup_register"] = file_version(settings.followup_register_path())
    versions["quality_date"] = store.today().isoformat()  # freshness and overdue follow-ups move with the day
    return versions


def _recordable(versions: dict[str, str]) -> dict[str, str]:
    """After a successful run the data team's inbox is empty (read files went to the landing zone)."""
    return {k: " ".join(p for p in v.split(" ") if not p.startswith("new:")) or EMPTY if k in INBOX_SOURCES else v
            for k, v in versions.items()}


# ------------------------------------------------------------------------------------------------- code


def _manifest() -> dict:
    from orchestration.project import ensure_manifest

    return json.loads(ensure_manifest().read_text(encoding="utf-8"))


_VOLATILE = {"created_at", "root_path", "build_path", "compiled_path", "deferred"}


def dbt_node_versions(manifest: dict) -> dict[str, str]:
    """Each model, seed, test and unit test of the project: its manifest entry (SQL or CSV checksum, config,
    columns and their descriptions, which persist_docs writes into the warehouse)."""
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    return {uid: _digest([json.dumps({k: v for k, v in node.items() if k not in _VOLATILE}, sort_keys=True,
                                     default=str)])
            for uid, node in nodes.items() if node.get("package_name") == manifest["metadata"].get("project_name",
                                                                                            "boligsosial")}


def code_versions(manifest: dict) -> dict[str, str]:
    root = settings.PROJECT_ROOT
    dbt_dir = settings.DBT_PROJECT_DIR
    project = manifest["metadata"].get("project_name", "boligsosial")
    macros = sorted((uid, m.get("macro_sql", "")) for uid, m in manifest.get("macros", {}).items()
                    if m.get("package_name") == project)
    return {
        "python": _digest([tree_version(root / "orchestration", "*.py"), file_version(root / "pyproject.toml"),
                           file_version(root / "requirements.lock")]),
        "config": tree_version(settings.CONFIG_DIR),
        "expectations": tree_version(settings.EXPECTATIONS_DIR),
        "dbt_project": _digest([file_version(dbt_dir / "dbt_project.yml"), file_version(dbt_dir / "profiles.yml"),
                                _digest(x for pair in macros for x in pair)]),
        "mode": settings.source_mode(),
        "serve": _digest([settings.postgres_url() and settings.postgres_url().rpartition("@")[2] or "",
                          str(settings.exports_dir())]),
    }


# ------------------------------------------------------------------------------------------- comparison


@dataclass
class Fingerprint:
    sources: dict[str, str]
    code: dict[str, str]
    dbt_nodes: dict[str, str]

    def to_json(self) -> str:
        return json.dumps({"sources": self.sources, "code": self.code, "dbt_nodes": self.dbt_nodes}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Fingerprint":
        d = json.loads(text)
        return cls(d.get("sources", {}), d.get("code", {}), d.get("dbt_nodes", {}))

    @property
    def digest(self) -> str:
        return _digest([self.to_json()])

    def recordable(self) -> "Fingerprint":
        return Fingerprint(_recordable(self.sources), dict(self.code), dict(self.dbt_nodes))


def current() -> tuple[Fingerprint, dict]:
    """The inputs' versions now, and dbt's manifest (parsed if stale)."""
    manifest = _manifest()
    return Fingerprint(source_versions(), code_versions(manifest), dbt_node_versions(manifest)), manifest


def recorded(warehouse: Path | None = None) -> Fingerprint | None:
    """The versions the published warehouse incorporates (read-only; None before the first publication)."""
    import duckdb

    path = warehouse or settings.warehouse_path()
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute(f"select fingerprint from {TABLE} order by published_at desc limit 1").fetchone()
    except duckdb.Error:  # published before this table existed
        return None
    finally:
        con.close()
    return Fingerprint.from_json(row[0]) if row else None


def record(con, fingerprint: Fingerprint, run_id: str, rebuilt: str) -> None:
    """Write into the run's build (before publication) what it incorporates."""
    con.execute("create schema if not exists meta")
    con.execute(f"create table if not exists {TABLE} (published_at timestamp, run_id varchar, "
                "fingerprint varchar, rebuilt varchar)")
    con.execute(f"insert into {TABLE} values (now()::timestamp, ?, ?, ?)",
                [run_id, fingerprint.recordable().to_json(), rebuilt])


@dataclass
class Change:
    what: str        # "source ssb", "code python", "dbt model.boligsosial.x"
    before: str | None
    after: str | None

    def __str__(self) -> str:
        if self.before is None:
            return f"{self.what}: not recorded at the last publication"
        # 60: an inbox's version is «kept:<hash> new:<hash>»; cut shorter, both sides read the same
        return f"{self.what}: {self.before[:60]} → {self.after[:60] if self.after else 'removed'}"


@dataclass
class Plan:
    """What a run must do: nothing, everything (`selection is None`), or the selected asset keys."""
    fingerprint: Fingerprint
    changes: list[Change] = field(default_factory=list)
    everything: bool = False
    reason: str = ""
    roots: set[tuple[str, ...]] = field(default_factory=set)   # asset keys whose inputs changed
    dbt_nodes: set[str] = field(default_factory=set)           # changed dbt unique ids

    @property
    def nothing_changed(self) -> bool:
        return not self.everything and not self.changes

    def summary_lines(self, most: int = 10) -> list[str]:
        """What changed, for the run's first lines: the first `most` changes and how many more (a project-wide
        dbt change moves every node; the publication's «rebuilt_because» in the UI lists up to 200)."""
        lines = [self.reason] if self.everything else []
        lines += [f"  {c}" for c in self.changes[:most]]
        if len(self.changes) > most:
            dbt = sum(c.what.startswith("dbt ") for c in self.changes[most:])
            lines.append(f"  … and {len(self.changes) - most} more" + (f" ({dbt} of them dbt nodes)" if dbt else ""))
        return lines


def diff(now: Fingerprint, before: Fingerprint | None, manifest: dict) -> Plan:
    plan = Plan(fingerprint=now)
    if before is None:
        plan.everything, plan.reason = True, "no earlier publication recorded: everything is built"
        return plan
    recordable = now.recordable()
    for name, version in now.code.items():
        if before.code.get(name) != version:
            plan.changes.append(Change(f"code {name}", before.code.get(name), version))
            if name in GLOBAL_CODE:
                plan.everything = True
            elif name == "serve":
                plan.roots |= {("published_warehouse",)}  # serving follows it; the record needs it
    if plan.everything:
        plan.reason = "code or configuration changed: everything is rebuilt"
        return plan
    for name, version in now.sources.items():
        if before.sources.get(name) != version or recordable.sources.get(name) != version:
            plan.changes.append(Change(f"source {name}", before.sources.get(name), version))
            plan.roots |= set(SOURCE_ASSETS[name])
    for uid in sorted(now.dbt_nodes.keys() | before.dbt_nodes.keys()):
        if now.dbt_nodes.get(uid) != before.dbt_nodes.get(uid):
            plan.changes.append(Change(f"dbt {uid}", before.dbt_nodes.get(uid), now.dbt_nodes.get(uid)))
            plan.dbt_nodes.add(uid)
    return plan


def unchanged_reasons(plan: Plan) -> list[str]:
    """Per source and code part: why nothing is rebuilt (the versions equal those published)."""
    fp = plan.fingerprint
    lines = [f"{'/'.join(SOURCE_ASSETS[k][0])} not reloaded: source {k} {v[:40]} as published"
             for k, v in sorted(fp.sources.items())]
    lines += [f"code {k}: {v} as published" for k, v in sorted(fp.code.items())]
    lines.append(f"dbt models not rebuilt, their tests and the checks not rerun: {len(fp.dbt_nodes)} nodes as published")
    return lines


def plan_run(force_sources: tuple[str, ...] = (), warehouse: Path | None = None) -> Plan:
    """Compare the inputs now with those of the last publication. `force_sources` are treated as changed
    (a backfill reloads SSB for its years whatever the stamps say)."""
    now, manifest = current()
    plan = diff(now, recorded(warehouse), manifest)
    for name in force_sources:
        if not plan.everything and not any(c.what == f"source {name}" for c in plan.changes):
            plan.changes.append(Change(f"source {name}", "reload requested", now.sources.get(name, "")))
            plan.roots |= set(SOURCE_ASSETS[name])
    return plan


def dbt_unique_ids_to_models(manifest: dict, unique_ids: set[str]) -> set[str]:
    """Tests and unit tests stand for the models they test: rerunning a test means rebuilding its model."""
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    out = set()
    for uid in unique_ids:
        node = nodes.get(uid)
        if node is None:  # removed: its parents are unaffected; its children were changed too
            continue
        if node["resource_type"] in ("test", "unit_test"):
            out |= {d for d in node.get("depends_on", {}).get("nodes", []) if d.split(".")[0] in ("model", "seed",
                                                                                                   "snapshot")}
        else:
            out.add(uid)
    return out


def env_flag_all() -> bool:
    return os.environ.get("BOLIGSOSIAL_REBUILD", "").strip().lower() in {"1", "all", "true", "yes"}
