"""Personal-data screening: every file source refuses a file holding identity numbers before it is stored.

A Norwegian national identity number is 11 digits DDMMYYIIIKK with two mod-11 check digits. Variants
that carry the same check digits: the D-number (day + 40), the H-number (month + 40) and the synthetic
test numbers of Skatteetaten's Tenor (month + 80). A number is taken as one when its date part is
plausible and both check digits match; a random 11-digit string passes by chance about once in 130.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from orchestration import settings

CONFIG_PATH = settings.CONFIG_DIR / "personal_data.yaml"
HEADER_ROWS = 10  # where a file's header can be: the labels are looked for in a sheet's first rows

WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_SEPARATORS = re.compile(r"[\s\u00a0.\-]")
# what is_national_id can accept: 10 or 11 digits, with any _SEPARATORS around and between them
_ID_TEXT = re.compile(r"[\s\u00a0.\-]*(?:\d[\s\u00a0.\-]*){10,11}")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    rest = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if rest == 11 else None if rest == 10 else rest


def is_national_id(value: Any) -> bool:
    """True for an 11-digit fødselsnummer, D-number, H-number or synthetic test number with valid check digits.

    Accepts the shapes people's exports produce: text with spaces, dots or a hyphen ("010190 12345"), and a
    number from Excel that lost its leading zero (10 digits).
    """
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, float):
        if not value.is_integer():
            return False
        value = int(value)
    if isinstance(value, int):
        text = f"{value:011d}" if 0 < value < 10**11 else ""
    else:
        text = _SEPARATORS.sub("", str(value))
        if len(text) == 10 and text.isdecimal():  # a text copy of an Excel number
            text = "0" + text
    if len(text) != 11 or not text.isdecimal():  # not isdigit(): «²» is a digit that int() refuses
        return False
    day, month = int(text[0:2]), int(text[2:4])
    if day > 40:  # D-number
        day -= 40
    if month > 80:  # Tenor synthetic
        month -= 80
    elif month > 40:  # H-number
        month -= 40
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    k1 = _check_digit(text[:9], WEIGHTS_1)
    if k1 is None or k1 != int(text[9]):
        return False
    k2 = _check_digit(text[:10], WEIGHTS_2)
    return k2 is not None and k2 == int(text[10])


def with_check_digits(first_nine: str) -> str | None:
    """The 11-digit number for nine leading digits, or None when no valid check digit exists (tests, demo)."""
    k1 = _check_digit(first_nine, WEIGHTS_1)
    if k1 is None:
        return None
    k2 = _check_digit(first_nine + str(k1), WEIGHTS_2)
    return None if k2 is None else f"{first_nine}{k1}{k2}"


def label_matches(label: str, patterns: list[str]) -> str | None:
    """The first configured pattern (a regular expression, matched case-insensitively) the label matches."""
    for pattern in patterns:
        if re.search(pattern, label, re.IGNORECASE):
            return pattern
    return None


@lru_cache(maxsize=1)
def rules() -> dict:
    """config/personal_data.yaml: label patterns and the value rule."""
    return settings.read_yaml(CONFIG_PATH)


def screen_cells(sheets: list, file: str, is_csv: bool, config: dict | None = None) -> list[str]:
    """Why a file of any source must be refused before it is stored: a column of fødselsnumre / D-numbers
    (by value), or a header label naming one. Messages name file, sheet, row and column, never a value."""
    config = config or rules()
    problems: list[str] = []
    for sheet in sheets:
        where = "" if is_csv else f"sheet «{sheet.title}», "
        width = max((len(r) for r in sheet.rows), default=0)
        for c in range(width):
            cells = [(r + 1, row[c]) for r, row in enumerate(sheet.rows) if c < len(row)
                     and row[c] is not None and (not isinstance(row[c], str) or row[c].strip())]
            label = next(((r, str(v).strip()) for r, v in cells[:HEADER_ROWS] if isinstance(v, str)
                          and len(v.strip()) <= 40 and label_matches(v.strip(), config["id_columns"])), None)
            if label:
                problems.append(f'{file}: {where}row {label[0]}, column {c + 1} "{label[1]}": names an identity '
                                f'number; personal data is refused, nothing of the file is stored')
                continue
            if not config.get("scan_values", True):
                continue
            hits = [r for r, v in cells if holds_national_id(v)]
            if hits and len(hits) >= config.get("id_value_share", 0.5) * len(cells):
                problems.append(f"{file}: {where}column {c + 1}: holds a national identity number (fødselsnummer/"
                                f"D-nummer) in {len(hits)} row(s), first row {hits[0]}; personal data is refused, "
                                f"nothing of the file is stored")
    return problems


def holds_national_id(value: Any) -> bool:
    """`is_national_id` behind a cheap test of the cell's shape: what a screen asks of every cell it reads."""
    return _id_shaped(value) and is_national_id(value)


def _id_shaped(value: Any) -> bool:
    """Text of 10–11 digits and separators only, or a whole number of 10–11 digits (an identity number that
    Excel stored as a number): a cheap test before the check digits, which most cells never reach."""
    if isinstance(value, str):
        return _ID_TEXT.fullmatch(value) is not None
    if isinstance(value, float) and not value.is_integer():
        return False
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 10**9 <= value < 10**11
