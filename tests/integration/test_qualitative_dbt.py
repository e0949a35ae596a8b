"""The qualitative marts built by the real dbt project on a small DuckDB holding only programme-report
answers: hand-written answers (the labelled set) and hostile cells. Free text must never break a mart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.qualitative.evaluate import load_labelled

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MARTS = ("fct_answer_theme", "rpt_qualitative_summary", "rpt_qualitative_quotes", "rpt_qualitative_unmatched")
QUESTION = {1: "act_transition_phase", 10: "act_eviction_systems"}
HOSTILE = [
    "<p>Faste <b>restansemøter</b> &amp; purring</p><script>alert('x')</script>",
    '=HYPERLINK("http://x";"klikk") Restansemøter hver måned.',
    "Faste restansemøter med NAV. " * 1500,
    "Faste restansemÃ¸ter med NAV og boligkontoret.",
    "«Faste» \"restansemøter\" med 'NAV'; DROP TABLE marts.fct_answer_theme; --",
    "Kontakt 12345678 eller ola@eksempel.no om restansemøter.",
    "",
    "   ",
    "Dette arbeidet er godt i gang, og vi fortsetter som før.",
]


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    base = tmp_path_factory.mktemp("qualitative")
    db = base / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    # the SSB tables are not optional in staging: present and empty here (no population → size class unknown)
    con.execute("""create table raw.ssb_observations (table_id varchar, region_code varchar, period varchar,
        contents_code varchar, dimensions varchar, value double, status_symbol varchar, unit varchar,
        table_updated varchar, checksum varchar, synthetic boolean)""")
    con.execute("""create table raw.ssb_contents_map (table_key varchar, table_id varchar, contents_code varchar,
        measure varchar, kind varchar, confirmed boolean, kostra boolean, first_year integer, last_year integer,
        series_break boolean)""")
    con.execute("""create table raw.programme_report_answers (
        report_year integer, municipality_code varchar, municipality_name varchar, question_id varchar,
        question_text varchar, goal integer, answer_kind varchar, answer_number double, answer_bool boolean,
        answer_scale integer, answer_text varchar, source_file varchar, received_at timestamp, synthetic boolean)""")
    rows = []
    for i, a in enumerate(load_labelled()):  # one municipality per answer, all in 2018
        rows.append((2018, f"9{i:03d}", f"Testkommune {i}", a["question_id"], "q", a["goal"], "text", a["text"]))
    for j, text in enumerate(HOSTILE):
        rows.append((2018, f"8{j:03d}", f"Fiendtlig {j}", QUESTION[10], "q", 10, "text", text))
    rows.append((2018, "8000", "Fiendtlig 0", "yn_eviction_systems", "q", 10, "yes_no", "Ja"))
    con.executemany("""insert into raw.programme_report_answers
        (report_year, municipality_code, municipality_name, question_id, question_text, goal, answer_kind, answer_text,
         synthetic) values (?, ?, ?, ?, ?, ?, ?, ?, true)""", rows)
    con.close()
    env = {**os.environ, "BOLIGSOSIAL_DBT_DATABASE": str(db)}
    dbt = Path(sys.executable).parent / "dbt"
    selection = " ".join(f"+{m}" for m in MARTS)
    done = subprocess.run([str(dbt), "build", "--select", selection,
                           # tests that also point at unselected models (the measure vocabulary) stay out
                           "--indirect-selection", "cautious", "--profiles-dir", str(DBT_DIR),
                           "--target-path", str(base / "target"), "--log-path", str(base / "logs")],
                          cwd=DBT_DIR, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:]
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def test_every_mart_is_filled_and_marked_synthetic(marts):
    for mart in MARTS:
        total, synthetic = marts.sql(f"select count(*), count(*) filter (where synthetic) from marts.{mart}"
                                     ).fetchall()[0]
        assert total > 0 and synthetic == total, mart


def test_summary_counts_shares_words_and_sentence(marts):
    # goal 10: six labelled answers (four about rent arrears: ids 75, 77, 78, 80) and seven hostile cells with
    # content (six about restansemøter; two more are blank) → 10 of 13, «de fleste» (0.65 ≤ share < 0.85)
    rows = marts.sql("""select n_municipalities, n_answered, share, frequency_word, sentence
                        from marts.rpt_qualitative_summary
                        where goal_id = 10 and theme = 'restanseoppfolging' and size_class = 'all'""").fetchall()
    assert rows == [(10, 13, 10 / 13, "de fleste",
                     "De fleste av kommunene (10 av 13) følger opp husleierestanser og mislighold.")]
    one = marts.sql("""select frequency_word, sentence from marts.rpt_qualitative_summary
                       where goal_id = 10 and theme = 'okonomisk_radgivning' and size_class = 'all'""").fetchall()
    assert one == [("flere", "Flere av kommunene (2 av 13) tilbyr økonomisk rådgivning og gjeldsrådgivning.")]
    # no population for the test codes: the size class is unknown, and says so
    assert marts.sql("select distinct size_class from marts.rpt_qualitative_summary order by 1").fetchall() \
        == [("all",), ("unknown",)]


def test_hostile_text_is_safe_in_quotes_and_facts(marts):
    quotes = [q for (q,) in marts.sql("select quote_text from marts.rpt_qualitative_quotes").fetchall()]
    assert quotes and all(q[0] not in "=+-@" and "\n" not in q and len(q) <= 302 for q in quotes)
    assert not any("<script>" in q or "12345678" in q or "@eksempel" in q for q in quotes)
    html_quotes = [h for (h,) in marts.sql("select quote_html from marts.rpt_qualitative_quotes").fetchall()]
    assert not any("<" in h or ">" in h for h in html_quotes)
    texts = dict(marts.sql("""select municipality_code, answer_text from marts.fct_answer_theme
                              where municipality_code like '8%' and theme_id = 'restanseoppfolging'""").fetchall())
    assert texts["8003"] == "Faste restansemøter med NAV og boligkontoret."   # mojibake undone
    assert "<p>" not in texts["8000"] and "&amp;" not in texts["8000"]
    assert len(texts["8002"]) <= 20_000
    # the SQL-looking answer is just text; the table it names is still there
    assert marts.sql("select count(*) from marts.fct_answer_theme").fetchall()[0][0] > 0


def test_three_quotes_at_most_one_per_municipality_with_attribution(marts):
    assert marts.sql("""select max(n) from (select count(*) n from marts.rpt_qualitative_quotes
                        group by year, goal_id, theme)""").fetchall()[0][0] <= 3
    assert marts.sql("""select count(*) from (select year, goal_id, theme, municipality_code
                        from marts.rpt_qualitative_quotes group by all having count(*) > 1)""").fetchall()[0][0] == 0
    attribution = marts.sql("""select attribution from marts.rpt_qualitative_quotes
                               where municipality_code = '8003' limit 1""").fetchall()
    assert attribution in ([], [("Fiendtlig 3 kommune, rapportering 2018",)])


def test_unmatched_answers_are_listed_and_empty_ones_are_not(marts):
    unmatched = dict(marts.sql("""select municipality_code, answer_text from marts.rpt_qualitative_unmatched
                                  where municipality_code like '8%'""").fetchall())
    assert "8008" in unmatched            # content, no theme
    assert "8006" not in unmatched and "8007" not in unmatched  # blank cells are not answers
    labelled_without = {f"9{i:03d}" for i, a in enumerate(load_labelled()) if not a["themes"]}
    found = {c for (c,) in marts.sql("select municipality_code from marts.rpt_qualitative_unmatched").fetchall()}
    assert len(found & labelled_without) >= len(labelled_without) // 2


def test_evidence_explains_every_theme(marts):
    assert marts.sql("""select count(*) from marts.fct_answer_theme
                        where evidence is null or evidence = '' or n_evidence < 1""").fetchall()[0][0] == 0
    # evidence words occur in the answer as written
    bad = marts.sql("""select count(*) from marts.fct_answer_theme
                       where not contains(lower(answer_text), lower(split_part(evidence, ' | ', 1)))""").fetchall()
    assert bad == [(0,)]
