"""scripts/compare_marts.py: a saved baseline compares equal to its own warehouse; a changed value is named."""

import importlib.util
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_marts.py"


def _script():
    spec = importlib.util.spec_from_file_location("compare_marts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_save_then_compare(tmp_path, capsys):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.rpt_x as select * from (values ('0301', 2019, 1.5), ('1103', 2019, 2.25)) "
                "t(municipality_code, year, value)")
    con.close()
    compare = _script()
    assert compare.save(str(warehouse), str(tmp_path / "baseline")) == 0
    assert compare.main(str(warehouse), str(tmp_path / "baseline")) == 0
    assert "1 of 1 baseline mart tables compared, 0 differ; 0 new" in capsys.readouterr().out
    con = duckdb.connect(str(warehouse))
    con.execute("update marts.rpt_x set value = 2.5 where municipality_code = '1103'")
    con.close()
    assert compare.main(str(warehouse), str(tmp_path / "baseline")) == 1
    assert "value: 1 values differ (first: 2.5 vs 2.25)" in capsys.readouterr().out
