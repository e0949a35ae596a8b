"""The synthetic KOSTRA grouping (KLASS 112 and its correspondence with 131), one answer per date.

KLASS's `classifications/112/correspondsAt?targetClassificationId=131&date=D` answers the grouping in
force on D for the municipalities valid on D. The real membership was not reachable from here, so the
demo ships a synthetic one in KLASS's own shape (`"synthetic": true`), one file per date on which either
the grouping was revised (2008, 2016, 2020, 2024: `GROUPING_DATES`) or the set of municipality codes
changed; the replay server (tests/fakes/klass_replay.py) serves the newest file dated ≤ D, as KLASS does.

The 2024 grouping: 0301 Oslo → EKG13 and 1103 Stavanger, 4601 Bergen, 5001 Trondheim → EKG12 (public
evidence, unverified), every other municipality `sha256(code) mod 11 + 1`. An earlier grouping starts
from the 2024 group of the municipality's successor in the 2024 structure, and about one municipality
in ten (by a hash of the grouping's year and the successor code, so a renumbering keeps its group) sits
one group away: the revisions moved municipalities between neighbouring groups. Deterministic: `make
demo-data` writes the same bytes every time.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

GROUPING_DATES = ("2008-01-01", "2016-01-01", "2020-01-01", "2024-01-01")
CURRENT = GROUPING_DATES[-1]
# Public evidence (tests of a public R package asserting live answers): Oslo alone in EKG13, the three
# next largest cities in EKG12. These never move.
ANCHORS = {"0301": "EKG13", "1103": "EKG12", "4601": "EKG12", "5001": "EKG12"}
GROUP_COUNT = 17
HASHED_GROUPS = 11
MOVE_ONE_IN = 10

PROVENANCE_GROUPS = (
    "SYNTHETIC stand-in for GET /classifications/112/codes: codes EKG01-EKG17 named 'KOSTRA-gruppe N' "
    "(the naming seen in public code that mocks KLASS). Validity dates are not real. Written by "
    "tools/demo_data/kostra_groups.py (make demo-data). See README.md."
)


def _provenance(day: str) -> str:
    return (
        f"SYNTHETIC stand-in for GET /classifications/112/correspondsAt?targetClassificationId=131&date={day}: "
        f"the grouping of {grouping_date(day)[:4]} on the municipalities valid on {day}. Only 0301->EKG13 and "
        "1103/4601/5001->EKG12 match public evidence; the 2024 grouping puts every other municipality in "
        "EKG01-EKG11 by sha256(code) mod 11, and earlier groupings move one in ten of them to a neighbouring "
        "group. Written by tools/demo_data/kostra_groups.py (make demo-data). Replace with the real KLASS "
        "answers when the network allows."
    )


def grouping_date(day: str) -> str:
    return max(g for g in GROUPING_DATES if g <= day)


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode("ascii")).hexdigest(), 16)


def current_group(code: str) -> str:
    """The 2024 group of a municipality of the 2024 structure."""
    return ANCHORS.get(code) or f"EKG{_hash(code) % HASHED_GROUPS + 1:02d}"


def group_in(grouping: str, successor: str) -> str:
    """The group under `grouping` (a date of GROUPING_DATES) of a municipality whose 2024 successor is
    `successor`."""
    group = current_group(successor)
    if grouping == CURRENT or successor in ANCHORS or _hash(f"{grouping[:4]}:{successor}") % MOVE_ONE_IN:
        return group
    n = int(group[3:])
    return f"EKG{n + 1 if n < HASHED_GROUPS else n - 1:02d}"


def _valid_on(code: dict[str, Any], day: str) -> bool:
    return (code["validFrom"] or "") <= day and (code["validTo"] is None or day < code["validTo"])


def documents(klass_dir: Path) -> dict[str, str]:
    """file name → exact content, from the committed 131 extract and its crosswalk to 2024."""
    codes = json.loads((klass_dir / "131_codes.json").read_text(encoding="utf-8"))["codes"]
    with (klass_dir / "municipality_crosswalk_2024.csv").open(encoding="utf-8", newline="") as fh:
        successors: dict[tuple[int, str], str] = {}
        for row in csv.DictReader(fh):  # a split code: its first successor in code order
            key = (int(row["year"]), row["reported_code"])
            successors[key] = min(successors.get(key, row["reference_code"]), row["reference_code"])
    structure_dates = {c["validFrom"] for c in codes if c["validFrom"]} | {c["validTo"] for c in codes if c["validTo"]}
    structures: dict[frozenset[str], str] = {}
    dates = []
    for day in sorted(d for d in structure_dates | set(GROUPING_DATES) if GROUPING_DATES[0] <= d <= CURRENT):
        key = frozenset(c["code"] for c in codes if _valid_on(c, day))
        if day in GROUPING_DATES or key not in structures:  # a renaming alone needs no new answer
            structures[key] = day
            dates.append(day)
    groups = [
        {"code": f"EKG{n:02d}", "parentCode": None, "level": "1", "name": f"KOSTRA-gruppe {n}", "shortName": "",
         "presentationName": "", "validFrom": None, "validTo": None,
         "validFromInRequestedRange": "2008-01-01", "validToInRequestedRange": "2026-01-01", "notes": ""}
        for n in range(1, GROUP_COUNT + 1)
    ]
    names = {g["code"]: g["name"] for g in groups}
    files = {"112_kostra_groups.json": dump_klass_json({"_provenance": PROVENANCE_GROUPS, "synthetic": True, "codes": groups})}
    for day in dates:
        items = []
        for c in codes:
            if not _valid_on(c, day):
                continue
            group = group_in(grouping_date(day), successors[(int(day[:4]), c["code"])])
            items.append({"sourceCode": group, "sourceName": names[group], "targetCode": c["code"],
                          "targetName": c["name"]})
        items.sort(key=lambda i: (i["sourceCode"], i["targetCode"]))
        files[f"112_131_correspondence_{day}.json"] = dump_klass_json(
            {"_provenance": _provenance(day), "synthetic": True, "correspondenceItems": items})
    return files


def write(klass_dir: Path) -> list[Path]:
    for stale in klass_dir.glob("112_131_correspondence_*.json"):
        stale.unlink()
    written = []
    for name, text in documents(klass_dir).items():
        (klass_dir / name).write_text(text, encoding="utf-8", newline="\n")
        written.append(klass_dir / name)
    return written


def dump_klass_json(doc: dict[str, Any]) -> str:
    """JSON with one record per line, as scripts/build_klass_extract.py writes the real files."""
    parts = []
    for key, value in doc.items():
        if isinstance(value, list):
            body = ",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f" {json.dumps(key)}: [\n{body}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
