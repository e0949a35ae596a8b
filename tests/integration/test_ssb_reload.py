"""A backfill with reload replaces a year's cells of every query of a table, not only the last query's."""

from __future__ import annotations

import duckdb

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
