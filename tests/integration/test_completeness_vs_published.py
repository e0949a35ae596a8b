"""The completeness check: a year that loses most of a measure's cells, compared with the published
warehouse, is named (measure, years, cells lost) and fails (issue 14); a measure is judged across the
SSB tables that serve it, so a catalogue that moves it to a successor table does not block (issue 12)."""

import email
from email import policy

import duckdb
import pytest

from orchestration.quality import completeness

MAP_COLUMNS = "t(table_id, contents_code, measure, first_year, last_year)"


def _warehouse(path, cells_80_plus: dict[int, int]):
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create table raw.ssb_contents_map as select * from (values "
                "('07459', 'Personer1', 'population', null, null), "
                f"('12008', 'KOSantalldisp0000', 'dwellings_total', 2015, null)) {MAP_COLUMNS}")
    con.execute("create table raw.ssb_observations (table_id varchar, period varchar, contents_code varchar, "
                "query_name varchar)")
    for year in (2019, 2020):
        con.execute("insert into raw.ssb_observations select '07459', ?, 'Personer1', 'total' from range(10)",
                    [f"{year}"])
        con.execute("insert into raw.ssb_observations select '07459', ?, 'Personer1', 'age_80_plus__part001' "
                    "from range(?)", [f"{year}", cells_80_plus[year]])
        con.execute("insert into raw.ssb_observations select '12008', ?, 'KOSantalldisp0000', 'municipalities' "
                    "from range(5)", [f"{year}"])
    return con


def test_a_lost_query_is_named_with_its_years_and_cells(tmp_path):
    before = completeness.cells(_warehouse(tmp_path / "a.duckdb", {2019: 40, 2020: 40}))
    after = completeness.cells(_warehouse(tmp_path / "b.duckdb", {2019: 0, 2020: 0}))
    assert before.total("population [age_80_plus]", 2019) == 40
    assert before.total("dwellings_total", 2020) == 5
    [loss] = completeness.losses(before, after, max_loss_share=0.5)
    assert (loss.measure, loss.years, loss.before, loss.after) == ("population [age_80_plus]", (2019, 2020), 80, 0)
    assert loss.message == ("population [age_80_plus] (SSB 07459) lost 80 of 80 cells in 2019, 2020 compared "
                            "with the published warehouse (0 left)")


def test_a_small_loss_or_a_gain_passes(tmp_path):
    before = completeness.cells(_warehouse(tmp_path / "a.duckdb", {2019: 40, 2020: 40}))
    after = completeness.cells(_warehouse(tmp_path / "b.duckdb", {2019: 21, 2020: 400}))
    assert completeness.losses(before, after, max_loss_share=0.5) == []
    after = completeness.cells(_warehouse(tmp_path / "c.duckdb", {2019: 19, 2020: 40}))
    assert [(x.years, x.before, x.after) for x in completeness.losses(before, after, 0.5)] == [((2019,), 40, 19)]


def _recipients_warehouse(path, catalogue: list[tuple], cells: dict[tuple[str, int], int]):
    """social_assistance_recipients: `catalogue` rows (table, code, first, last), `cells` per (table, year)."""
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    rows = ", ".join(f"('{t}', '{c}', 'social_assistance_recipients', {f or 'null'}, {l or 'null'})"
                     for t, c, f, l in catalogue)
    con.execute(f"create table raw.ssb_contents_map as select * from (values {rows}) {MAP_COLUMNS}")
    con.execute("create table raw.ssb_observations (table_id varchar, period varchar, contents_code varchar, "
                "query_name varchar)")
    codes = {t: c for t, c, _, _ in catalogue}
    for (table, year), n in cells.items():
        con.execute("insert into raw.ssb_observations select ?, ?, ?, 'municipalities' from range(?)",
                    [table, str(year), codes.get(table, "KOSsosantkliente0000"), n])
    return con


OLD_CATALOGUE = [("12204", "KOSsosantkliente0000", None, None)]
NEW_CATALOGUE = [("12210", "KOSsosantkliente0000", 2008, 2014), ("13138", "KOSsosantkliente0000", 2015, 2021),
                 ("13995", "KOSsosantkliente0000", 2022, None)]


