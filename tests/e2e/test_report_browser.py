"""The annual report end to end, read in a real browser: the demo pipeline's report asset runs with the report
on (on a copy of the session's demo warehouse), then headless Chromium (Debian's, driven by Playwright) opens
the files and we assert on what a reader sees — the goal tables with the marts' colours, charts with a size, a
municipality found from the index, the synthetic mark — while every request that is not a local file is
recorded and refused.

Screenshots go to the test's tmp output (the path is printed; `pytest -s` shows it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.report.pdf import QUIET_FLAGS, find_chromium
from shared_warehouse import demo_env

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine: `apt-get install chromium` (.ci/run does it where it can)")


@pytest.fixture(scope="module")
def playwright_browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make test installs it)")
    with sync_api.sync_playwright() as p:
        flags = [f for f in QUIET_FLAGS if f != "--headless"]
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def published(demo_warehouse, tmp_path_factory):
    """The full_pipeline job's report step with the report on (the rest of the suite turns it off), on a copy
    of the session's demo warehouse: the report reads only the published warehouse, so the job's other steps
    need not run again here."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.runner import _run

    report = dg.AssetKey(["annual_report"])
    assert report in defs.resolve_job_def("full_pipeline").asset_layer.selected_asset_keys
    base = demo_warehouse.copy_to(tmp_path_factory.mktemp("report") / "warehouse")
    with demo_env(base) as mp:
        mp.setenv("BOLIGSOSIAL_REPORT", "on")
        result = _run("full_pipeline", None, True, None, asset_selection=[report])
        assert result.success, [e.message for e in result.all_events if e.is_step_failure]
        materialization = [m for m in result.get_asset_materialization_events() if m.asset_key == report]
        assert materialization, "full_pipeline did not materialize annual_report"
        yield settings.warehouse_path(), materialization[0].materialization.metadata


@pytest.fixture
def page(playwright_browser):
    """A page whose every request is recorded; anything but a local file or inline data is refused."""
    context = playwright_browser.new_context(viewport={"width": 1300, "height": 1800})
    outside: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    context.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else outside.append(r.url))
    page = context.new_page()
    page.outside_requests = outside
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-screenshots")
    print(f"\nreport screenshots: {path}")
    return path


def _latest_year(con) -> int:
    return con.execute("select max(year) from marts.rpt_municipality_profile where value is not null").fetchone()[0]


def test_pipeline_writes_the_report_with_a_page_per_current_municipality(published):
    warehouse, metadata = published
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        year = _latest_year(con)
        codes = {r[0] for r in con.execute(
            "select municipality_code from marts.dim_municipality where year = ?", [year]).fetchall()}
    finally:
        con.close()
    folder = warehouse.parent / "reports" / str(year)
    assert metadata["year"].value == year
    assert (folder / "index.html").exists()
    pages = {p.stem for p in (folder / "kommune").glob("*.html")}
    assert pages == codes and len(codes) == 357
    for path in [folder / "index.html", *sorted((folder / "kommune").glob("*.html"))[::40]]:
        html = path.read_text(encoding="utf-8")
        assert "SYNTETISKE DEMODATA" in html, f"{path.name} lacks the synthetic mark"
        assert not re.search(r"""(src|href)=["']https?://""", html), f"{path.name} loads something from the network"
    pdf = folder / f"rapport-{year}.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= 10


