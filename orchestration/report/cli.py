"""`boligsosial report [--year N]`: render the report and say where it is and how long it took."""

from __future__ import annotations

import sys
from pathlib import Path


def report_command(year: int | None, out: Path | None, pdf: bool = True) -> int:
    from orchestration.report.data import ReportDataError
    from orchestration.report.render import build_report

    try:
        result = build_report(year=year, out_dir=out, pdf=pdf)
    except ReportDataError as error:
        print(f"✘ {error}", file=sys.stderr)
        return 1
    print(f"✔ Report {result.year}: {result.index}")
    print(f"  {result.municipality_pages} municipality pages in {result.directory / 'kommune'}")
    if result.pdf:
        print(f"  PDF: {result.pdf}")
    elif pdf:
        print(f"  PDF: not written – {result.pdf_note}")
    if result.synthetic:
        print("  (SYNTHETIC demo data — every page is marked SYNTETISKE DEMODATA)")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    print(f"  elapsed: {result.seconds:.1f} s ({steps})")
    return 0
