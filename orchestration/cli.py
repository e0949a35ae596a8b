"""`boligsosial demo` and friends: run the pipeline outside the Dagster UI, with readable progress."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from orchestration import settings
from orchestration.runner import failure_summary, run_pipeline


def _configure_logging() -> None:
    import warnings

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s  %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:  # Dagster's own loggers repeat what the progress lines say
        handler.addFilter(lambda record: not record.name.startswith(("dagster", "great_expectations")))
    for noisy in ("dagster", "great_expectations", "urllib3", "dbt", "duckdb", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("BOLIGSOSIAL_DBT_OUTPUT", "summary")


def summarise(result, started: float) -> int:
    from orchestration.warehouse import open_published, table_row_counts

    path = settings.warehouse_path()
    if getattr(result, "skipped", False):
        print(f"\n✔ Nothing changed: the published warehouse was left as it was: {path}")
        con = open_published(path)
        try:
            if _is_synthetic(con):
                print(SYNTHETIC_NOTE)
        finally:
            con.close()
        print(f"  elapsed: {time.time() - started:.1f} s (`boligsosial demo --all` rebuilds everything anyway)")
        return 0
    import dagster as dg

    checks = list(result.get_asset_check_evaluations())
    passed = sum(1 for c in checks if c.passed)
    warned = sum(1 for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN)
    failed = len(checks) - passed - warned
    print()
    published = any(e.is_step_success and e.step_key == "published_warehouse" for e in result.all_events)
    if not result.success:
        print("✘ The run failed; " + ("the warehouse was published, a step after publication failed" if published
                                     else "the published warehouse was left as it was") + f": {path}")
        for line in failure_summary(result):
            print(f"  {line}")
        return 1
    con = open_published(path)
    try:
        rows = table_row_counts(con)
        synthetic = _is_synthetic(con)
    finally:
        con.close()
    by_schema: dict[str, list[tuple[str, int]]] = {}
    for schema, name, size in rows:
        by_schema.setdefault(schema, []).append((name, size))
    print(f"✔ Warehouse published: {path}")
    if synthetic:
        print(SYNTHETIC_NOTE)
    for schema in ("raw", "staging", "intermediate", "marts", "quality"):
        if schema in by_schema:
            tables = by_schema[schema]
            print(f"  {schema:<13}{len(tables):>3} tables {sum(s for _, s in tables):>12,} rows")
    for name, size in by_schema.get("marts", []):
        print(f"    marts.{name:<40}{size:>10,} rows")
    print(f"  checks: {passed} passed, {warned} warnings (published and reported), {failed} failed")
    served = _served(result)
    if "postgres_marts" in served:
        print(f"  PostgreSQL: marts published to {served['postgres_marts']['target'].value}")
    else:
        print("  PostgreSQL: skipped (BOLIGSOSIAL_POSTGRES_URL is not set)")
    if "exports" in served:
        print(f"  exports: {served['exports']['path'].value} (Parquet, CSV, manifest.json)")
    digest = _latest_digest(since=started)
    print(f"  quality digest: {digest}" if digest else
          "  quality digest: nothing new for the working group, none sent" if not os.environ.get(
              "BOLIGSOSIAL_SMTP_HOST") else "  quality digest: mailed if anything was new (see the run log)")
    for event in result.get_asset_materialization_events():  # the annual report, when the job rendered it
        if event.asset_key.to_user_string() == "annual_report" and "index" in event.materialization.metadata:
            print(f"  annual report: {event.materialization.metadata['index'].value}")
    print(f"  elapsed: {time.time() - started:.1f} s")
    print(f"  query it (read-only, also while a load runs):\n    {Path(sys.executable)} -c \"import duckdb; "
          f"print(duckdb.connect('{path}', read_only=True).sql(\\\"{GOAL_QUERY}\\\"))\"")
    return 0


SYNTHETIC_NOTE = "  (built from SYNTHETIC demo data — not official statistics)"
# the quick start's query (README.md): each indicator's latest level, its colour and the rule that chose it
GOAL_QUERY = ("select indicator_id, end_year, round(latest_value, 1) as latest_value, status_colour, colour_rule, "
              "synthetic from marts.rpt_goal_attainment where period = 'latest' order by indicator_id")


def _is_synthetic(con) -> bool:
    from orchestration.warehouse import relation_exists

    return bool(relation_exists(con, "raw.load_log")
                and con.execute("select bool_or(synthetic) from raw.load_log").fetchone()[0])


def _served(result) -> dict:
    """Metadata of this run's serving materializations, by asset key."""
    return {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() in
            ("postgres_marts", "exports")}


def dbt_docs(target: Path | None = None) -> int:
    """Generate dbt's documentation site; works on a copy so a running load is never blocked."""
    import shutil
    import subprocess
    import tempfile

    from orchestration.project import DOCS_TARGET_DIR, dbt_executable

    published = settings.warehouse_path()
    if not published.exists():
        print(f"no published warehouse at {published}: run `make demo` first", file=sys.stderr)
        return 1
    target = target or DOCS_TARGET_DIR
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "docs.duckdb"
        shutil.copyfile(published, copy)
        env = {**os.environ, "BOLIGSOSIAL_DBT_DATABASE": str(copy)}
        result = subprocess.run([dbt_executable(), "docs", "generate", "--project-dir", str(settings.DBT_PROJECT_DIR),
                                 "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(target),
                                 "--use-colors" if sys.stdout.isatty() else "--no-use-colors"],  # no escapes in logs
                                env=env)
    if result.returncode == 0:
        relative = os.path.relpath(target, settings.DBT_PROJECT_DIR)  # dbt reads --target-path from the project
        print(f"dbt docs: {target / 'index.html'} (serve with: .venv/bin/dbt docs serve --project-dir dbt_project "
              f"--profiles-dir dbt_project --target-path {relative})")
    return result.returncode