def test_a_measure_that_moved_to_successor_tables_is_not_a_loss(tmp_path):
    """The upgrade seen in issue 12: the old catalogue read social_assistance_recipients from 12204; the new
    one from 12210/13138/13995. 12204's cells no longer count for it, its successors' do: nothing lost."""
    years = {2013: 300, 2019: 356, 2023: 357}
    before = completeness.cells(_recipients_warehouse(tmp_path / "a.duckdb", OLD_CATALOGUE,
                                                      {("12204", y): n for y, n in years.items()}))
    moved = {("12204", y): n for y, n in years.items()}  # still in raw, no longer the measure's table
    moved |= {("12210", 2013): 300, ("13138", 2019): 356, ("13995", 2023): 357}
    after = completeness.cells(_recipients_warehouse(tmp_path / "b.duckdb", NEW_CATALOGUE, moved))
    assert completeness.losses(before, after, max_loss_share=0.5) == []
    # judged per table, as before, this was «lost 1,013 of 1,013 cells»; across tables the counts match
    assert [after.total("social_assistance_recipients", y) for y in years] == list(years.values())


def test_a_measure_that_lost_most_of_a_year_across_its_tables_still_blocks(tmp_path):
    """The successor holds only part of 2019 and an overlapping ended generation does not make up for it:
    a cell counts only in the years the catalogue gives its table."""
    before = completeness.cells(_recipients_warehouse(tmp_path / "a.duckdb", OLD_CATALOGUE,
                                                      {("12204", 2019): 356, ("12204", 2020): 356}))
    after_cells = {("13138", 2019): 100, ("13138", 2020): 356,
                   ("12210", 2019): 356}  # 12210 ends in 2014: its 2019 cells are not this measure's
    after = completeness.cells(_recipients_warehouse(tmp_path / "b.duckdb", NEW_CATALOGUE, after_cells))
    [loss] = completeness.losses(before, after, max_loss_share=0.5)
    assert loss.message == ("social_assistance_recipients (SSB 12204) lost 256 of 356 cells in 2019 compared "
                            "with the published warehouse (100 left)")


def test_a_measure_the_new_catalogue_dropped_is_listed_not_judged(tmp_path):
    before = completeness.cells(_warehouse(tmp_path / "a.duckdb", {2019: 40, 2020: 40}))
    con = _warehouse(tmp_path / "b.duckdb", {2019: 40, 2020: 40})
    con.execute("delete from raw.ssb_contents_map where measure = 'dwellings_total'")
    after = completeness.cells(con)
    assert completeness.losses(before, after, 0.5) == []
    assert completeness.unjudged(before, after) == ["dwellings_total"]


def test_a_loss_becomes_a_finding_and_a_digest_in_the_outbox(tmp_path, monkeypatch):
    """The build of a blocked run is discarded, so the finding goes out at once: mail, else the outbox."""
    for name in ("BOLIGSOSIAL_SMTP_HOST", "BOLIGSOSIAL_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOLIGSOSIAL_WAREHOUSE", str(tmp_path / "boligsosial.duckdb"))
    monkeypatch.setenv("BOLIGSOSIAL_OUTBOX", str(tmp_path / "outbox"))
    before = completeness.cells(_warehouse(tmp_path / "a.duckdb", {2019: 40, 2020: 40}))
    after = completeness.cells(_warehouse(tmp_path / "b.duckdb", {2019: 0, 2020: 0}))
    [finding] = completeness.findings(completeness.losses(before, after, 0.5))
    assert finding["finding_id"] == "cells_lost:0000:-:population [age_80_plus]"
    assert (finding["severity"], finding["observed"], finding["expected"], finding["deviation"]) == \
        ("ERROR", 0.0, 80.0, -80.0)
    delivery = completeness.alert_unpublished([finding], "run-1", tmp_path / "boligsosial.duckdb", synthetic=True)
    assert delivery.status == "written" and delivery.path.parent == tmp_path / "outbox"
    message = email.message_from_bytes(delivery.path.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "NOT published: completeness_vs_published failed" in text
    assert "population [age_80_plus] (SSB 07459) lost 80 of 80 cells in 2019, 2020" in text
    assert "1 nye" in message["Subject"]


@pytest.mark.parametrize("columns", ["t(table_id, contents_code, measure)"])
def test_a_warehouse_from_before_the_catalogue_spans_is_read(tmp_path, columns):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("create schema raw")
    con.execute(f"create table raw.ssb_contents_map as select * from (values ('12204', 'K', "
                f"'social_assistance_recipients')) {columns}")
    con.execute("create table raw.ssb_observations as select '12204' as table_id, '2019' as period, 'K' as "
                "contents_code, 'municipalities' as query_name from range(7)")
    assert completeness.cells(con).total("social_assistance_recipients", 2019) == 7
