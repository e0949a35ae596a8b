"""Numbers as the SSB working group reads them, in the digest, in alerts and in quality findings."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

_NBSP = "\u00a0"


def format_number(value: float | int | None, *, signed: bool = False) -> str:
    """Norwegian style, e.g. `12 345,68`: no-break space between thousands, decimal comma."""
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if number.is_integer() or abs(number) >= 1000:
        decimals = 0
    elif abs(number) >= 1:
        decimals = 2
    else:  # small rates keep two significant digits instead of becoming 0
        decimals = min(6, 1 - math.floor(math.log10(abs(number))))
    # Half-up like SSB tables and Excel (format() rounds half-even: 9876.5 would show as 9 876).
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0"
    text = f"{rounded:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    text = text.replace(",", _NBSP).replace(".", ",")
    return f"+{text}" if signed and rounded > 0 else text
