"""Measure the demo pipeline beside `dbt build` alone on the same data (`make bench`, issue 19).

Scenarios, each in a child process (so its peak resident memory, the dbt subprocess included, is its own):

- pipeline cold: `boligsosial demo`'s run into a fresh warehouse (sources loaded, models built, checks,
  publication, serving; the annual report is left to `make report`: BOLIGSOSIAL_REPORT=off);
- pipeline, nothing changed: the same again (the change check finds nothing and stops);
- pipeline, one change: one Husbanken file dropped in the inbox (what depends on it rebuilds);
- pipeline, one SSB release for one year: a revised release of table 12008 (its latest year changed), run
  as the SSB sensor requests it: `kostra_release` for that year's partition, only what depends on the change;
- dbt alone, cold and again: `dbt build` (the same command the pipeline runs) on a copy of the warehouse
  the cold run published — the transformation a team would run without orchestration; dbt has no
  nothing-changed shortcut, so "again" rebuilds everything. Like the pipeline, it starts from the
  project's parse;
- a fresh clone's first parse: `dbt parse --no-partial-parse`, paid once by either side.

Medians over `--runs` repetitions; `uptime`'s load average is noted beside each (the machine is shared).
Writes docs/benchmarks.md up to its «Test suite» section (kept, like the register section after it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# docs/benchmarks.md sections written by hand: kept, from the first of them on, when the figures are rewritten
HAND_WRITTEN = ("Reading the figures", "Test suite")


def _peaks() -> dict:
    """Largest resident sets and CPU seconds (user + system) of this process and of its children.

    A child's ru_maxrss starts at this process's resident set when it is spawned (Linux counts the parent's
    pages until exec), so the children's figure is at least this process's size at the time: dbt's own
    peak is the dbt-alone row's."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"peak_rss_mib": round(max(own.ru_maxrss, kids.ru_maxrss) / 1024, 1),
            "pipeline_rss_mib": round(own.ru_maxrss / 1024, 1), "dbt_rss_mib": round(kids.ru_maxrss / 1024, 1),
            "cpu_s": round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 1)}


def _tree_pss_mib() -> float:
    """Memory of this process and every descendant (dbt, its threads' children) at this moment, as
    proportional set size: pages shared between them counted once. What the machine must hold at once."""
    total, pids = 0, [os.getpid()]
    while pids:
        pid = pids.pop()
        try:
            total += next(int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                          if line.startswith("Pss:"))
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, StopIteration):  # the process ended meanwhile
            continue
    return total / 1024


class TreeSampler:
    """The largest `_tree_pss_mib` seen, sampled every quarter second in a thread while the block runs."""

    def __init__(self) -> None:
        import threading

        self.peak_mib = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.25):
            self.peak_mib = max(self.peak_mib, _tree_pss_mib())

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()


def child_pipeline(job: str = "full_pipeline", partition: str = "") -> None:
    import threading

    from orchestration import runner
    from orchestration.memory import resident_mib

    # which step holds the process's largest resident set: sample it, and note when each step starts/ends
    samples: list[tuple[float, float]] = []
    marks: list[tuple[float, str, str]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            samples.append((time.time(), resident_mib() or 0.0))

    def note(_self, record) -> None:  # replaces the progress printer: no output, only the step times
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is not None and event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            marks.append((time.time(), event.event_type_value, meta.get("step_key")))

    runner.ProgressPrinter.emit = note
    tags = None
    if partition:  # as the SSB sensor requests a release's year; only then: partitions.py imports Dagster (≈ 1 s)
        from orchestration.partitions import PARTITION_TAG

        tags = {PARTITION_TAG: partition}
    started_at = time.time()
    rss_at_start = resident_mib() or 0.0
    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    with TreeSampler() as tree:
        result = runner.run_pipeline(job, quiet=False, changed_only=True, tags=tags)
    elapsed = time.perf_counter() - started
    done.set()
    steps = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 2)
    starts = {step: t for t, kind, step in marks if kind == "STEP_START"}
    step_rss = {}
    for t_end, kind, step in marks:
        if kind != "STEP_START" and step in starts:
            inside = [rss for t, rss in samples if starts[step] <= t <= t_end]
            step_rss[step] = round(max(inside), 1) if inside else None
    first_step = min(starts.values()) if starts else time.time()
    print(json.dumps({"success": result.success, "skipped": bool(getattr(result, "skipped", False)),
                      "elapsed_s": round(elapsed, 2), "steps": steps, "step_rss_mib": step_rss,
                      "rss_at_start_mib": round(rss_at_start, 1),
                      "before_first_step_s": round(first_step - started_at, 2),
                      "started_at": started_at,
                      "timeline": [(round(t - started_at, 2), kind, step) for t, kind, step in marks],
                      "tree_peak_mib": round(tree.peak_mib, 1), **_peaks()}))


