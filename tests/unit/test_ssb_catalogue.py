"""The SSB catalogue (config/ssb_tables.yaml): per measure, which table and ContentsCode serve which years."""

from __future__ import annotations

import textwrap

import pytest

from orchestration.ingest.ssb import catalogue as cat
from orchestration.ingest.ssb.check import score, suggest

# ContentsCodes seen verbatim on SSB's definition pages (sources.md «What is known of SSB's real catalogue»).
VERBATIM = {
    "dwellings_per_1000_published": "KOSboligSper10000000",
    "owned_share_published": "KOSEidavsamlet0000",
    "dwellings_private_disposal": "KOSboligpkommuna0000",
    "wheelchair_share_published": "KOSAndeltilgjeng0000",
    "households_newly_moved_in": "KOSantnyinnflytt0000",
    "temp_households_total": "KOStotmidlbo0000",
    "temp_households_children": "KOSmidlbobarn0000",
    "temp_households_night_shelter": "KOStotnatt0000",
    "newly_moved_in_substance_mental_share_published": "KOSandnyinnflytt0001",
    "waiting_list_substance_mental": "KOSventelistepsy0001",
}


def test_series_cross_the_06493_to_12008_generation_with_a_flagged_break():
    catalogue = cat.load()
    spans = catalogue.measures()["dwellings_total"]
    assert [(s.table_id, s.first, s.last, s.series_break) for s in spans] == [
        ("06493", 2008, 2014, False), ("12008", 2015, None, True)]
    assert {"measure": "dwellings_total", "year": 2015} in [
        {k: b[k] for k in ("measure", "year")} for b in catalogue.series_breaks()]
    social = catalogue.measures()["social_assistance_recipients"]
    assert [(s.table_id, s.first, s.last) for s in social] == [("12210", 2008, 2014), ("13138", 2015, 2021),
                                                               ("13995", 2022, None)]


def test_a_code_redefined_as_0001_is_a_later_generation_of_the_same_series():
    catalogue = cat.load()
    spans = catalogue.measures()["newly_moved_in_substance_mental_share_published"]
    # the categories were merged from 2020 (sources.md): the guessed …0000 code before, the verbatim …0001 after
    assert [(s.table_id, s.code, s.first, s.last, s.confirmed, s.series_break) for s in spans] == [
        ("12008", "KOSandnyinnflytt0000", 2015, 2019, False, False),
        ("12008", "KOSandnyinnflytt0001", 2020, None, True, True)]
    assert {"measure": "newly_moved_in_substance_mental_share_published", "year": 2020} in [
        {k: b[k] for k in ("measure", "year")} for b in catalogue.series_breaks()]
    # reported from 2020 only, so no earlier generation and no break
    [waiting] = catalogue.measures()["waiting_list_substance_mental"]
    assert (waiting.code, waiting.first, waiting.series_break) == ("KOSventelistepsy0001", 2020, False)
    [night] = catalogue.measures()["temp_households_night_shelter"]
    assert (night.table_id, night.code, night.first, night.confirmed) == ("12008", "KOStotnatt0000", 2015, True)


def test_confirmed_flags_are_honest():
    catalogue = cat.load()
    confirmed = {(s.measure, s.code) for s in catalogue.spans if s.confirmed}
    # every confirmed code is one seen verbatim (or 07459's Personer1), and every verbatim one is confirmed
    assert confirmed == {*VERBATIM.items(), ("population", "Personer1")}
    # the old generation's codes follow 06493's style but none was seen: never confirmed
    old = [s for s in catalogue.spans if s.table_id == "06493"]
    assert old and all(not s.confirmed and s.code.startswith("K") and "P" in s.code for s in old)


def test_years_for_asks_a_table_only_for_what_it_holds_and_serves():
    catalogue = cat.load()
    assert catalogue.years_for("06493", range(2008, 2015), [2019]) == []
    assert catalogue.years_for("12008", range(2015, 2026), [2014, 2015]) == [2015]
    assert catalogue.years_for("12008", range(2015, 2024), None) == list(range(2015, 2024))
    assert catalogue.years_for("13138", range(2015, 2022), [2021, 2022]) == [2021]


def test_dependent_indicators_come_from_the_indicator_seed():
    by_measure = cat.indicators_by_measure()
    assert {"dwellings_total", "turnover_rate", "dwellings_per_1000", "disadvantaged_dwellings"} <= set(
        by_measure["dwellings_total"])
    assert by_measure["dwellings_user_owned_disposal"] == ["referral_dwellings"]
    assert "dwellings_per_1000" in by_measure["population"]