def test_goal_tables_show_the_colours_of_the_marts(published, page, shots):
    warehouse, _ = published
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        year = _latest_year(con)
        expected = dict(con.execute(
            "select indicator_id, status_colour from marts.rpt_goal_attainment where period = 'latest'").fetchall())
    finally:
        con.close()
    page.goto((warehouse.parent / "reports" / str(year) / "index.html").as_uri())
    assert page.get_by_test_id("synthetic-mark").is_visible()
    assert "SYNTETISKE DEMODATA" in page.get_by_test_id("synthetic-mark").inner_text()
    rows = page.locator("table.goal-table tr[data-indicator]")
    seen = dict(zip(rows.evaluate_all("rs => rs.map(r => r.dataset.indicator)"),
                    rows.evaluate_all("rs => rs.map(r => r.dataset.colour)")))
    assert seen == expected
    # what the reader sees: the colour's word and its background, green where the mart says green
    green = next(i for i, c in expected.items() if c == "green")
    cell = page.locator(f"tr[data-indicator='{green}'] td.status")
    assert cell.inner_text().strip().endswith("Grønn")
    assert cell.evaluate("e => getComputedStyle(e.querySelector('.swatch')).backgroundColor") == "rgb(0, 158, 115)"
    red = [i for i, c in expected.items() if c == "red"]
    if red:
        swatch = page.locator(f"tr[data-indicator='{red[0]}'] td.status .swatch")
        assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(213, 94, 0)"
    page.locator("#hovedmal-1").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "goal-table.png"), clip={"x": 0, "y": page.locator("#hovedmal-1")
                    .bounding_box()["y"] - 10, "width": 1300, "height": 1400})
    page.screenshot(path=str(shots / "index.png"))
    assert page.outside_requests == []


def test_each_figure_names_the_years_it_covers_and_the_qualitative_summary_reads_as_prose(published, page):
    """A 2020 target on 2025 data is judged on 2014–2020 (rpt_goal_attainment.assessed_year): the figure says so and
    shows the change to the latest year apart; the qualitative section shows the mart's sentences, not its columns."""
    warehouse, _ = published
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        year = _latest_year(con)
        judged = con.execute("""select indicator_id, baseline_year, assessed_year, end_year
                                from marts.rpt_goal_attainment where period = 'latest'
                                  and ambition_type = 'change_pct_from_baseline'
                                  and change_from_baseline_pct is not null""").fetchall()
        sentences = [s for (s,) in con.execute("""select sentence from marts.rpt_qualitative_summary
                     where size_class = 'all' and year = (select max(year) from marts.rpt_qualitative_summary
                                                          where year <= ?)""", [year]).fetchall()]
    finally:
        con.close()
    assert any(assessed != end for _, _, assessed, end in judged)  # the demo has one: dwellings_total
    page.goto((warehouse.parent / "reports" / str(year) / "index.html").as_uri())
    for indicator, baseline, assessed, end in judged:
        figure = page.locator(f"tr[data-indicator='{indicator}'] td.num").inner_text()
        assert f"endring {baseline}–{assessed}" in figure, (indicator, figure)
        assert (f"–{end}: " in figure) == (assessed != end), (indicator, figure)
    tables = page.get_by_test_id("qualitative")
    assert tables.count() >= 10
    assert tables.first.locator("thead th").all_inner_texts()[:3] == ["Tema", "Alle som svarte", "Store"]
    shown = "\n".join(tables.all_inner_texts())
    assert sentences and all(s in shown for s in sentences)
    assert not re.search(r"n_municipalities|size_class|theme_name|0\.\d{6}", shown)
    reasons = "\n".join(page.locator("td.reason").all_inner_texts())
    assert not re.search(r"\d\.\d", reasons), "a reason still writes a decimal point"
    assert page.outside_requests == []


def test_charts_render_with_a_size(published, page, shots):
    warehouse, _ = published
    index = next((warehouse.parent / "reports").glob("*/index.html"))
    page.goto(index.as_uri())
    charts = page.locator("img.chart")
    assert charts.count() >= 10
    sizes = charts.evaluate_all(
        "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.getBoundingClientRect().width, i.getBoundingClientRect().height])")
    assert all(complete and natural > 0 and w > 100 and h > 50 for complete, natural, w, h in sizes), sizes
    figure = page.get_by_test_id("time-series").first
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(shots / "time-series.png"))
    # definitions sit beside every figure
    assert page.locator("figure").count() == page.locator("figure aside.definitions").count()
    assert page.outside_requests == []


