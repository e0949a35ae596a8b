"""A backfill with reload replaces a year's cells of every query of a table, not only the last query's."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from orchestration import settings


def test_reload_keeps_the_cells_of_every_query_of_a_release(module_env, tmp_path):
    from orchestration.ingest.ssb import releases as ssb_asset

    table = next(t for t in ssb_asset.load_table_config() if t["table_id"] == "07459")
    release = ssb_asset.demo_releases(table, settings.DEMO_DATA_DIR)[-1]
    assert set(release.documents) == {"total", "age_80_plus"}
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    try:
        ssb_asset.loaded_years(con)  # creates raw.ssb_table_versions, as ingest does
        for reload in (False, True, True):
            ssb_asset.load_release(con, table, release, {2020}, reload=reload)
            per_query = dict(con.execute("select query_name, count(*) from raw.ssb_observations "
                                         "where region_code = '0301' group by 1").fetchall())
            # Oslo: one total cell and 26 single ages 80–105+ for 1 January 2020, however often reloaded
            assert per_query == {"total": 1, "age_80_plus": 26}
    finally:
        con.close()


def test_a_release_loads_coded_cells_with_provenance_and_missing_values_as_null(module_env, tmp_path):
    """raw.ssb_observations from the parser's Arrow table: the same columns and types as ever, every cell,
    a flagged cell's value NULL (never NaN or 0), the release's stamp beside the data's own, provenance
    once per cell, and only the years asked for."""
    from orchestration.ingest.ssb import releases as ssb_asset
    from orchestration.ingest.ssb.jsonstat import parse_jsonstat2

    table = next(t for t in ssb_asset.load_table_config() if t["table_id"] == "07459")
    release = ssb_asset.demo_releases(table, settings.DEMO_DATA_DIR)[-1]
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    try:
        ssb_asset.loaded_years(con)
        rows = ssb_asset.load_release(con, table, release, {2019, 2020})
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_name = 'ssb_observations' order by ordinal_position").fetchall())
        assert types == {"table_id": "VARCHAR", "region_code": "VARCHAR", "period": "VARCHAR",
                         "contents_code": "VARCHAR", "dimensions": "VARCHAR", "value": "DOUBLE",
                         "status_symbol": "VARCHAR", "unit": "VARCHAR", "decimals": "BIGINT",
                         "table_updated": "VARCHAR", "data_updated": "VARCHAR", "query_name": "VARCHAR",
                         "source_url": "VARCHAR", "landed_path": "VARCHAR", "checksum": "VARCHAR",
                         "fetched_at": "TIMESTAMP", "synthetic": "BOOLEAN"}
        expected = pd.concat([parse_jsonstat2(json.loads(doc), "07459").assign(query_name=name)
                              for name, doc in release.documents.items()])
        expected = expected[expected["period"].str[:4].isin(["2019", "2020"])]
        assert rows == len(expected) == con.execute("select count(*) from raw.ssb_observations").fetchone()[0]
        loaded = con.execute("select query_name, region_code, period, dimensions, value, status_symbol, "
                             "table_updated, data_updated, synthetic, source_url from raw.ssb_observations").df()
        merged = expected.merge(loaded, on=["query_name", "region_code", "period", "dimensions"],
                                suffixes=("", "_loaded"), validate="one_to_one")
        assert len(merged) == rows
        pd.testing.assert_series_equal(merged["value_loaded"], merged["value"], check_names=False)
        assert (merged["status_symbol_loaded"].fillna("") == merged["status_symbol"].fillna("")).all()
        assert con.execute("select count(*) from raw.ssb_observations where isnan(value)").fetchone()[0] == 0
        flagged = con.execute("select count(*), count(value) from raw.ssb_observations "
                              "where status_symbol is not null").fetchone()
        assert flagged[0] > 0 and flagged[1] == 0
        assert set(merged["table_updated_loaded"]) == {release.updated}
        assert set(merged["data_updated"]) == set(merged["table_updated"])  # the document's own stamp
        assert merged["synthetic"].all() and set(merged["source_url"]) == {release.origin}
    finally:
        con.close()
