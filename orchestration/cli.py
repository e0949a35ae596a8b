"""`boligsosial demo` and friends: run the pipeline outside the Dagster UI, with readable progress."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from orchestration import settings
from orchestration.runner import failure_message, run_pipeline


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
    from orchestration.warehouse import open_published, relation_exists

    path = settings.warehouse_path()
    import dagster as dg

    checks = list(result.get_asset_check_evaluations())
    passed = sum(1 for c in checks if c.passed)
    warned = sum(1 for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN)
    failed = len(checks) - passed - warned
    print()
    if not result.success:
        print(f"✘ The run failed; the published warehouse was left as it was: {path}")
        for event in result.all_events:
            if event.is_step_failure:
                print(f"  step {event.step_key}: {failure_message(event.step_failure_data.error)}")
        return 1
    con = open_published(path)
    try:
        rows = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() order by 1, 2"
        ).fetchall()
        synthetic = relation_exists(con, "raw.load_log") and con.execute("select bool_or(synthetic) from raw.load_log").fetchone()[0]
    finally:
        con.close()
    by_schema: dict[str, list[tuple[str, int]]] = {}
    for schema, name, size in rows:
        by_schema.setdefault(schema, []).append((name, size))
    print(f"✔ Warehouse published: {path}")
    if synthetic:
        print("  (built from SYNTHETIC demo data — not official statistics)")
    for schema in ("raw", "staging", "intermediate", "marts", "quality"):
        if schema in by_schema:
            tables = by_schema[schema]
            print(f"  {schema:<13}{len(tables):>3} tables {sum(s for _, s in tables):>12,} rows")
    for name, size in by_schema.get("marts", []):
        print(f"    marts.{name:<40}{size:>10,} rows")
    print(f"  checks: {passed} passed, {warned} warnings (published and reported), {failed} failed")
    digest = _latest_digest(since=started)
    print(f"  quality digest: {digest}" if digest else
          "  quality digest: nothing new for the working group, none sent" if not os.environ.get(
              "BOLIGSOSIAL_SMTP_HOST") else "  quality digest: mailed if anything was new (see the run log)")
    for event in result.get_asset_materialization_events():  # the annual report, when the job rendered it
        if event.asset_key.to_user_string() == "annual_report" and "index" in event.materialization.metadata:
            print(f"  annual report: {event.materialization.metadata['index'].value}")
    print(f"  elapsed: {time.time() - started:.1f} s")
    print(f"  query it (read-only, also while a load runs):\n    {Path(sys.executable)} -c \"import duckdb; "
          f"print(duckdb.connect('{path}', read_only=True).sql('select * from marts.rpt_goal_attainment'))\"")
    return 0


def dbt_docs() -> int:
    """Generate dbt's documentation site; works on a copy so a running load is never blocked."""
    import shutil
    import subprocess
    import tempfile

    from orchestration.project import dbt_executable

    published = settings.warehouse_path()
    if not published.exists():
        print(f"no published warehouse at {published}: run `make demo` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "docs.duckdb"
        shutil.copyfile(published, copy)
        env = {**os.environ, "BOLIGSOSIAL_DBT_DATABASE": str(copy)}
        result = subprocess.run([dbt_executable(), "docs", "generate", "--project-dir", str(settings.DBT_PROJECT_DIR),
                                 "--profiles-dir", str(settings.DBT_PROJECT_DIR)], env=env)
    if result.returncode == 0:
        print(f"dbt docs: {settings.DBT_PROJECT_DIR / 'target' / 'index.html'} "
              f"(serve with: .venv/bin/dbt docs serve --project-dir dbt_project --profiles-dir dbt_project)")
    return result.returncode


def _latest_digest(since: float) -> str | None:
    """Where this run's digest went, when it was written to the outbox (no SMTP configured)."""
    outbox = settings.outbox_dir()
    files = [p for p in outbox.glob("*digest*.eml") if p.stat().st_mtime >= since] if outbox.exists() else []
    return str(max(files, key=lambda p: p.stat().st_mtime)) if files else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boligsosial", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the whole pipeline (demo data unless BOLIGSOSIAL_SOURCE=live) and publish")
    run = sub.add_parser("run", help="run a named job over every statistics year")
    run.add_argument("job", nargs="?", default="full_pipeline")
    backfill = sub.add_parser("backfill", help="reload a range of statistics years, e.g. `backfill 2008 2019`")
    backfill.add_argument("first_year", type=int)
    backfill.add_argument("last_year", type=int)
    backfill.add_argument("--job", default="kostra_release")
    backfill.add_argument("--no-reload", action="store_true",
                          help="only load years not loaded before (default: replace the years' cells)")
    sub.add_parser("dbt-docs", help="dbt docs generate against a copy of the published warehouse")
    report = sub.add_parser("report", help="the annual HTML report (and PDF) from the published warehouse")
    report.add_argument("--year", type=int, help="statistics year (default: the latest with data)")
    report.add_argument("--out", type=Path, help="output folder (default: reports/, or BOLIGSOSIAL_REPORTS)")
    report.add_argument("--no-pdf", action="store_true", help="skip the PDF (printed with headless Chromium)")
    args = parser.parse_args(argv)
    if args.command == "dbt-docs":
        return dbt_docs()
    if args.command == "report":
        from orchestration.report.cli import report_command

        return report_command(args.year, args.out, pdf=not args.no_pdf)
    _configure_logging()
    started = time.time()
    mode = settings.source_mode()
    print(f"boligsosial: source mode '{mode}', warehouse {settings.warehouse_path()}", flush=True)
    if args.command == "backfill":
        from orchestration.partitions import year_range_tags

        print(f"backfilling statistics years {args.first_year}–{args.last_year} with job {args.job}", flush=True)
        config = {"ops": {"raw__ssb_observations": {"config": {"reload": not args.no_reload}}}}
        result = run_pipeline(args.job, run_config=config, tags=year_range_tags(args.first_year, args.last_year))
    else:
        result = run_pipeline("full_pipeline" if args.command == "demo" else args.job)
    return summarise(result, started)


if __name__ == "__main__":
    sys.exit(main())
