"""Serving rules without a server: formula neutralisation (Python and the SQL DuckDB runs agree), the
contract → PostgreSQL type mapping, the primary-key rule, and passwords kept out of messages."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.serve.contract import Column, ContractMismatch, Mart, postgres_type
from orchestration.serve.exports import _csv_expression, neutralise
from orchestration.serve.postgres import reader_url, redact

CASES = {
    "=SUM(A1)": "'=SUM(A1)", "+47 22 00 00 00": "'+47 22 00 00 00", "-2+3": "'-2+3", "@cmd": "'@cmd",
    "\t=1": "'\t=1", "\r=1": "'\r=1", "-12.5": "-12.5", "+3": "+3", "-1e-05": "-1e-05", "-,5": "-,5",
    "Rød: utviklingen går motsatt vei": "Rød: utviklingen går motsatt vei", "a=b": "a=b", "": "", "-": "'-",
}


@pytest.mark.parametrize("text,expected", CASES.items())
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def test_the_sql_used_for_large_tables_neutralises_exactly_like_python():
    con = duckdb.connect()
    con.execute("create table t (v varchar)")
    con.executemany("insert into t values (?)", [[k] for k in CASES] + [[None]])
    got = con.execute(f"select v, {_csv_expression('v', 'varchar', True)} from t").fetchall()
    assert got == [(k, None if k is None else neutralise(k)) for k in [*CASES, None]]
    # numbers get a decimal comma in the Excel variant, and keep their sign
    assert con.execute(f"select {_csv_expression('x', 'double', True)} from (select -12.5 as x)").fetchone() == ("-12,5",)


@pytest.mark.parametrize("contract,expected", [
    ("varchar", "text"), ("integer", "integer"), ("int", "integer"), ("bigint", "bigint"),
    ("double", "double precision"), ("boolean", "boolean"), ("date", "date"), ("decimal(12, 2)", "numeric(12,2)"),
    ("timestamp", "timestamp"), ("hugeint", "numeric(38,0)")])
def test_contract_types_map_to_postgres(contract, expected):
    assert postgres_type(contract) == expected


def test_an_unknown_type_is_refused_by_name():
    with pytest.raises(ContractMismatch, match=r"marts.x.tags has type 'varchar\[\]'"):
        postgres_type("varchar[]", "marts.x.tags")


def test_a_grain_with_a_nullable_column_is_not_a_primary_key():
    columns = (Column("indicator_id", "varchar", not_null=True), Column("size_class", "varchar"))
    assert not Mart("m", "", columns, grain=("indicator_id", "size_class")).grain_is_primary_key
    assert Mart("m", "", columns, grain=("indicator_id",)).grain_is_primary_key
    assert not Mart("m", "", columns).grain_is_primary_key


def test_passwords_stay_out_of_messages():
    url = "postgresql://publisher:s3cr%40t@db.example.invalid:5433/bi"
    assert redact(url) == "postgresql://publisher:***@db.example.invalid:5433/bi"
    assert redact("postgresql://publisher@localhost/bi") == "postgresql://publisher@localhost/bi"
    assert reader_url(url, "boligsosial_reader") == \
        "postgresql://boligsosial_reader:$BOLIGSOSIAL_POSTGRES_READER_PASSWORD@db.example.invalid:5433/bi"
