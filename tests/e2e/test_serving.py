"""Serving BI, against a real PostgreSQL server on loopback and the real demo pipeline: `boligsosial demo`
publishes every mart to PostgreSQL and writes the exports; the read-only role reads and cannot write; a
REPEATABLE READ reader keeps its view through a publication; a failed publication, a wrong password and an
unreachable server leave everything as it was; the exports open in DuckDB and pandas as documented."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from shared_warehouse import demo_env

# every mart, as the manifest lists them: the indicator marts, the qualitative (issue 15) and register (issue 18) ones
MARTS = ["dim_goal", "dim_indicator", "dim_municipality", "fct_answer_theme", "fct_indicator_group_value",
         "fct_indicator_value", "rpt_dwelling_target_groups", "rpt_elderly_offer", "rpt_goal_attainment",
         "rpt_municipality_profile", "rpt_programme_comparison", "rpt_programme_share", "rpt_qualitative_quotes",
         "rpt_qualitative_summary", "rpt_qualitative_unmatched", "rpt_target_group_turnover", "rpt_trend_break"]
NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


@dataclass
class Served:
    warehouse: Path
    exports: Path
    server: object | None  # tests/postgres_server.PostgresServer, None without PostgreSQL binaries
    url: str | None
    output: str
    skip_reason: str = ""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def served(demo_warehouse, tmp_path_factory, request):
    """`boligsosial demo` on a copy of the session's demo warehouse after PostgreSQL (when its binaries exist)
    and a new exports folder were configured: the serving settings changed, so the run publishes again and
    serves every mart (orchestration/changes.py), as it does for a team that adds PostgreSQL later."""
    from orchestration import cli

    base = demo_warehouse.copy_to(tmp_path_factory.mktemp("served") / "warehouse")
    server, url, reason = None, None, ""
    try:
        server = request.getfixturevalue("postgres_server")
    except pytest.skip.Exception as exc:
        reason = str(exc)
    with demo_env(base) as mp:
        mp.setenv("BOLIGSOSIAL_EXPORTS", str(base / "served-exports"))
        mp.delenv("BOLIGSOSIAL_POSTGRES_READER", raising=False)
        if server is not None:
            import psycopg

            with psycopg.connect(server.url(), autocommit=True) as admin:
                admin.execute("drop database if exists boligsosial_bi")
                admin.execute("create database boligsosial_bi")
            url = server.url(database="boligsosial_bi")
            mp.setenv("BOLIGSOSIAL_POSTGRES_URL", url)
        else:
            mp.delenv("BOLIGSOSIAL_POSTGRES_URL", raising=False)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(["demo"])
        assert code == 0, out.getvalue()[-3000:]
        assert "code serve" in out.getvalue(), "the run must say it publishes again because serving changed"
        yield Served(settings.warehouse_path(), base / "served-exports", server, url, out.getvalue(), reason)


@pytest.fixture
def pg(served):
    if served.server is None:
        pytest.skip(served.skip_reason)
    return served


def _pg(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, **kwargs)


def _duck_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MARTS}


def _pg_counts(url: str) -> dict[str, int]:
    with _pg(url) as con:
        return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MARTS}


# --- PostgreSQL --------------------------------------------------------------------------------------------

def test_demo_publishes_every_mart_with_contract_types_keys_indexes_and_comments(pg):
    from orchestration.serve.contract import load_marts

    assert "PostgreSQL: marts published to postgresql://boligsosial_admin:***@127.0.0.1" in pg.output
    assert pg.server.password not in pg.output
    duck = _duck_counts(pg.warehouse)
    assert duck["fct_indicator_value"] > 100_000
    assert _pg_counts(pg.url) == duck
    contracts = load_marts()
    with _pg(pg.url) as con:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_indicator_value'").fetchall())
        expected = {"indicator_id": "text", "municipality_code": "text", "year": "integer",
                    "value": "double precision", "numerator": "double precision",
                    "denominator": "double precision", "status_symbol": "text", "vintage": "text",
                    "synthetic": "boolean", "is_harmonised": "boolean", "split_flag": "boolean"}
        assert expected.items() <= types.items()
        # the bounds of suppressed cells (issue 11) are numbers too
        assert all(types[c] == "double precision" for c in types if c.endswith(("_low", "_high")))
        pk = con.execute(
            "select array_agg(a.attname order by k.ord) from pg_constraint c "
            "cross join unnest(c.conkey) with ordinality k(attnum, ord) "
            "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum "
            "where c.conrelid = 'marts.fct_indicator_value'::regclass and c.contype = 'p'").fetchone()[0]
        assert pk == ["indicator_id", "municipality_code", "year"]
        indexes = {r[0] for r in con.execute("select indexdef from pg_indexes where schemaname = 'marts' "
                                             "and tablename = 'fct_indicator_value'").fetchall()}
        assert any(d.endswith("USING btree (year)") for d in indexes)
        assert any(d.endswith("USING btree (municipality_code)") for d in indexes)
        # every mart's tested grain is its primary key
        keys = dict(con.execute(
            "select c.conrelid::regclass::text, array_agg(a.attname order by k.ord) from pg_constraint c "
            "cross join unnest(c.conkey) with ordinality k(attnum, ord) "
            "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum "
            "where c.connamespace = 'marts'::regnamespace and c.contype = 'p' group by 1").fetchall())
        assert keys == {f"marts.{name}": list(contracts[name].grain) for name in MARTS}
        comment = con.execute("select col_description('marts.fct_indicator_value'::regclass, 4)").fetchone()[0]
        assert comment == contracts["fct_indicator_value"].column("value").description
        assert comment.startswith("The indicator value")
        table_comment = con.execute("select obj_description('marts.rpt_goal_attainment'::regclass)").fetchone()[0]
        assert table_comment == contracts["rpt_goal_attainment"].description
        synthetic, tables = con.execute("select synthetic, tables from marts.publication_info").fetchone()
        assert synthetic is True and tables == duck
        # the same figures as DuckDB, not only the same counts
        pg_value = con.execute("select change_pct from marts.rpt_goal_attainment where indicator_id = 'botid' "
                               "and period = 'report'").fetchone()[0]
        leftovers = con.execute("select nspname from pg_namespace where nspname like 'marts\\_\\_%'").fetchall()
        assert leftovers == []
    with duckdb.connect(str(pg.warehouse), read_only=True) as con:
        assert con.execute("select change_pct from marts.rpt_goal_attainment where indicator_id = 'botid' "
                           "and period = 'report'").fetchone()[0] == pytest.approx(pg_value, rel=1e-12)


def test_read_only_role_reads_the_marts_and_cannot_write(pg, monkeypatch, capsys):
    import psycopg

    from orchestration import cli

    monkeypatch.setenv("BOLIGSOSIAL_POSTGRES_URL", pg.url)
    monkeypatch.setenv("BOLIGSOSIAL_POSTGRES_READER_PASSWORD", "reader-secret")
    assert cli.main(["postgres-reader-role"]) == 0
    out = capsys.readouterr().out
    assert "BI connects with: postgresql://boligsosial_reader:$BOLIGSOSIAL_POSTGRES_READER_PASSWORD@127.0.0.1:" in out
    reader = pg.server.url(user="boligsosial_reader", password="reader-secret", database="boligsosial_bi")
    expected = _duck_counts(pg.warehouse)
    assert _pg_counts(reader) == expected
    with _pg(reader) as con:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            con.execute("delete from marts.dim_goal")
    with _pg(reader, autocommit=True) as con:  # even when it asks for a read-write transaction
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("begin read write; delete from marts.dim_goal")
    # every publication replaces the schema and grants the reader again
    assert cli.main(["publish-postgres"]) == 0
    assert f"published {len(MARTS)} marts" in capsys.readouterr().out
    assert _pg_counts(reader) == expected


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _modified_warehouse(source: Path, target: Path, sql: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as con:
        con.execute(sql)
    return target


def test_a_repeatable_read_reader_keeps_its_view_while_a_publication_swaps(pg, tmp_path):
    from orchestration.serve.postgres import publish_marts

    smaller = _modified_warehouse(pg.warehouse, tmp_path / "smaller.duckdb",
                                  "delete from marts.fct_indicator_value where year = 2025; "
                                  "delete from marts.dim_indicator where indicator_id not in "
                                  "(select indicator_id from marts.fct_indicator_value) "
                                  "and indicator_id not in (select indicator_id from marts.rpt_goal_attainment)")
    before = _pg_counts(pg.url)
    with duckdb.connect(str(smaller), read_only=True) as con:
        fct_after = con.execute("select count(*) from marts.fct_indicator_value").fetchone()[0]
    assert fct_after < before["fct_indicator_value"]

    reader = _pg(pg.url)
    reader.execute("begin isolation level repeatable read")
    fct_seen = reader.execute("select count(*), max(year) from marts.fct_indicator_value").fetchone()
    assert fct_seen == (before["fct_indicator_value"], 2025)

    waiting = threading.Event()
    outcome: dict = {}

    def log(message: str) -> None:
        if "waiting for readers" in message:
            waiting.set()

    def publish() -> None:
        try:
            outcome["publication"] = publish_marts(pg.url, smaller, lock_wait_seconds=120, log=log)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        assert waiting.wait(timeout=180), f"the publication never waited for the reader: {outcome}"
        # the publisher has loaded everything and waits: the reader still sees the old marts, all of them,
        # also one it had not touched before
        assert reader.execute("select count(*), max(year) from marts.fct_indicator_value").fetchone() == fct_seen
        assert reader.execute("select count(*) from marts.dim_indicator").fetchone()[0] == before["dim_indicator"]
        assert publisher.is_alive()
    finally:
        reader.execute("commit")
        reader.close()
        publisher.join(timeout=180)
    assert "error" not in outcome, outcome.get("error")
    after = _pg_counts(pg.url)
    assert after["fct_indicator_value"] == fct_after
    assert after["dim_indicator"] < before["dim_indicator"]
    # put the full marts back for the other tests
    publish_marts(pg.url, pg.warehouse, log=lambda _m: None)


def test_a_failed_publication_leaves_the_previous_marts(pg, tmp_path):
    from orchestration.serve.postgres import PublicationError, publish_marts

    publish_marts(pg.url, pg.warehouse, log=lambda _m: None)
    with _pg(pg.url) as con:
        published_at = con.execute("select published_at from marts.publication_info").fetchone()[0]
    before = _pg_counts(pg.url)
    broken = _modified_warehouse(pg.warehouse, tmp_path / "broken.duckdb",  # a duplicate of the grain
                                 "insert into marts.dim_indicator select * from marts.dim_indicator limit 1")
    with pytest.raises(PublicationError) as failure:
        publish_marts(pg.url, broken, log=lambda _m: None)
    message = str(failure.value)
    assert "previous marts are unchanged" in message and "dim_indicator" in message
    assert "***" in message and pg.server.password not in message
    assert _pg_counts(pg.url) == before
    with _pg(pg.url) as con:
        assert con.execute("select published_at from marts.publication_info").fetchone()[0] == published_at
        assert con.execute("select count(*) from pg_namespace where nspname like 'marts\\_\\_%'").fetchone()[0] == 0


@pytest.mark.parametrize("case", ["wrong_password", "unreachable"])
def test_wrong_password_or_unreachable_server_is_a_clear_error_and_duckdb_is_untouched(pg, case, monkeypatch,
                                                                                        capsys):
    from orchestration import cli

    url = (pg.server.url(password="not-the-password", database="boligsosial_bi") if case == "wrong_password"
           else f"postgresql://boligsosial_admin:secret@127.0.0.1:{_closed_port()}/boligsosial_bi")
    monkeypatch.setenv("BOLIGSOSIAL_POSTGRES_URL", url)
    monkeypatch.setenv("BOLIGSOSIAL_POSTGRES_CONNECT_TIMEOUT", "5")
    before_digest, before_stat = _sha256(pg.warehouse), pg.warehouse.stat()
    counts = _pg_counts(pg.url)
    assert cli.main(["publish-postgres"]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to PostgreSQL at postgresql://boligsosial_admin:***@127.0.0.1:" in err
    if case == "wrong_password":
        assert 'password authentication failed for user "boligsosial_admin"' in err
        assert "the user or password in BOLIGSOSIAL_POSTGRES_URL is wrong" in err
        assert "not-the-password" not in err
    else:
        assert "Connection refused" in err or "could not connect" in err
        assert "is the server running" in err
    assert _sha256(pg.warehouse) == before_digest
    assert pg.warehouse.stat().st_mtime_ns == before_stat.st_mtime_ns
    assert _pg_counts(pg.url) == counts


def test_without_a_url_the_step_is_skipped_and_says_so(served, monkeypatch, capsys):
    import dagster as dg

    from orchestration import cli
    from orchestration.assets.serve import postgres_marts
    from orchestration.resources import WarehouseResource

    monkeypatch.delenv("BOLIGSOSIAL_POSTGRES_URL", raising=False)
    assert cli.main(["publish-postgres"]) == 2
    assert "PostgreSQL publication skipped: BOLIGSOSIAL_POSTGRES_URL is not set" in capsys.readouterr().err
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([postgres_marts], resources={"warehouse": WarehouseResource()}, instance=instance)
    assert result.success
    assert result.get_asset_materialization_events() == []  # nothing published, nothing recorded as published
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("PostgreSQL publication skipped: BOLIGSOSIAL_POSTGRES_URL is not set" in m for m in messages)


# --- exports -----------------------------------------------------------------------------------------------

def test_exports_manifest_describes_every_mart_and_the_files_match_it(served):
    from orchestration.serve.contract import duckdb_type, load_marts

    assert f"exports: {served.exports}" in served.output
    manifest = json.loads((served.exports / "manifest.json").read_text(encoding="utf-8"))
    contracts = load_marts()
    counts = _duck_counts(served.warehouse)
    assert [t["name"] for t in manifest["tables"]] == MARTS
    assert manifest["synthetic"] is True and "SYNTETISKE DEMODATA" in manifest["notice"]
    assert manifest["generated_at"].endswith("+00:00")
    sources = {s["source"]: s for s in manifest["sources"]}
    assert {"ssb", "klass", "husbanken", "programme_reports", "kmd_survey"} <= set(sources)
    assert {t["table_id"] for t in sources["ssb"]["tables"]} >= {"12003", "12008"}
    assert all(t["updated"] for t in sources["ssb"]["tables"])
    for table in manifest["tables"]:
        contract = contracts[table["name"]]
        assert table["rows"] == counts[table["name"]]
        assert [(c["name"], c["type"], c["description"]) for c in table["columns"]] == \
            [(c.name, duckdb_type(c.data_type), c.description) for c in contract.columns]
        assert all(c["description"] for c in table["columns"]), table["name"]
        for f in table["files"]:
            assert _sha256(served.exports / f["path"]) == f["sha256"], f["path"]
            assert (served.exports / f["path"]).stat().st_size == f["bytes"]
    fct = next(t for t in manifest["tables"] if t["name"] == "fct_indicator_value")
    assert fct["partitioned_by"] == "year" and len(fct["files"]) == 18  # 2008–2025
    assert sum(fct["vintages"].values()) == fct["rows"]
    report_formats = {f["format"] for t in manifest["tables"] if t["kind"] == "report" for f in t["files"]}
    assert report_formats == {"parquet", "csv", "csv-excel-no"}
    assert not any(f["format"].startswith("csv") for t in manifest["tables"] if t["kind"] == "mart"
                   for f in t["files"])


def _parquet_location(root: Path, table: dict) -> Path:
    parquet = [f for f in table["files"] if f["format"] == "parquet"]
    return (root / parquet[0]["path"]).parent if table["partitioned_by"] else root / parquet[0]["path"]


def test_parquet_exports_open_in_duckdb_and_pandas_with_the_documented_columns(served):
    import pandas as pd

    manifest = json.loads((served.exports / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    for table in manifest["tables"]:
        location = _parquet_location(served.exports, table)
        pattern = f"{location}/*.parquet" if location.is_dir() else str(location)
        described = con.execute(f"describe select * from read_parquet('{pattern}')").fetchall()
        assert [(r[0], r[1].lower()) for r in described] == [(c["name"], c["type"]) for c in table["columns"]]
        assert con.execute(f"select count(*) from read_parquet('{pattern}')").fetchone()[0] == table["rows"]
        frame = pd.read_parquet(location)
        assert list(frame.columns) == [c["name"] for c in table["columns"]]
        assert len(frame) == table["rows"]
    # the figures themselves survive the trip
    fct = pd.read_parquet(served.exports / "parquet" / "fct_indicator_value")
    with duckdb.connect(str(served.warehouse), read_only=True) as wh:
        total = wh.execute("select sum(value), count(value) from marts.fct_indicator_value").fetchone()
    assert fct["value"].sum() == pytest.approx(total[0], rel=1e-12)
    assert fct["value"].count() == total[1]
    assert fct["year"].dtype.name == "int32" and fct["synthetic"].all()


def _csv_rows(path: Path, excel: bool) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == excel
    with open(path, encoding="utf-8-sig" if excel else "utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=";" if excel else ","))


def test_report_csv_has_no_cell_that_starts_like_a_formula_and_the_excel_variant_matches(served):
    import pandas as pd

    manifest = json.loads((served.exports / "manifest.json").read_text(encoding="utf-8"))
    reports = [t for t in manifest["tables"] if t["kind"] == "report"]
    assert {t["name"] for t in reports} == {m for m in MARTS if m.startswith("rpt_")}
    for table in reports:
        names = [c["name"] for c in table["columns"]]
        for variant in ("csv", "csv-excel-no"):
            rows = _csv_rows(served.exports / variant / f"{table['name']}.csv", excel=variant != "csv")
            assert rows[0] == names and len(rows) == table["rows"] + 1
            for row in rows[1:]:
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or NUMBER.match(cell), cell
        plain = pd.read_csv(served.exports / "csv" / f"{table['name']}.csv", keep_default_na=True)
        excel = pd.read_csv(served.exports / "csv-excel-no" / f"{table['name']}.csv", sep=";", decimal=",",
                            encoding="utf-8-sig")
        assert list(excel.columns) == names
        pd.testing.assert_frame_equal(plain, excel, check_exact=False, rtol=1e-12)
    # a negative change is a number in the Excel variant, with a decimal comma, not neutralised
    goal = pd.read_csv(served.exports / "csv-excel-no" / "rpt_goal_attainment.csv", sep=";", decimal=",",
                       encoding="utf-8-sig")
    assert goal["ambition_value"].dtype.kind == "f" and (goal["ambition_value"] < 0).any()


def test_free_text_that_looks_like_a_formula_is_neutralised(served, tmp_path):
    from orchestration.serve.exports import write_exports

    hostile = _modified_warehouse(served.warehouse, tmp_path / "hostile.duckdb", """
        create temp table pick as select indicator_id, period,
            row_number() over (order by indicator_id, period) as n from marts.rpt_goal_attainment;
        update marts.rpt_goal_attainment g set colour_reason = case p.n
            when 1 then '=HYPERLINK("http://example.invalid","klikk")' when 2 then '@SUM(A1:A9)'
            when 3 then '+47 22 00 00 00' when 4 then '-2+3' when 5 then '-12.5' when 6 then chr(9) || '=1+1'
            else colour_reason end
        from pick p where p.indicator_id = g.indicator_id and p.period = g.period and p.n <= 6;
    """)
    manifest = write_exports(hostile, tmp_path / "exports", log=lambda _m: None)
    assert manifest["tables"]
    for variant, excel in (("csv", False), ("csv-excel-no", True)):
        rows = _csv_rows(tmp_path / "exports" / variant / "rpt_goal_attainment.csv", excel)
        column = rows[0].index("colour_reason")
        reasons = [r[column] for r in rows[1:7]]
        assert reasons == ["'=HYPERLINK(\"http://example.invalid\",\"klikk\")", "'@SUM(A1:A9)",
                           "'+47 22 00 00 00", "'-2+3", "-12.5", "'\t=1+1"]


def test_an_export_whose_file_fails_leaves_the_previous_exports_whole(served, tmp_path, monkeypatch):
    """Files are written two at a time on threads: one failing file fails the export, and the export folder
    readers see is still the previous one, with no half-written folder beside it."""
    import orchestration.serve.exports as exports

    out = tmp_path / "exports"
    exports.write_exports(served.warehouse, out, log=lambda _m: None)
    files_before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    original = exports._file_entry

    def failing(root, path, fmt, **extra):
        if path.name == "rpt_municipality_profile.csv" and fmt == "csv-excel-no":
            raise OSError(f"disk full while writing {path.name}")
        return original(root, path, fmt, **extra)

    monkeypatch.setattr(exports, "_file_entry", failing)
    with pytest.raises(OSError, match="disk full while writing rpt_municipality_profile.csv"):
        exports.write_exports(served.warehouse, out, log=lambda _m: None)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"], "no staging folder is left behind"