@pytest.mark.parametrize(("yaml_text", "problem"), [
    ("""
     tables: [{key: a, table_id: "1", title: t, queries: []}]
     measures:
       m: {kind: count, series: [{table: "1", code: A, from: 2008, to: 2016}, {table: "1", code: B, from: 2015}]}
     """, "overlap"),
    ("""
     tables: [{key: a, table_id: "1", title: t, queries: []}]
     measures:
       m: {kind: count, series: [{table: "2", code: A, from: 2008}]}
     """, "table '2' is not under `tables`"),
    ("""
     on_missing: maybe
     tables: [{key: a, table_id: "1", title: t, queries: []}]
     measures:
       m: {kind: count, series: [{table: "1", code: A, from: 2008}]}
     """, "on_missing"),
])
def test_an_inconsistent_catalogue_is_refused_naming_the_problem(tmp_path, yaml_text, problem):
    path = tmp_path / "ssb_tables.yaml"
    path.write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    with pytest.raises(cat.CatalogueError, match=problem):
        cat.load(path)


def test_on_missing_setting_environment_overrides_the_file(monkeypatch):
    catalogue = cat.load()
    monkeypatch.delenv(cat.ON_MISSING_ENV, raising=False)
    assert cat.on_missing_setting(catalogue) == "stop"
    monkeypatch.setenv(cat.ON_MISSING_ENV, "continue")
    assert cat.on_missing_setting(catalogue) == "continue"
    monkeypatch.setenv(cat.ON_MISSING_ENV, "ignore")
    with pytest.raises(ValueError, match=cat.ON_MISSING_ENV):
        cat.on_missing_setting(catalogue)


def test_label_matching_ranks_the_right_code_first():
    contents = {"KOSantkomdisp0000": "Kommunalt disponerte boliger i alt",
                "KOSledige0000": "Ledige kommunalt disponerte boliger",
                "KOSboligSper10000000": "Kommunalt disponerte boliger per 1000 innbyggere"}
    best = suggest("Kommunalt disponerte boliger i alt", contents)
    assert best[0].code == "KOSantkomdisp0000" and best[0].score == 1.0
    assert score("Husstander i midlertidig botilbud", "Sosialhjelpsmottakere") < 0.55


def test_metadata_of_both_api_generations_parses_to_codes_labels_and_years():
    v2 = {"role": {"time": ["Tid"], "metric": ["ContentsCode"]}, "id": ["ContentsCode", "Tid"],
          "dimension": {"ContentsCode": {"category": {"index": {"A": 0}, "label": {"A": "Alpha"}}},
                        "Tid": {"category": {"index": {"2015": 0, "2016": 1}}}}, "value": []}
    meta = cat.parse_metadata("1", v2)
    assert meta.contents == {"A": "Alpha"} and meta.years == [2015, 2016]
    v0 = {"title": "t", "variables": [{"code": "ContentsCode", "values": ["A"], "valueTexts": ["Alpha"]},
                                      {"code": "Tid", "values": ["2015"], "time": True}]}
    meta = cat.parse_metadata("1", v0)
    assert meta.contents == {"A": "Alpha"} and meta.years == [2015]
    # no periods in the metadata: firstPeriod/lastPeriod of GET /tables/{id}
    bare = {"variables": [{"code": "ContentsCode", "values": ["A"], "valueTexts": ["Alpha"]}]}
    assert cat.parse_metadata("1", bare, {"firstPeriod": "2015", "lastPeriod": "2017"}).years == [2015, 2016, 2017]


def test_a_gap_says_in_the_marts_words_which_table_lacks_which_code():
    catalogue = cat.load()
    vacant = next(s for s in catalogue.spans if s.code == "KOSledige0000")
    gap = cat.Gap(vacant, "code_missing", ("dwellings_vacant",))
    assert gap.reason_text() == ("SSB-tabell 12008 har ikke ContentsCode KOSledige0000: dwellings_vacant "
                                 "(KOSledige0000) mangler for 2015– (hull i SSB-katalogen, funn ssb_catalogue_gap)")
    care = next(s for s in catalogue.spans if s.table_id == "12003")
    assert cat.Gap(care, "table_missing", ()).reason_text().startswith("SSB-tabell 12003 finnes ikke hos SSB (404): ")
    # the stop message names the code once per gap line
    assert gap.message().count("KOSledige0000") == 1