def test_a_municipality_is_found_from_the_index(published, page, shots):
    warehouse, _ = published
    index = next((warehouse.parent / "reports").glob("*/index.html"))
    page.goto(index.as_uri())
    page.fill("#finn", "bodo")  # without the ø: the finder folds diacritics
    assert page.locator("#kommuneliste li:not([hidden])").count() == 1
    with page.expect_navigation():
        page.press("#finn", "Enter")
    assert page.url.endswith("/kommune/1804.html")
    assert page.get_by_test_id("municipality-name").inner_text().startswith("Bodø")
    assert page.get_by_test_id("synthetic-mark").is_visible()
    chart = page.get_by_test_id("municipality-chart").locator("img")
    assert chart.evaluate("i => i.naturalWidth") > 0 and chart.bounding_box()["height"] > 200
    assert page.get_by_test_id("comparison").locator("tbody tr").count() >= 8
    page.screenshot(path=str(shots / "municipality-1804.png"), full_page=True)
    page.goto(index.as_uri())
    page.fill("#finn", "0301")
    page.locator("#kommuneliste li:not([hidden]) a").first.click()
    assert page.get_by_test_id("municipality-name").inner_text().startswith("Oslo")
    assert page.outside_requests == []


def test_free_text_is_escaped_and_the_qualitative_summary_is_shown_when_it_exists(published, page, tmp_path):
    """A copy of the warehouse with a finding and a qualitative summary carrying markup: the reader sees the
    markup as text, and no script in it runs."""
    warehouse, _ = published
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        year = _latest_year(con)
        con.execute("""insert into quality.findings (finding_id, kind, severity, municipality_code, municipality_name,
                       year, message, status, first_seen, followup_status)
                       values ('test:1804', 'test', 'WARNING', '1804', 'Bodø', ?, 
                               '<script>window.pwned = 1</script><b>fet</b> & mer', 'open', now(), 'contacted')""",
                    [year])
        con.execute("""insert into marts.rpt_qualitative_summary (goal_id, year, theme, theme_name, size_class,
                       n_municipalities, n_answered, share, frequency_word, sentence, synthetic)
                       select 5, max(year), 'test', 'Samarbeid', 'all', 1, 2, 0.5, 'om lag halvparten',
                              '<img src=x onerror="window.pwned=2">Flere kommuner samarbeider', true
                       from marts.rpt_qualitative_summary""")
    finally:
        con.close()
    from orchestration.report import build_report

    result = build_report(warehouse=copy, out_dir=tmp_path / "reports", pdf=False, municipalities={"1804"})
    assert result.municipality_pages == 1
    page.goto((result.directory / "kommune" / "1804.html").as_uri())
    findings = page.get_by_test_id("municipality-findings")
    assert "<script>window.pwned = 1</script><b>fet</b> & mer" in findings.inner_text()
    # the register's and the checks' codes, in Norwegian
    assert "kontaktet" in findings.inner_text() and "advarsel" in findings.inner_text()
    page.goto(result.index.as_uri())
    assert "onerror=\"window.pwned=2\"" in "\n".join(page.get_by_test_id("qualitative").all_inner_texts())
    assert page.evaluate("() => window.pwned") is None
    assert page.get_by_test_id("qualitative-missing").count() == 0
    assert page.outside_requests == []


def test_an_earlier_year_uses_the_period_that_ends_in_it(published, page, tmp_path):
    warehouse, _ = published
    from orchestration.report import build_report

    result = build_report(year=2019, warehouse=warehouse, out_dir=tmp_path, pdf=False, municipalities={"0301"})
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = dict(con.execute(
            "select indicator_id, status_colour from marts.rpt_goal_attainment where period = 'report'").fetchall())
    finally:
        con.close()
    page.goto(result.index.as_uri())
    rows = page.locator("table.goal-table tr[data-indicator]")
    seen = dict(zip(rows.evaluate_all("rs => rs.map(r => r.dataset.indicator)"),
                    rows.evaluate_all("rs => rs.map(r => r.dataset.colour)")))
    assert seen == expected
    assert "Boligsosial analyse 2019" in page.locator("h1").inner_text()