def child_dbt(database: str, command: str = "build") -> None:
    """`dbt build` alone on a copy named as the pipeline names its build file, started in the copy's folder
    (as `boligsosial-dbt` starts the pipeline's): the profile reads alike, so both sides start from the
    project's parse. `parse`: the full parse a fresh clone pays once (the pipeline at its first import)."""
    from orchestration.assets.dbt import production_build_args
    from orchestration.project import TARGET_DIR, dbt_executable

    folder = Path(database).parent
    target = folder / f"dbt-{command}-target"
    if command == "build" and not target.exists():
        target.mkdir()
        shutil.copy(TARGET_DIR / "partial_parse.msgpack", target)
    args = production_build_args() if command == "build" else ["parse", "--no-partial-parse"]
    started = time.perf_counter()
    with TreeSampler() as tree:
        out = subprocess.run([dbt_executable(), *args, "--quiet",
                              "--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(ROOT / "dbt_project"),
                              "--target-path", str(target)],
                             env={**os.environ, "BOLIGSOSIAL_DBT_DATABASE": Path(database).name}, cwd=folder,
                             capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    print(json.dumps({"success": out.returncode == 0, "elapsed_s": round(elapsed, 2), "steps": {},
                      "tree_peak_mib": round(tree.peak_mib, 1),
                      "error": out.stdout[-2000:] if out.returncode else "", **_peaks()}))


def run_child(kind: str, env: dict, *args: str) -> dict:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child {kind} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    if not figures["success"]:
        raise SystemExit(f"benchmark child {kind} did not succeed: {figures}")
    figures["process_wall_s"] = round(time.perf_counter() - started, 2)
    figures["load"] = (round(load, 1), round(os.getloadavg()[0], 1))
    return figures


RELEASE_TABLE, RELEASE_YEAR = "12008", 2025  # KOSTRA's municipal dwellings: most indicators read it


def revise_release(table_dir: Path, year: int) -> None:
    """A newer release of a demo table (vintages/<date>/, `updated` later than every release before) whose
    figures for `year` are one higher than the current release's; the other years as they were."""
    from orchestration.ingest.ssb.jsonstat import cell_positions

    info = json.loads((table_dir / "table.json").read_text(encoding="utf-8"))
    info["updated"] = "2026-12-01T06:00:00Z"
    folder = table_dir / "vintages" / "2026-12-01"
    folder.mkdir(parents=True)
    (folder / "table.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    for path in table_dir.glob("data__*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if "updated" in doc:
            doc["updated"] = info["updated"]
        year_position = doc["dimension"]["Tid"]["category"]["index"][str(year)]
        in_year = cell_positions(doc["id"], doc["size"])["Tid"] == year_position
        values = doc["value"]
        for i in in_year.nonzero()[0]:
            if values[i] is not None:
                values[i] += 1
        (folder / path.name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def environment(base: Path) -> dict:
    return {**os.environ, "GX_ANALYTICS_ENABLED": "false", "BOLIGSOSIAL_REPORT": "off",
            "BOLIGSOSIAL_SOURCE": "demo", "BOLIGSOSIAL_WAREHOUSE": str(base / "boligsosial.duckdb"),
            "BOLIGSOSIAL_INBOX": str(base / "inbox"), "BOLIGSOSIAL_LANDING": str(base / "landing"),
            "BOLIGSOSIAL_OUTBOX": str(base / "outbox"), "BOLIGSOSIAL_EXPORTS": str(base / "exports"),
            "BOLIGSOSIAL_FOLLOWUP_REGISTER": str(ROOT / "data" / "followup" / "register.csv")}


def one_round(tmp: Path, index: int) -> dict:
    from orchestration.warehouse import DBT_LINK_NAME

    base = tmp / f"round-{index}"
    base.mkdir()
    env = environment(base)
    out = {}
    print(f"round {index + 1}: pipeline cold …", flush=True)
    out["cold"] = run_child("pipeline", env)
    print(f"  {out['cold']['elapsed_s']} s, peak {out['cold']['peak_rss_mib']} MiB", flush=True)
    out["size_mib"] = round((base / "boligsosial.duckdb").stat().st_size / 1024 / 1024, 1)  # as the cold run left it
    print(f"round {index + 1}: pipeline, nothing changed …", flush=True)
    out["unchanged"] = run_child("pipeline", env)
    assert out["unchanged"]["skipped"], "the second run should have found nothing changed"
    print(f"  {out['unchanged']['process_wall_s']} s (process), peak {out['unchanged']['peak_rss_mib']} MiB", flush=True)
    # dbt alone on a copy of the same data (the published warehouse, raw tables included)
    copy = base / "dbt-alone" / DBT_LINK_NAME
    copy.parent.mkdir()
    shutil.copyfile(base / "boligsosial.duckdb", copy)
    print(f"round {index + 1}: dbt build alone (cold, again), a fresh clone's first dbt parse …", flush=True)
    out["dbt_cold"] = run_child("dbt", env, str(copy))
    out["dbt_again"] = run_child("dbt", env, str(copy))
    out["first_parse"] = run_child("dbt", env, str(copy), "parse")
    print(f"  {out['dbt_cold']['elapsed_s']} s, {out['dbt_again']['elapsed_s']} s, "
          f"{out['first_parse']['elapsed_s']} s", flush=True)
    print(f"round {index + 1}: pipeline, one Husbanken file in the inbox …", flush=True)
    inbox = base / "inbox" / "husbanken"
    inbox.mkdir(parents=True)
    shutil.copyfile(ROOT / "data" / "demo" / "inbox" / "husbanken" / "statlig_bostotte_maned_2019-2025.csv",
                    inbox / "statlig_bostotte_maned_2019-2025.csv")
    out["one_change"] = run_child("pipeline", env)
    print(f"  {out['one_change']['elapsed_s']} s, peak {out['one_change']['peak_rss_mib']} MiB", flush=True)
    print(f"round {index + 1}: pipeline, one SSB release for {RELEASE_YEAR} …", flush=True)
    demo_copy = base / "demo-data"
    shutil.copytree(ROOT / "data" / "demo", demo_copy)
    revise_release(demo_copy / "ssb" / RELEASE_TABLE, RELEASE_YEAR)
    out["one_release"] = run_child("pipeline", {**env, "BOLIGSOSIAL_DEMO_DATA": str(demo_copy)},
                                   "kostra_release", str(RELEASE_YEAR))
    print(f"  {out['one_release']['elapsed_s']} s, peak {out['one_release']['peak_rss_mib']} MiB", flush=True)
    shutil.rmtree(base, ignore_errors=True)
    return out


def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kib = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")).split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    versions = {p: md.version(p) for p in ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb",
                                           "great-expectations", "pandas")}
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "versions": versions}


