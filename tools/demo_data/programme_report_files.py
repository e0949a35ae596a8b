"""Demo programme reports 2016–2018 and the programme list, as the data team would receive them.

- `programme_reports/rapportering_kommuneprogrammet_<year>.xlsx` for 2016, 2017 and 2018: one row per
  programme municipality (with the municipality codes valid that year, e.g. Trondheim 1601 before
  2018), one column per question with that year's wording from `config/programme_questions.yaml`;
  answers in the formats the forms gave (Ja/Nei, «4 - I stor grad», free text);
- `programme_list/programme_municipalities.csv`: the 70 municipalities (2019 codes), their programme
  and validity years, `synthetic` true on every row.

Every workbook has a «Merknad» sheet and document properties with the synthetic note.

Levels follow the report: yes shares for routines on the private rental market 88 → 91 %, eviction
help 89 → 97 %, klagenemnd 5 «nei» in 2016 and none after, boligsosiale hensyn all «ja» from 2017;
the own number sums to 325 (2017) and 192 (2018) with table 3.1's split by size. Free-text answers come
from programme_answers.py: sentence banks per goal in the style of the real answers, nynorsk, typos,
negations and a few hostile cells (HTML, formula, very long, mojibake).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from tools.demo_data import programme_answers
from tools.demo_data.world import SYNTHETIC_NOTE, DemoWorld, stable_uniform
from tools.demo_data.workbook import write_workbook_deterministic
from orchestration.ingest.files.programme_reports import load_config

SOURCE_DIR = "programme_reports"
LIST_DIR = "programme_list"
REPORT_YEARS = (2016, 2017, 2018)

# How many of the 70 answered «ja» (report figures 3.8, 3.13, 3.15, 3.16).
YES_COUNTS = {
    "yn_private_rental_guidance_routines": {2016: 62, 2017: 63, 2018: 64},
    "yn_eviction_systems": {2016: 62, 2017: 65, 2018: 68},
    "yn_complaints_board": {2016: 65, 2017: 70, 2018: 70},
    "yn_planning_housing_considerations": {2016: 67, 2017: 70, 2018: 70},
}
# New dwellings for substance-abuse / mental-health groups by size class (table 3.1; 2016 invented).
OWN_NUMBER = {2016: {"large": 150, "medium": 105, "small": 5},
              2017: {"large": 175, "medium": 150, "small": 0},
              2018: {"large": 113, "medium": 77, "small": 2}}
SCALE_TEXT = {1: "I svært liten grad", 2: "I liten grad", 3: "I noen grad", 4: "I stor grad", 5: "I svært stor grad"}

def _timestamp(world: DemoWorld) -> dt.datetime:
    return dt.datetime.fromisoformat(world.generated_at())


@lru_cache(maxsize=8)
def codes_in_year(world: DemoWorld, year: int) -> dict[str, str]:
    """Each programme municipality's 2019 code → the code it had at the end of `year`: the same code if
    it existed, else the predecessor with the same name (Trondheim 5001 ← 1601), else the one
    sharing most of its area in the world's composition."""
    then = world.composition_at(f"{year}-12-31")
    in_2019 = world.composition_at("2019-12-31")
    out = {}
    for code in world.programme_municipalities.municipality_code:
        if code in then:
            out[code] = code
            continue
        parts = in_2019.get(code, {code: 1.0})
        overlap = {c: sum(min(w, then[c].get(ref, 0.0)) for ref, w in parts.items()) for c in sorted(then)}
        name = world.name(code, "2019-12-31")
        out[code] = max((c for c in overlap if overlap[c] > 0),
                        key=lambda c: (world.name(c, f"{year}-12-31") == name, overlap[c]))
    return out


def _answer_text(world: DemoWorld, qid: str, goal: int, year: int, code: str, name: str) -> str | None:
    u = lambda *parts: stable_uniform(str(world.seed), "programme-text", qid, str(year), code, *parts)  # noqa: E731
    nynorsk = stable_uniform(str(world.seed), "programme-nynorsk", code) < 0.15  # a municipality keeps its form
    return programme_answers.answer_text(u, qid, goal, year, name, nynorsk)


