"""Personal-data screening for files that must never hold it (the dwelling registers).

A Norwegian national identity number is 11 digits DDMMYYIIIKK with two mod-11 check digits. Variants
that carry the same check digits: the D-number (day + 40), the H-number (month + 40) and the synthetic
test numbers of Skatteetaten's Tenor (month + 80). A number is taken as one when its date part is
plausible and both check digits match; a random 11-digit string passes by chance about once in 130.
"""

from __future__ import annotations

import re
from typing import Any

WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_SEPARATORS = re.compile(r"[\s\u00a0.\-]")


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
        if len(text) == 10 and text.isdigit():  # a text copy of an Excel number
            text = "0" + text
    if len(text) != 11 or not text.isdigit():
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