def med(rounds: list[dict], scenario: str, field: str) -> float:
    return round(statistics.median(r[scenario][field] for r in rounds), 2)


def loads(rounds: list[dict], scenario: str) -> str:
    return ", ".join(f"{r[scenario]['load'][0]}→{r[scenario]['load'][1]}" for r in rounds)


def with_report(tmp: Path) -> dict:
    """One cold run as `make demo` makes it, the annual report included (its page workers, then Chromium)."""
    base = tmp / "with-report"
    base.mkdir()
    env = {**environment(base), "BOLIGSOSIAL_REPORT": "on", "BOLIGSOSIAL_REPORTS": str(base / "reports")}
    print("pipeline cold with the annual report (as make demo) …", flush=True)
    figures = run_child("pipeline", env)
    print(f"  {figures['elapsed_s']} s, together {figures['tree_peak_mib']} MiB", flush=True)
    return figures


def report(rounds: list[dict], out: Path, demo: dict | None = None) -> str:
    info = machine()
    cold, dbt_cold = med(rounds, "cold", "elapsed_s"), med(rounds, "dbt_cold", "elapsed_s")
    unchanged_process, dbt_again = med(rounds, "unchanged", "process_wall_s"), med(rounds, "dbt_again", "elapsed_s")
    one, release = med(rounds, "one_change", "elapsed_s"), med(rounds, "one_release", "elapsed_s")
    rows = [("pipeline, cold (fresh warehouse)", "cold"), ("pipeline, nothing changed", "unchanged"),
            ("pipeline, one Husbanken file", "one_change"),
            (f"pipeline, one SSB release for {RELEASE_YEAR} (`kostra_release`)", "one_release"),
            ("`dbt build` alone, cold (copy)", "dbt_cold"), ("`dbt build` alone, again", "dbt_again"),
            ("a fresh clone's first `dbt parse` (once, either side)", "first_parse")]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (scripts/benchmark.py) on {dt.date.today().isoformat()}, on the embedded demo",
        "data (synthetic: every municipality, 2008–2025), medians of "
        f"{len(rounds)} round(s). `elapsed` is the run itself (for dbt alone: the `dbt build` process), "
        "`process` adds Python start-up and imports of the child process; peak memory is the largest resident "
        "set of the child or of its dbt subprocess, and (`together`) the largest sum over the child and every "
        "process it started, sampled every 0.25 s as proportional set size (shared pages once): what the machine "
        "holds at once while dbt runs beside the pipeline. The annual report is not rendered in these runs "
        "(BOLIGSOSIAL_REPORT=off; one more cold run with it is below the table). The machine is shared: the "
        "load average (1 min, before→after, per round) stretches every figure. Both sides start from the "
        "project's parse (dbt's partial_parse.msgpack), as every run after the first does; a fresh clone parses "
        "the whole project once first, either side (last row: the pipeline does it when its definitions are "
        "first imported).",
        "",
        "| run | elapsed | process | CPU (user + system) | peak memory (pipeline / dbt) | together | load average |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, key in rows:
        lines.append(f"| {label} | {med(rounds, key, 'elapsed_s')} s | {med(rounds, key, 'process_wall_s')} s | "
                     f"{med(rounds, key, 'cpu_s')} s | "
                     f"{med(rounds, key, 'pipeline_rss_mib')} / {med(rounds, key, 'dbt_rss_mib')} MiB | "
                     f"{med(rounds, key, 'tree_peak_mib')} MiB | {loads(rounds, key)} |")
    lines += [
        "",
        f"Ratio pipeline ÷ dbt alone: cold {cold / dbt_cold:.2f} (target ≤ 1.5); nothing changed "
        f"{unchanged_process / dbt_again:.2f} (the whole process against a dbt rerun); one Husbanken file "
        f"{one / dbt_again:.2f}; one SSB release for one year {release / dbt_again:.2f}.",
        f"Published warehouse after the cold run: {rounds[0]['size_mib']} MiB.",
        "",
    ]
    if demo is not None:
        top = max(((v, k) for k, v in demo["step_rss_mib"].items() if v is not None), default=(0, "?"))
        lines += [
            "`make demo`'s run renders the annual report as well (its page workers, then Chromium for the PDF): "
            f"one cold run with it took {demo['elapsed_s']} s, **{demo['tree_peak_mib']} MiB together** at its "
            f"peak; its largest single process {demo['peak_rss_mib']} MiB; the pipeline's own resident set was "
            f"largest during `{top[1]}` ({top[0]} MiB); the report step took "
            f"{demo['steps'].get('annual_report', 'not run')} s.",
            "",
        ]
    lines += [
        "CPU seconds stretch far less with the load than wall time: compare them across loads. The dbt column of",
        "the pipeline's peak memory is at least the pipeline's own size when it started dbt (a child's ru_maxrss",
        "begins with its parent's pages), so dbt's own peak is the dbt-alone row's.",
        "",
    ]
    cold_first = rounds[0]["cold"]
    if cold_first.get("step_rss_mib"):
        top = sorted(((v, k) for k, v in cold_first["step_rss_mib"].items() if v is not None), reverse=True)[:3]
        lines += [
            f"Cold run, first round: {cold_first['before_first_step_s']} s before the first step (imports, the "
            f"definitions, dbt's manifest, the change check); resident set {cold_first['rss_at_start_mib']} MiB "
            "before Dagster was imported; largest during " + ", ".join(f"`{k}` ({v} MiB)" for v, k in top) + ".",
        ]
    lines += [
        "",
        "Slowest steps of the cold run and of the one-change runs (seconds, first round):",
        "",
        f"| step | cold | one Husbanken file | one SSB release for {RELEASE_YEAR} |",
        "|---|---:|---:|---:|",
    ]
    first = rounds[0]
    for step, seconds in sorted(first["cold"]["steps"].items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"| `{step}` | {seconds} | {first['one_change']['steps'].get(step, 'not run')} | "
                     f"{first['one_release']['steps'].get(step, 'not run')} |")
    lines += [
        "",
        f"Steps run with one Husbanken file: {len(first['one_change']['steps'])} of "
        f"{len(first['cold']['steps'])}; with one SSB release for one year (table {RELEASE_TABLE}, its "
        f"{RELEASE_YEAR} figures revised; `kostra_release` for partition {RELEASE_YEAR}, as the SSB sensor "
        f"requests it): {len(first['one_release']['steps'])}.",
        "",
        "How the runs are decided (orchestration/changes.py): the versions of every input — SSB release files or",
        "stamps, KLASS, each inbox folder, the follow-up register, the day the quality rules judge by, the Python",
        "code and configuration, the expectation suites, dbt's project file and macros, each dbt node's manifest",
        "entry — are recorded in the published warehouse (`meta.publication`) when it is published. A run",
        "compares them first (well under a second): nothing different → it stops, the published file untouched;",
        "else it runs the changed inputs' assets and everything downstream of them (Dagster's asset graph; dagster-",
        "dbt turns the selected models into dbt's `--select`), so only those models' tests and checks run. Code or",
        "configuration of the Python package changes everything.",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']} ({info['cores']} cores), memory {info['memory']}",
        f"- OS: {info['os']}, Python {info['python']}",
        "- " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        "",
    ]
    # the hand-written sections after the measured ones (reading of the figures, the test suite, registers)
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    starts = [i for i in (text.find(f"\n## {h}\n") for h in HAND_WRITTEN) if i >= 0]
    if starts:
        lines.append(text[min(starts):].strip("\n") + "\n")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help="rounds; the figures are medians")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    if args.child:
        child_pipeline(*args.child[1:]) if args.child[0] == "pipeline" else child_dbt(*args.child[1:])
        return 0
    from orchestration.project import ensure_manifest

    # every round as after the first: a fresh clone's one full parse would land in round 1's cold run only
    # (it is measured on its own row)
    ensure_manifest()
    with tempfile.TemporaryDirectory(prefix="boligsosial-bench-") as tmp:
        rounds = [one_round(Path(tmp), i) for i in range(args.runs)]
        demo = with_report(Path(tmp))
    text = report(rounds, args.out, demo)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
