"""Demo KMD survey «Bruk av kommunale boliger» (SSB 2018, figures for 2017).

`kmd_survey/bruk_av_kommunale_boliger_2017.xlsx`: one row per municipality valid at the end of 2017;
about 77 % answered («Besvart» Ja), the others have «..» in every figure. Omsorgsboliger sit within
±10 % of the world's care dwellings (what IPLOS counts), except for eight planted municipalities
(`planted_kmd_deviations(world)`) that report ×0.3 or ×2.5, the strong deviations the SSB working
group follows up. Nationally the answers split about 42 / 56 / 2 % into omsorgsboliger, dwellings for
disadvantaged households and dwellings without means-testing. Marked synthetic like the other
workbooks (a «Merknad» sheet and document properties).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from tools.demo_data.husbanken_files import names_at, weights_at
from tools.demo_data.world import SYNTHETIC_NOTE, DemoWorld, stable_uniform
from tools.demo_data.workbook import write_workbook_deterministic

SOURCE_DIR = "kmd_survey"
FILE_NAME = "bruk_av_kommunale_boliger_2017.xlsx"
YEAR = 2017
PLANTED_FACTORS = (0.3, 0.3, 0.3, 0.3, 2.5, 2.5, 2.5, 2.5)
HEADER = ["Kommunenummer", "Kommunenavn", "Besvart", "Omsorgsboliger", "Boliger til vanskeligstilte",
          "Boliger uten behovsprøving", "Boliger finansiert med investeringstilskudd"]


def _u(world: DemoWorld, *parts: str) -> float:
    return stable_uniform(str(world.seed), "kmd", *parts)


@lru_cache(maxsize=2)
def _base(world: DemoWorld) -> pd.DataFrame:
    """Per 2017 code: dwellings, care dwellings (the IPLOS side) and whether the municipality answered."""
    codes, matrix = weights_at(world, YEAR)
    frame = pd.DataFrame({
        "total": np.round(matrix @ world.figures["dwellings_total"][YEAR].to_numpy(dtype=float)),
        "care": np.round(matrix @ world.figures["care_dwellings"][YEAR].to_numpy(dtype=float)),
        "population": matrix @ world.population[YEAR].to_numpy(dtype=float),
    }, index=codes)
    size = np.clip((np.log10(frame.population.clip(lower=100)) - 3.0) / 2.0, 0, 1)
    # larger municipalities answer more often; about 77 % overall
    frame["answered"] = [_u(world, "answered", c) < 0.655 + 0.3 * s for c, s in zip(codes, size)]
    return frame


@lru_cache(maxsize=2)
def survey_frame(world: DemoWorld) -> pd.DataFrame:
    """The survey as numbers: index = 2017 codes; `answered`, the four counts, `care_dwellings_true`."""
    base = _base(world)
    factors = dict(zip(planted_kmd_deviations(world), PLANTED_FACTORS))
    rows = {}
    for code, b in base.iterrows():
        without_share = 0.0 if _u(world, "without", code) < 0.5 else 0.01 + 0.08 * _u(world, "without-share", code)
        without = round(b.total * without_share)
        disadvantaged = round(max(b.total - b.care - without, 0) * (0.95 + 0.1 * _u(world, "dis", code)))
        care = round(b.care * factors.get(code, 0.9 + 0.2 * _u(world, "care", code)))
        rows[code] = {"answered": bool(b.answered), "care_dwellings": care,
                      "disadvantaged_dwellings": disadvantaged, "non_means_tested_dwellings": without,
                      "investment_grant_dwellings": round(care * (0.3 + 0.5 * _u(world, "grant", code))),
                      "care_dwellings_true": b.care}
    return pd.DataFrame.from_dict(rows, orient="index")


def planted_kmd_deviations(world: DemoWorld) -> list[str]:
    """The eight 2017 codes (all answered, ≥ 30 care dwellings) whose omsorgsboliger deviate strongly
    from the care-dwelling figures: the first four report ×0.3, the last four ×2.5."""
    base = _base(world)
    candidates = [c for c in base.index if base.answered[c] and base.care[c] >= 30]
    return sorted(candidates, key=lambda c: _u(world, "planted", c))[: len(PLANTED_FACTORS)]


def write(world: DemoWorld, out_dir: Path) -> list[Path]:
    """Write the survey workbook into `<out_dir>/kmd_survey/`; returns its path."""
    frame = survey_frame(world)
    names = names_at(world, YEAR)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Bruk av kommunale boliger")
    ws.append(HEADER)
    measures = ["care_dwellings", "disadvantaged_dwellings", "non_means_tested_dwellings", "investment_grant_dwellings"]
    for code, row in frame.iterrows():
        values = [int(row[m]) for m in measures] if row["answered"] else [".."] * len(measures)
        ws.append([code, names[code], "Ja" if row["answered"] else "Nei", *values])
    note = wb.create_sheet("Merknad")
    note.append([SYNTHETIC_NOTE])
    note.append(["KMDs kartlegging «Bruk av kommunale boliger» (tall for 2017) – oppdiktede svar."])
    wb.properties.title = f"Bruk av kommunale boliger 2017 – {SYNTHETIC_NOTE}"
    wb.properties.description = SYNTHETIC_NOTE
    wb.properties.creator = "boligsosial demo"
    path = Path(out_dir) / SOURCE_DIR / FILE_NAME
    return [write_workbook_deterministic(wb, path, dt.datetime.fromisoformat(world.generated_at()))]
