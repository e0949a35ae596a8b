"""The quality configuration without a warehouse: every suite parses with a severity, thresholds come from
quality.yaml, the follow-up register's CSV is read or refused naming row and column, the publication
calendar and "today". The machinery on real DuckDB files: integration/test_quality_units.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.quality import store
from orchestration.quality.config import load_quality_config, resolve_placeholders
from orchestration.quality.suites import load_suites, parse_suite

CONFIG = load_quality_config()
STATUSES = CONFIG["followup"]["statuses"]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_every_suite_parses_with_a_declared_severity_and_a_known_builder():
    from orchestration.quality import frames

    suites = {s.name: s for s in load_suites()}
    for suite in suites.values():
        assert suite.severity in ("ERROR", "WARNING"), suite.name
        if suite.frame and suite.frame.get("builder"):
            assert suite.frame["builder"] in frames.BUILDERS, suite.name
    # the planted demo inconsistencies are warnings (make demo publishes) …
    for name in ("skjema13_consistency", "bostotte_confusion", "kmd_iplos", "yoy_jumps", "kostra_completeness",
                 "kostra_municipality_codes"):
        assert suites[name].severity == "WARNING", name
    # … structural failures are errors (publication blocked)
    for name in ("raw_ssb_observations", "stg_kostra_values_structure", "stg_population_structure",
                 "raw_husbanken_instruments", "raw_kmd_survey", "fct_indicator_value"):
        assert suites[name].severity == "ERROR", name


def test_the_project_yaml_reader_gives_what_pyyaml_safe_load_gives_for_every_file_it_reads(tmp_path):
    """settings.read_yaml parses with libyaml (C): the same documents for every configuration file and suite, and
    a broken file still names its line."""
    import yaml

    from orchestration import settings

    files = [*settings.CONFIG_DIR.glob("*.yaml"), *settings.EXPECTATIONS_DIR.rglob("*.yml")]
    assert len(files) > 20 and yaml.__with_libyaml__
    for path in files:
        assert settings.read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path
    with pytest.raises(yaml.YAMLError, match="line 2"):
        settings.read_yaml(_write(tmp_path / "broken.yaml", "thresholds:\n  yoy: [1, 2\n"))
    with pytest.raises(yaml.YAMLError):  # no Python objects from a file: the loader is a safe one
        settings.read_yaml(_write(tmp_path / "object.yaml", "!!python/object/apply:os.system ['true']\n"))


def test_thresholds_come_from_quality_yaml():
    spec = {"a": "${kmd_iplos.municipality.max_rel}", "b": "-${kmd_iplos.municipality.max_rel}",
            "c": "x in ${missing_value_symbols}", "d": "${yoy.measures.dwellings_wheelchair.min_base}"}
    out = resolve_placeholders(spec, CONFIG, "test")
    assert out["a"] == CONFIG["kmd_iplos"]["municipality"]["max_rel"]
    assert out["b"] == -CONFIG["kmd_iplos"]["municipality"]["max_rel"]
    assert out["c"].startswith("x in [") and "':'" in out["c"]
    assert isinstance(out["d"], int)
    with pytest.raises(ValueError, match=r"my_suite.*\$\{no\.such\}"):
        parse_suite({"name": "x", "table": "a.b", "expectations": [], "severity": "${no.such}"}, CONFIG,
                    Path("my_suite.yml"))



def test_register_parses_comma_or_semicolon_with_bom(tmp_path: Path):
    comma = _write(tmp_path / "a.csv", "finding_id,status,cause,owner,deadline,note\n"
                   'kmd_iplos:0301:2017:care_dwellings,Contacted,definition,SSB,2018-10-30,"a, b"\n',
                   encoding="utf-8-sig")
    frame = store.read_register(comma, STATUSES)
    assert frame.iloc[0].to_dict() | {} == {
        "finding_id": "kmd_iplos:0301:2017:care_dwellings", "status": "contacted", "cause": "definition",
        "owner": "SSB", "deadline": dt.date(2018, 10, 30), "note": "a, b", "row_number": 2}
    semicolon = _write(tmp_path / "b.csv", "finding_id;status;deadline\nx:1;new;\n")
    frame = store.read_register(semicolon, STATUSES)
    assert frame.iloc[0]["status"] == "new" and frame.iloc[0]["deadline"] is None



def test_register_as_norwegian_excel_saves_it(tmp_path: Path):
    """Excel's plain «CSV» on a Norwegian machine: Windows-1252, semicolons, dates as 30.10.2018, CRLF."""
    text = ("finding_id;status;cause;owner;deadline;note\r\n"
            "kmd_iplos:0301:2017:care_dwellings;contacted;definisjon;Bærum kommune;30.10.2018;«sjekk» – ø\r\n"
            "kmd_iplos:1101:2017:care_dwellings;new;;;1.2.2019;\r\n")
    path = tmp_path / "oppfolging.csv"
    path.write_bytes(text.encode("cp1252"))
    frame = store.read_register(path, STATUSES)
    assert frame["deadline"].tolist() == [dt.date(2018, 10, 30), dt.date(2019, 2, 1)]
    assert frame["owner"].tolist()[0] == "Bærum kommune" and frame["note"].tolist()[0] == "«sjekk» – ø"
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(text.encode("utf-8-sig"))  # «CSV UTF-8»: the same register
    assert store.read_register(utf8, STATUSES).equals(frame)


