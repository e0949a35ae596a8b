"""The fødselsnummer checker and the dwelling-register column mapping, without warehouse or files on disk.

Check digits below are worked by hand (weights 3 7 6 1 8 9 4 5 2 and 5 4 3 2 7 6 5 4 3 2, mod 11):
010190 124 → k1: 0+7+0+1+72+0+4+10+8 = 102, 102 mod 11 = 3, 11−3 = 8; k2: 0+4+0+2+63+0+5+8+12+16 = 110,
mod 11 = 0 → 0. So 01019012480. The D-number 410190 124 → k1 = 7 (sum 114), k2 = 4 (sum 128).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from orchestration.ingest.files import dwelling_register as dr
from orchestration.ingest.files.personal_data import (_id_shaped, holds_national_id, is_national_id, screen_cells,
                                                       with_check_digits)
from orchestration.ingest.files.excel import Sheet, Spreadsheet


@pytest.mark.parametrize("value", ["01019012480", "010190 12480", "010190-12480", 1019012480, 1019012480.0,
                                   "1019012480", "41019012474"])
def test_valid_numbers_are_recognised_in_the_shapes_exports_give(value):
    assert is_national_id(value)


@pytest.mark.parametrize("value", [
    "01019012481",   # second check digit wrong
    "01019012470",   # first check digit wrong
    "32019012480",   # day 32 is no date (and no D-number)
    "01139012480",   # month 13
    "0101901248",    # 10 digits that are not an Excel-shortened number of 11
    "B0301-00012",   # a dwelling id
    12345, None, True, "", "abc",
])
def test_other_values_are_not(value):
    assert not is_national_id(value)


def test_with_check_digits_agrees_with_the_hand_computation():
    assert with_check_digits("010190124") == "01019012480"
    assert with_check_digits("410190124") == "41019012474"
    assert with_check_digits("010190123") is None  # k1 would be 10: no such number


def test_synthetic_test_numbers_month_plus_80_are_refused_too():
    number = with_check_digits("018190124")
    assert number and is_national_id(number)


@given(day=st.integers(1, 31), d_number=st.booleans(), month=st.integers(1, 12), month_plus=st.sampled_from([0, 40, 80]),
       rest=st.integers(0, 99999), separators=st.lists(st.sampled_from(["", "", " ", "\u00a0", "\u202f", ".", "-", "  ", " " * 40]),
                                                    min_size=12, max_size=12), excel_number=st.booleans())
def test_the_cheap_gate_lets_every_number_the_checker_accepts_through(day, d_number, month, month_plus, rest,
                                                                       separators, excel_number):
    """Both screens ask `holds_national_id`: the shape first (`_id_shaped`), then the check digits; a shape it
    turned away would be an identity number let through."""
    number = with_check_digits(f"{day + 40 * d_number:02d}{month + month_plus:02d}{rest:05d}")
    assume(number is not None)
    if excel_number:  # stored as a number: the leading zero is gone
        assert holds_national_id(int(number)) and holds_national_id(float(number))
    text = "".join(sep + digit for sep, digit in zip(separators, number)) + separators[-1]
    assert is_national_id(text) and holds_national_id(text)
    sheet = Sheet("Ark", [["Løpenummer"], [text], [text]])
    assert screen_cells([sheet], "x.xlsx", is_csv=False)  # refused by value, whatever the shape


@pytest.mark.parametrize("value", ["Nord-Aurdal", "<4", "Kommunalt disponerte boliger", "0301",
                                   "12 345", "1.234,5"])
def test_the_cheap_gate_turns_away_names_symbols_and_figures(value):
    assert not _id_shaped(value)


def test_a_superscript_is_no_digit_of_an_identity_number():
    assert not is_national_id("\u00b2" * 11) and not is_national_id("0101901248\u00b2")  # isdigit() but not int()


def _book(header, *rows):
    return Spreadsheet("x.csv", [Sheet("", [list(header), *map(list, rows)])], is_csv=True)


HEADER = ["Bolig-ID", "Kommunenummer", "Referansedato", "Boligtype", "Eierform", "Rullestoltilgjengelig",
          "Status", "Målgruppe", "Aldersgruppe", "Innflyttet"]
ROW = ["B1", "0301", "31.12.2024", "Omsorgsbolig", "Eid", "Ja", "Bebodd", "Eldre mv.", "80 år og over", "01.01.2020"]


def test_a_clean_file_passes_the_screen():
    assert dr.screen(_book(HEADER, ROW), "f.csv") == []


@pytest.mark.parametrize("column, kind", [("Fødselsnummer", "identity number"), ("Fnr", "identity number"),
                                          ("Navn", "name"), ("Leietaker", "name"), ("Etternavn", "name"),
                                          ("Etasje", "not one of the fields")])
def test_a_column_is_refused_by_its_name_and_named(column, kind):
    problems = dr.screen(_book([*HEADER, column], [*ROW, ""]), "f.csv")
    assert len(problems) == 1 and f'column "{column}"' in problems[0] and kind in problems[0]


def test_an_identity_number_under_any_column_name_is_found_and_no_value_is_repeated():
    problems = dr.screen(_book([*HEADER, "Kommentar"], [*ROW, "ok"], [*ROW[:-1], "01.02.2020", "01019012480"]), "f.csv")
    assert len(problems) == 1
    assert 'column "Kommentar"' in problems[0] and "1 row(s), first row 3" in problems[0]
    assert "01019012480" not in problems[0]


def test_the_dwelling_id_column_is_scanned_as_well():
    problems = dr.screen(_book(HEADER, ["01019012480", *ROW[1:]]), "f.csv")
    assert len(problems) == 1 and 'column "Bolig-ID"' in problems[0]


def test_known_labels_map_to_fields_and_values_to_codes():
    config = dr.load_config()
    columns = dr.column_lookup(config)
    assert columns["brukergruppe"] == "target_group" and columns["kommunenr."] == "municipality_code"
    values = dr.value_lookup(config)
    assert values["target_group"]["psykiske problemer og rusproblemer"] == "psykisk_rus"
    assert values["dwelling_type"]["omsorg+"] == "omsorg_pluss"
    assert values["age_band"]["80 år og over"] == "80_plus"
    # every label maps to exactly one code: no label is listed under two codes
    for field, codes in config["values"].items():
        labels = [lbl.casefold() for lbls in codes.values() for lbl in lbls]
        assert len(labels) == len(set(labels)), field
