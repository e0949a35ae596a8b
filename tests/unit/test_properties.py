"""Property-based tests (hypothesis): arbitrary bytes and mutated real files give a clear error or a
correct load, never a crash and never a silent partial load."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orchestration.ingest.files import husbanken
from orchestration.ingest.files.excel import FileRejected, FileValidationError, read_spreadsheet
from orchestration.ingest.ssb.jsonstat import JsonStatError, parse_jsonstat2
from repo_paths import FIXTURES
from spreadsheets import xlsx_bytes

KOSTRA = json.loads((FIXTURES / "ssb" / "12008" / "data.json").read_text(encoding="utf-8"))
BOSTOTTE_CSV = (FIXTURES / "files" / "husbanken" / "bostotte_cp1252.csv").read_bytes()
HEADER = ["Kommunenummer", "Kommune", "År", "Formål", "Antall husstander", "Herav barnefamilier"]
STARTLAN_XLSX = xlsx_bytes(HEADER, [["0301", "Oslo", 2019, "Kjøp av bolig", 500, 300],
                                    ["1101", "Eigersund", 2019, "Kjøp av bolig", 12, 17]], "Startlån")
CLEAR_ERRORS = (FileValidationError, FileRejected)
# HYPOTHESIS_EXAMPLES=1000 for a thorough search; the default keeps `make test` quick.
PROPERTY = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=False, width=32) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:3]):
            yield from _paths(value, prefix + (i,))


PATHS = [p for p in _paths(KOSTRA) if p]


def _cells(doc) -> int:
    return int(np.prod(doc["size"], dtype=np.int64))


def _assert_complete(doc, frame) -> None:
    """A load is all the cells the document declares, one row each: never some of them."""
    assert len(frame) == _cells(doc)


@PROPERTY
@given(path=st.sampled_from(PATHS), value=json_values)
def test_jsonstat_with_any_part_replaced_loads_completely_or_says_what_is_wrong(path, value):
    doc = copy.deepcopy(KOSTRA)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        frame = parse_jsonstat2(doc, "12008")
    except JsonStatError as err:
        assert "12008" in str(err) or "?" in str(err)
        event("refused")
        return
    event("loaded")
    _assert_complete(doc, frame)


@PROPERTY
@given(data=st.binary(max_size=400))
def test_jsonstat_from_arbitrary_bytes(data):
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return  # the client reports undecodable JSON as «malformed JSON from <url>»
    try:
        frame = parse_jsonstat2(doc, "99999")
    except JsonStatError:
        return
    _assert_complete(doc, frame)


def _parse(data: bytes, name: str):
    try:
        return husbanken.parse_file(data, name)
    except CLEAR_ERRORS as err:
        assert str(err).startswith(name)  # every message names the file
        return None


@PROPERTY
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_husbanken_reader_on_arbitrary_bytes(data, suffix):
    _parse(data, f"bostotte_2019{suffix}")


@PROPERTY
@given(position=st.integers(0, len(STARTLAN_XLSX) - 1), byte=st.integers(0, 255),
       cut=st.integers(0, len(STARTLAN_XLSX)))
def test_damaged_or_truncated_xlsx_is_refused_or_read_whole(position, byte, cut):
    data = bytearray(STARTLAN_XLSX)
    data[position] = byte
    parsed = _parse(bytes(data[:cut]), "startlan_2019.xlsx")
    event("refused" if parsed is None else "loaded")
    if parsed is not None:  # the damage missed everything that matters: the whole file, as sent
        assert sorted(set(parsed.frame["row_number"])) == [2, 3]
        assert len(parsed.frame) == 4


mutation = st.tuples(st.sampled_from(["delete", "insert", "replace"]), st.integers(0, len(BOSTOTTE_CSV) - 1),
                     st.sampled_from(list(b";,\r\n\"0123456789 aZ\x00\xe6") + [0xff]))


@PROPERTY
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_csv_is_refused_or_every_data_row_is_loaded(mutations):
    data = bytearray(BOSTOTTE_CSV)
    for kind, position, byte in mutations:
        position = min(position, len(data) - 1)
        if kind == "delete":
            del data[position]
        elif kind == "insert":
            data.insert(position, byte)
        else:
            data[position] = byte
    name = "bostotte_2019.csv"
    parsed = _parse(bytes(data), name)
    event("refused" if parsed is None else "loaded")
    if parsed is None:
        return
    # No silent partial load: every non-blank row below the header gave records, or was a total row
    # the load log counts.
    rows = read_spreadsheet(bytes(data), name).sheets[0].rows
    header = next(i for i, r in enumerate(rows) if any(v is not None for v in r))
    for note in parsed.notes:
        if note.startswith("header found in row "):
            header = int(note.split()[4]) - 1
    body = [i + 1 for i, r in enumerate(rows) if i > header and any(v is not None for v in r)]
    totals = sum(int(n.split()[0]) for n in parsed.notes if n.endswith("total row(s) skipped"))
    loaded = set(parsed.frame["row_number"])
    missing = [r for r in body if r not in loaded]
    assert len(missing) == totals, (missing, parsed.notes)


def test_the_fixtures_load_unmutated():
    assert len(_parse(BOSTOTTE_CSV, "bostotte_2019.csv").frame) > 0
    assert len(parse_jsonstat2(KOSTRA, "12008")) == _cells(KOSTRA)


@pytest.mark.parametrize("data", [b"", b"\x00" * 10, b"PK\x03\x04"])
def test_degenerate_files_get_a_message(data):
    with pytest.raises(CLEAR_ERRORS):
        husbanken.parse_file(data, "startlan_2019.xlsx")
