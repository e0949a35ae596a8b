"""The completeness check: a year that loses most of a measure's cells, compared with the published
warehouse, is named (measure, years, cells lost) and fails (issue 14)."""

import duckdb

from orchestration.quality import completeness


def _warehouse(path, cells_80_plus: dict[int, int]):
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create table raw.ssb_contents_map as select * from (values "
                "('07459', 'Personer1', 'population'), ('12008', 'KOSantalldisp0000', 'dwellings_total')) "
                "t(table_id, contents_code, measure)")
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
    assert before[("population [age_80_plus]", "07459", 2019)] == 40
    assert before[("dwellings_total", "12008", 2020)] == 5
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