def _latest_digest(since: float) -> str | None:
    """Where this run's digest went, when it was written to the outbox (no SMTP configured)."""
    outbox = settings.outbox_dir()
    files = [p for p in outbox.glob("*digest*.eml") if p.stat().st_mtime >= since] if outbox.exists() else []
    return str(max(files, key=lambda p: p.stat().st_mtime)) if files else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boligsosial", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole pipeline (demo data unless BOLIGSOSIAL_SOURCE=live) and publish")
    run = sub.add_parser("run", help="run a named job over every statistics year")
    run.add_argument("job", nargs="?", default="full_pipeline")
    backfill = sub.add_parser("backfill", help="reload a range of statistics years, e.g. `backfill 2008 2019`")
    backfill.add_argument("first_year", type=int)
    backfill.add_argument("last_year", type=int)
    backfill.add_argument("--job", default="kostra_release",
                          help="the job to run over the years (default: kostra_release, SSB and what depends on it; "
                               "full_pipeline also imports the file sources)")
    backfill.add_argument("--no-reload", action="store_true",
                          help="only load years not loaded before (default: replace the years' cells)")
    for writer in (demo, run, backfill):
        writer.add_argument("--no-wait", action="store_true",
                            help="refuse at once when another run holds the warehouse writer lock (default: wait)")
        writer.add_argument("--all", action="store_true", dest="rebuild_all",
                            help="rebuild everything even when no source, code or configuration changed "
                                 "(default: only what depends on a change; nothing when nothing changed)")
    sub.add_parser("dbt-docs", help="dbt docs generate against a copy of the published warehouse")
    sources = sub.add_parser("sources", help="`sources check`: the SSB catalogue against SSB's live metadata")
    sources.add_argument("action", choices=["check"])
    sources.add_argument("--output", type=Path, default=None,
                         help="where to write the proposed catalogue (default: beside the warehouse)")
    report = sub.add_parser("report", help="the annual HTML report (and PDF) from the published warehouse")
    report.add_argument("--year", type=int, help="statistics year (default: the latest with data)")
    report.add_argument("--out", type=Path, help="output folder (default: reports/, or BOLIGSOSIAL_REPORTS)")
    report.add_argument("--no-pdf", action="store_true", help="skip the PDF (printed with headless Chromium)")
    sub.add_parser("publish-postgres", help="copy the published marts to BOLIGSOSIAL_POSTGRES_URL (schema marts)")
    sub.add_parser("postgres-reader-role", help="create the read-only BI role (BOLIGSOSIAL_POSTGRES_READER, "
                                                "password from BOLIGSOSIAL_POSTGRES_READER_PASSWORD)")
    sub.add_parser("export", help="write Parquet/CSV exports and manifest.json to BOLIGSOSIAL_EXPORTS")
    sub.add_parser("dbt-postgres", help="copy raw + reference to BOLIGSOSIAL_DBT_POSTGRES_URL and build the dbt "
                                        "models there (dbt-postgres, target postgres)")
    args = parser.parse_args(argv)
    if args.command == "dbt-docs":
        return dbt_docs()
    if args.command == "sources":
        from orchestration.ingest.ssb.check import run as check_sources

        return 0 if check_sources(out=args.output).ok else 1
    if args.command == "report":
        from orchestration.report.cli import report_command

        return report_command(args.year, args.out, pdf=not args.no_pdf)
    if args.command in ("publish-postgres", "postgres-reader-role", "export", "dbt-postgres"):
        from orchestration.serve import commands

        return getattr(commands, args.command.replace("-", "_"))()
    _configure_logging()
    started = time.time()
    mode = settings.source_mode()
    print(f"boligsosial: source mode '{mode}', warehouse {settings.warehouse_path()}", flush=True)
    from orchestration.writer_lock import WriterLockBusy

    lock = {"wait_for_lock": not args.no_wait, "command": "boligsosial " + " ".join(argv or sys.argv[1:]),
            "changed_only": not args.rebuild_all}
    try:
        if args.command == "backfill":
            from orchestration.partitions import year_range_tags

            try:
                tags = year_range_tags(args.first_year, args.last_year)
            except ValueError as err:
                print(f"✘ backfill {args.first_year} {args.last_year}: {err}", file=sys.stderr, flush=True)
                return 2
            print(f"backfilling statistics years {args.first_year}–{args.last_year} with job {args.job}", flush=True)
            config = {"ops": {"raw__ssb_observations": {"config": {"reload": not args.no_reload}}}}
            # only what depends on the reloaded SSB cells (and any other change) rebuilds
            result = run_pipeline(args.job, run_config=config, tags=tags, force_sources=("ssb",), **lock)
        else:
            result = run_pipeline("full_pipeline" if args.command == "demo" else args.job, **lock)
    except WriterLockBusy as err:
        print(f"✘ refused (--no-wait): {err}", file=sys.stderr, flush=True)
        return 2
    return summarise(result, started)


if __name__ == "__main__":
    sys.exit(main())