def answers_frame(world: DemoWorld, year: int) -> pd.DataFrame:
    """The year's answers as a frame: rows = programme municipalities (2019 codes), cols = question ids."""
    config = load_config()
    members = world.programme_municipalities
    codes = list(members.municipality_code)
    names = dict(zip(members.municipality_code, members.municipality_name))
    size = dict(zip(members.municipality_code, members.size_class_2019))
    out = pd.DataFrame(index=codes)
    for qid, question in config["questions"].items():
        if year not in question["labels"]:
            continue
        kind, goal = question["kind"], int(question["goal"])
        if kind == "yes_no":
            order = sorted(codes, key=lambda c: stable_uniform(str(world.seed), "programme-no", qid, c))
            noes = set(order[: len(codes) - YES_COUNTS[qid][year]])
            yes, no = ("ja", "nei") if year == 2017 else ("Ja", "Nei")
            out[qid] = [no if c in noes else yes for c in codes]
        elif kind == "scale_1_5":
            rng = world.rng(f"programme:{qid}:{year}")
            latent = np.array([stable_uniform(str(world.seed), "programme-scale", c) for c in codes])
            score = np.clip(np.round(2.0 + 0.35 * (year - 2016) + 1.8 * latent + rng.normal(0, 0.4, len(codes))), 1, 5)
            out[qid] = [_scale_cell(int(s), year) for s in score]
        elif kind == "number":
            out[qid] = _own_numbers(world, year, codes, size)
        else:
            out[qid] = [_answer_text(world, qid, goal, year, c, names[c]) for c in codes]
    return out


def _scale_cell(score: int, year: int) -> int | str:
    if year == 2016:
        return SCALE_TEXT[score]
    if year == 2017:
        return f"{score} - {SCALE_TEXT[score]}"
    return score


def _own_numbers(world: DemoWorld, year: int, codes: list[str], size: dict[str, str]) -> list[int]:
    pop = world.as_reported(world.population, 2020, "2019-12-31")
    rng = world.rng(f"programme:own-number:{year}")
    counts = dict.fromkeys(codes, 0)
    for cls, total in OWN_NUMBER[year].items():
        members = [c for c in codes if size[c] == cls]
        active = [c for c in members if rng.random() < 0.65] or members
        weights = np.array([pop.get(c, 5000.0) ** 0.7 for c in active])
        for c, n in zip(active, rng.multinomial(total, weights / weights.sum())):
            counts[c] = int(n)
    return [counts[c] for c in codes]


def report_workbook(world: DemoWorld, year: int, path: Path) -> Path:
    config = load_config()
    answers = answers_frame(world, year)
    year_codes = codes_in_year(world, year)
    submitted = dt.datetime(year + 1, 2, 1, 12, 0)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"Rapportering {year}")
    qids = list(answers.columns)
    identity = ["Kommunenummer", "Kommune"] + (["Rapporteringsår"] if year == 2018 else []) + ["Innsendt"]
    ws.append(identity + [config["questions"][q]["labels"][year] for q in qids])
    for i, code in enumerate(answers.index):
        code_then = year_codes[code]
        name = world.name(code_then, f"{year}-12-31")
        row = [code_then, name] + ([year] if year == 2018 else []) + [submitted + dt.timedelta(hours=7 * i)]
        ws.append(row + [None if pd.isna(v) else v for v in answers.loc[code, qids]])
    note = wb.create_sheet("Merknad")
    note.append([SYNTHETIC_NOTE])
    note.append([f"Rapportering fra kommunene i Husbankens kommuneprogram {year} – oppdiktede svar."])
    wb.properties.title = f"Kommuneprogrammet – rapportering {year} – {SYNTHETIC_NOTE}"
    wb.properties.description = SYNTHETIC_NOTE
    wb.properties.creator = "boligsosial demo"
    return write_workbook_deterministic(wb, path, _timestamp(world))


def programme_list_csv(world: DemoWorld) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["municipality_code", "municipality_name", "programme", "valid_from_year", "valid_to_year",
                     "synthetic"])
    for row in world.programme_municipalities.itertuples():
        writer.writerow([row.municipality_code, row.municipality_name, row.programme, row.valid_from_year,
                         row.valid_to_year, "true"])
    return out.getvalue()


def write(world: DemoWorld, out_dir: Path) -> list[Path]:
    """The three yearly reports into `<out_dir>/programme_reports/` and the programme list into
    `<out_dir>/programme_list/`; returns the paths."""
    out_dir = Path(out_dir)
    paths = [report_workbook(world, year, out_dir / SOURCE_DIR / f"rapportering_kommuneprogrammet_{year}.xlsx")
             for year in REPORT_YEARS]
    list_path = out_dir / LIST_DIR / "programme_municipalities.csv"
    list_path.parent.mkdir(parents=True, exist_ok=True)
    list_path.write_text(programme_list_csv(world), encoding="utf-8")
    return paths + [list_path]