def test_register_that_is_neither_utf8_nor_windows_1252_is_refused_naming_the_row(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"finding_id;status\r\na:1;new\r\na:2;new\x81\r\n")
    with pytest.raises(store.RegisterError) as info:
        store.read_register(path, STATUSES)
    assert info.value.errors == ["row 3: byte 0x81 is neither UTF-8 nor Windows-1252 text; save the register "
                                 "from Excel as «CSV UTF-8» and drop it again"]
    control = tmp_path / "c.csv"
    control.write_bytes(b"finding_id;status;note\r\na:1;new;ok\x00\r\n")
    with pytest.raises(store.RegisterError, match="row 2, column note: contains the control character U\\+0000"):
        store.read_register(control, STATUSES)


def test_register_errors_name_row_and_column(tmp_path: Path):
    path = _write(tmp_path / "r.csv", "finding_id,status,cause,owner,deadline,note\n"
                  "a:1,contacted,,,2018-10-30,\n"
                  "a:2,kontaktet,,,2018-10-30,\n"
                  "a:3,new,,,30/10/2018,\n"
                  "a:1,new,,,2018-02-30,\n")
    with pytest.raises(store.RegisterError) as info:
        store.read_register(path, STATUSES)
    errors = info.value.errors
    assert "row 3, column status: unknown status 'kontaktet' (allowed: new, contacted, explained, resolved)" in errors
    assert "row 4, column deadline: '30/10/2018' is not a date (write 30.10.2018 or 2018-10-30)" in errors
    assert "row 5, column finding_id: 'a:1' is already in row 2" in errors
    assert "row 5, column deadline: '2018-02-30' is not a date (write 30.10.2018 or 2018-10-30)" in errors
    missing = _write(tmp_path / "m.csv", "finding,status\nx,new\n")
    with pytest.raises(store.RegisterError, match="row 1, column finding_id: missing column"):
        store.read_register(missing, STATUSES)



def test_due_periods_follow_the_publication_calendar():
    from orchestration.quality.freshness import due_month, due_year

    assert due_year(dt.date(2026, 6, 30), "07-01", 1) == 2024      # 2025 figures are due by 1 July 2026
    assert due_year(dt.date(2026, 7, 1), "07-01", 1) == 2025
    assert due_year(dt.date(2026, 11, 23), "07-01", 1) == 2025
    assert due_month(dt.date(2026, 11, 23), 2) == (2026, 9)
    assert due_month(dt.date(2026, 2, 1), 2) == (2025, 12)



def test_today_is_injectable_in_one_place(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOLIGSOSIAL_TODAY", "2026-11-23")
    assert store.today() == dt.date(2026, 11, 23)
    monkeypatch.setenv("BOLIGSOSIAL_TODAY", "23.11.2026")
    with pytest.raises(ValueError, match="BOLIGSOSIAL_TODAY"):
        store.today()
    monkeypatch.delenv("BOLIGSOSIAL_TODAY")
    assert store.today() == dt.date.today()



def test_freshness_config_errors_name_the_entry():
    from orchestration.quality.freshness import load_rules

    assert {r.check_name for r in load_rules(CONFIG)} >= {"freshness_ssb_12008", "freshness_husbanken_monthly"}
    with pytest.raises(ValueError, match=r"sources\[1\].*max_lag_months"):
        load_rules({"freshness": {"sources": [{"measure": "husbanken/monthly", "rule": "monthly"}]}})
    with pytest.raises(ValueError, match="not one of"):
        load_rules({"freshness": {"sources": [{"measure": "x", "rule": "weekly"}]}})
